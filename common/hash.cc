#include "common/hash.h"

#include <utility>

#include <openssl/evp.h>

#include "common/check.h"

namespace pom {
namespace {

// Fetched once: an implicit fetch inside every EVP_DigestInit_ex would cost a lookup per hash.
const EVP_MD* Sha256Md() {
  static const EVP_MD* md = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    POM_CHECK_MSG(fetched != nullptr, "OpenSSL has no SHA256");
    return fetched;
  }();
  return md;
}

}  // namespace

void EnsureSodiumInitialized() {
  static const int result = sodium_init();
  POM_CHECK_MSG(result >= 0, "sodium_init failed");
}

Sha256Hasher::Sha256Hasher() : ctx_(EVP_MD_CTX_new()) { POM_CHECK(ctx_ != nullptr); }

Sha256Hasher::~Sha256Hasher() { EVP_MD_CTX_free(ctx_); }

Sha256Hasher::Sha256Hasher(Sha256Hasher&& other) noexcept
    : ctx_(std::exchange(other.ctx_, EVP_MD_CTX_new())) {}

Sha256Hasher& Sha256Hasher::operator=(Sha256Hasher&& other) noexcept {
  std::swap(ctx_, other.ctx_);
  return *this;
}

void Sha256Hasher::Begin() { POM_CHECK(EVP_DigestInit_ex2(ctx_, Sha256Md(), nullptr) == 1); }

void Sha256Hasher::Update(std::span<const uint8_t> data) {
  POM_CHECK(EVP_DigestUpdate(ctx_, data.data(), data.size()) == 1);
}

Bytes32 Sha256Hasher::Finish() {
  Bytes32 out;
  unsigned int len = 0;
  POM_CHECK(EVP_DigestFinal_ex(ctx_, out.data(), &len) == 1 && len == 32);
  return out;
}

Bytes32 Sha256Hasher::Digest(std::span<const uint8_t> data) {
  Begin();
  Update(data);
  return Finish();
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
