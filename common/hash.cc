// The SHA256_* functions are deprecated in OpenSSL 3 (still shipped); see hash.h.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "common/hash.h"

#include <algorithm>
#include <utility>

#include "common/check.h"
#include "common/internal/sha256_short.h"

namespace pom {

void EnsureSodiumInitialized() {
  static const int result = sodium_init();
  POM_CHECK_MSG(result >= 0, "sodium_init failed");
}

void Sha256Hasher::Begin() { POM_CHECK(SHA256_Init(&ctx_) == 1); }

void Sha256Hasher::Update(std::span<const uint8_t> data) {
  POM_CHECK(SHA256_Update(&ctx_, data.data(), data.size()) == 1);
}

Bytes32 Sha256Hasher::Finish() {
  Bytes32 out;
  POM_CHECK(SHA256_Final(out.data(), &ctx_) == 1);
  return out;
}

Bytes32 Sha256Hasher::Digest(std::span<const uint8_t> data) {
  if (data.size() <= crypto_internal::kShortMax) {
    Bytes32 out;
    crypto_internal::Sha256Short(data.data(), data.size(), out.data());
    return out;
  }
  Begin();
  Update(data);
  return Finish();
}

void Sha256Hasher::DigestMany(std::span<const HashJob> jobs) {
  constexpr size_t kChunk = 16;
  crypto_internal::ShortMessage batch[kChunk];
  size_t n = 0;
  for (const HashJob& job : jobs) {
    if (job.message.size() > crypto_internal::kShortMax) {
      *job.out = Digest(job.message);
      continue;
    }
    batch[n++] = {job.message.data(), job.message.size(), job.out->data()};
    if (n == kChunk) {
      crypto_internal::Sha256ShortMany(batch, n);
      n = 0;
    }
  }
  if (n != 0) crypto_internal::Sha256ShortMany(batch, n);
}

void Sha256Hasher::DigestPaddedTwoBlocks(std::span<const uint8_t* const> blocks, std::span<Bytes32* const> outs) {
  POM_CHECK(blocks.size() == outs.size());
  constexpr size_t kChunk = 16;
  uint8_t* out[kChunk];
  for (size_t first = 0; first < blocks.size(); first += kChunk) {
    const size_t n = std::min(kChunk, blocks.size() - first);
    for (size_t i = 0; i < n; ++i) out[i] = outs[first + i]->data();
    crypto_internal::Sha256PaddedTwoBlocks(blocks.data() + first, out, n);
  }
}

Blake2b256Hasher::Blake2b256Hasher() { EnsureSodiumInitialized(); }

void Blake2b256Hasher::Begin() {
  POM_CHECK(crypto_generichash_init(&state_, nullptr, 0, 32) == 0);
}

void Blake2b256Hasher::Update(std::span<const uint8_t> data) {
  POM_CHECK(crypto_generichash_update(&state_, data.data(), data.size()) == 0);
}

Bytes32 Blake2b256Hasher::Finish() {
  Bytes32 out;
  POM_CHECK(crypto_generichash_final(&state_, out.data(), 32) == 0);
  return out;
}

Bytes32 Blake2b256Hasher::Digest(std::span<const uint8_t> data) {
  Bytes32 out;
  POM_CHECK(crypto_generichash(out.data(), 32, data.data(), data.size(), nullptr, 0) == 0);
  return out;
}

}  // namespace pom
