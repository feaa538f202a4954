// The two 32-byte hashers the tree is parameterized on:
//  - Sha256Hasher: SHA-256 for pom's own proofs. Messages up to 119 bytes take the short path of
//    common/internal/sha256_short.h (the CPU's SHA extensions, or OpenSSL without them); longer
//    ones and the incremental API use OpenSSL's low-level SHA256_* functions (deprecated in
//    OpenSSL 3 but still shipped; ~20 ns less per call than EVP, bench/README.md).
//  - Blake2b256Hasher: unkeyed BLAKE2b with a 32-byte digest through libsodium (reproduces
//    Fusotao's trees byte for byte).
// Both offer a one-shot Digest(), DigestMany() for a batch of independent messages (the
// verifier's root pairs hash their tree messages in batches), and an incremental
// Begin/Update/Finish.
// Thread-safety: a hasher instance is not thread-safe (it owns a context); use one per thread.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include <sodium.h>

#include "common/bytes.h"
#include "common/internal/sha256_short.h"

#include <openssl/sha.h>

namespace pom {

// One message of a batch for DigestMany: *out = Digest(message).
struct HashJob {
  std::span<const uint8_t> message;
  Bytes32* out;
};

class Sha256Hasher {
 public:
  static constexpr std::string_view kName = "sha256";

  Sha256Hasher() = default;
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;
  Sha256Hasher(Sha256Hasher&&) noexcept = default;
  Sha256Hasher& operator=(Sha256Hasher&&) noexcept = default;

  Bytes32 Digest(std::span<const uint8_t> data);
  // Every job's digest; short messages are compressed up to four at a time.
  void DigestMany(std::span<const HashJob> jobs);
  // For callers that write many messages of 56..119 bytes (all two blocks) themselves: each is
  // written at the start of a 128-byte buffer and padded there (PadTwoBlocks); the digests then
  // need no further copy. *outs[i] = Digest(the message in blocks[i]).
  static void PadTwoBlocks(uint8_t* block, size_t len) { crypto_internal::PadTwoBlocks(block, len); }
  void DigestPaddedTwoBlocks(std::span<const uint8_t* const> blocks, std::span<Bytes32* const> outs);

  void Begin();
  void Update(std::span<const uint8_t> data);
  Bytes32 Finish();

 private:
  SHA256_CTX ctx_{};
};

class Blake2b256Hasher {
 public:
  static constexpr std::string_view kName = "blake2b256";

  Blake2b256Hasher();

  Bytes32 Digest(std::span<const uint8_t> data);
  void DigestMany(std::span<const HashJob> jobs) {
    for (const HashJob& job : jobs) *job.out = Digest(job.message);
  }

  void Begin();
  void Update(std::span<const uint8_t> data);
  Bytes32 Finish();

 private:
  crypto_generichash_state state_;
};

// Calls sodium_init() once per process; every libsodium user goes through it.
void EnsureSodiumInitialized();

}  // namespace pom
