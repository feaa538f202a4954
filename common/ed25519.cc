#include "common/ed25519.h"

#include <sodium.h>

#include "common/check.h"
#include "common/hash.h"

namespace pom {

static_assert(crypto_sign_PUBLICKEYBYTES == 32);
static_assert(crypto_sign_SECRETKEYBYTES == 64);
static_assert(crypto_sign_BYTES == 64);
static_assert(crypto_sign_SEEDBYTES == 32);

SecretKey::~SecretKey() { sodium_memzero(bytes.data(), bytes.size()); }

KeyPair GenerateKeyPair() {
  EnsureSodiumInitialized();
  KeyPair kp;
  POM_CHECK(crypto_sign_keypair(kp.public_key.bytes.data(), kp.secret_key.bytes.data()) == 0);
  return kp;
}

KeyPair KeyPairFromSeed(const Bytes32& seed) {
  EnsureSodiumInitialized();
  KeyPair kp;
  POM_CHECK(crypto_sign_seed_keypair(kp.public_key.bytes.data(), kp.secret_key.bytes.data(),
                                     seed.data()) == 0);
  return kp;
}

Signature Sign(const SecretKey& key, std::span<const uint8_t> message) {
  EnsureSodiumInitialized();
  Signature sig;
  POM_CHECK(crypto_sign_detached(sig.bytes.data(), nullptr, message.data(), message.size(),
                                 key.bytes.data()) == 0);
  return sig;
}

bool Verify(const PublicKey& key, std::span<const uint8_t> message, const Signature& signature) {
  EnsureSodiumInitialized();
  return crypto_sign_verify_detached(signature.bytes.data(), message.data(), message.size(),
                                     key.bytes.data()) == 0;
}

}  // namespace pom
