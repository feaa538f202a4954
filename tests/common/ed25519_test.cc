#include "common/ed25519.h"

#include <gtest/gtest.h>

namespace pom {
namespace {

std::vector<uint8_t> Hex(std::string_view s) { return *FromHex(s); }

// RFC 8032 section 7.1, TEST 1 and TEST 2.
TEST(Ed25519, Rfc8032Vectors) {
  {
    const KeyPair kp = KeyPairFromSeed(
        *Bytes32FromHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
    EXPECT_EQ(ToHex(kp.public_key.bytes),
              "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    const Signature sig = Sign(kp.secret_key, {});
    EXPECT_EQ(ToHex(sig.bytes),
              "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bac"
              "c61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
    EXPECT_TRUE(Verify(kp.public_key, {}, sig));
  }
  {
    const KeyPair kp = KeyPairFromSeed(
        *Bytes32FromHex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"));
    EXPECT_EQ(ToHex(kp.public_key.bytes),
              "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c");
    const std::vector<uint8_t> msg = Hex("72");
    const Signature sig = Sign(kp.secret_key, msg);
    EXPECT_EQ(ToHex(sig.bytes),
              "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e"
              "458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00");
    EXPECT_TRUE(Verify(kp.public_key, msg, sig));
  }
}

TEST(Ed25519, RejectsTamperedMessageSignatureAndKey) {
  const KeyPair kp = GenerateKeyPair();
  const KeyPair other = GenerateKeyPair();
  std::vector<uint8_t> msg = {1, 2, 3, 4};
  const Signature sig = Sign(kp.secret_key, msg);
  ASSERT_TRUE(Verify(kp.public_key, msg, sig));
  EXPECT_FALSE(Verify(other.public_key, msg, sig));
  for (size_t i = 0; i < sig.bytes.size(); ++i) {
    Signature bad = sig;
    bad.bytes[i] ^= 0x01;
    EXPECT_FALSE(Verify(kp.public_key, msg, bad)) << "signature byte " << i;
  }
  msg[0] ^= 1;
  EXPECT_FALSE(Verify(kp.public_key, msg, sig));
}

TEST(Ed25519, GeneratedKeysDiffer) {
  EXPECT_NE(GenerateKeyPair().public_key, GenerateKeyPair().public_key);
}

TEST(Ed25519, AllZeroKeyAndSignatureAreRefused) {
  const std::vector<uint8_t> msg = {7};
  EXPECT_FALSE(Verify(PublicKey{}, msg, Signature{}));
}

}  // namespace
}  // namespace pom
