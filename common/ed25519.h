// Ed25519 signatures through libsodium: key generation (random or from a 32-byte seed),
// signing and verification, with fixed-size types. An account id is its public key.
// Thread-safety: pure functions; safe from any thread.
#pragma once

#include <array>
#include <cstring>
#include <cstdint>
#include <span>

#include "common/bytes.h"

namespace pom {

struct PublicKey {
  std::array<uint8_t, 32> bytes{};
  // Word-wise: the defaulted form calls memcmp, and keys are compared on every balance, nonce
  // and ownership check.
  friend bool operator==(const PublicKey& a, const PublicKey& b) {
    uint64_t diff = 0;
    for (size_t i = 0; i < 32; i += 8) {
      uint64_t x, y;
      std::memcpy(&x, a.bytes.data() + i, 8);
      std::memcpy(&y, b.bytes.data() + i, 8);
      diff |= x ^ y;
    }
    return diff == 0;
  }
  // Hashes the first 16 bytes only: keys are curve points nobody can choose byte by byte
  // (matching 16 bytes of a given key takes ~2^128 key generations, of any two ~2^64), absl's
  // hash is seeded per process, and 16 bytes mix as two words instead of through the long-input
  // hash (docs/decisions.md).
  template <typename H>
  friend H AbslHashValue(H h, const PublicKey& k) {
    uint64_t lo, hi;
    std::memcpy(&lo, k.bytes.data(), 8);
    std::memcpy(&hi, k.bytes.data() + 8, 8);
    return H::combine(std::move(h), lo, hi);
  }
};

struct Signature {
  std::array<uint8_t, 64> bytes{};
  friend bool operator==(const Signature&, const Signature&) = default;
};

// libsodium's 64-byte secret key (seed || public key). Wiped when destroyed.
class SecretKey {
 public:
  SecretKey() = default;
  ~SecretKey();
  SecretKey(const SecretKey&) = default;
  SecretKey& operator=(const SecretKey&) = default;

  std::array<uint8_t, 64> bytes{};
};

struct KeyPair {
  PublicKey public_key;
  SecretKey secret_key;
};

// A fresh key pair from the operating system's randomness.
KeyPair GenerateKeyPair();
// The key pair determined by a 32-byte seed (deterministic; used by generators and tests).
KeyPair KeyPairFromSeed(const Bytes32& seed);

Signature Sign(const SecretKey& key, std::span<const uint8_t> message);
// True iff `signature` is a valid signature of `message` by `key` (libsodium's strict checks:
// non-canonical encodings and small-order keys are refused).
[[nodiscard]] bool Verify(const PublicKey& key, std::span<const uint8_t> message,
                          const Signature& signature);

}  // namespace pom
