// Ed25519 signatures through libsodium: key generation (random or from a 32-byte seed),
// signing and verification, with fixed-size types. An account id is its public key.
// Thread-safety: pure functions; safe from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "common/bytes.h"

namespace pom {

struct PublicKey {
  std::array<uint8_t, 32> bytes{};
  friend bool operator==(const PublicKey&, const PublicKey&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const PublicKey& k) {
    return H::combine_contiguous(std::move(h), k.bytes.data(), k.bytes.size());
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
