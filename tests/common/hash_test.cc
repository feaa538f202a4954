#include "common/hash.h"

#include <gtest/gtest.h>

#include <string_view>

namespace pom {
namespace {

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(Hash, Sha256KnownAnswers) {
  Sha256Hasher h;
  EXPECT_EQ(ToHex(h.Digest(Bytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(ToHex(h.Digest(Bytes(""))),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // The reused context gives the same answer again.
  EXPECT_EQ(ToHex(h.Digest(Bytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Hash, Blake2b256KnownAnswers) {
  Blake2b256Hasher h;
  EXPECT_EQ(ToHex(h.Digest(Bytes(""))),
            "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
  EXPECT_EQ(ToHex(h.Digest(Bytes("abc"))),
            "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
}

template <typename H>
void ExpectIncrementalEqualsOneShot() {
  H h;
  const std::string_view text = "the quick brown fox jumps over the lazy dog";
  const Bytes32 one_shot = h.Digest(Bytes(text));
  h.Begin();
  h.Update(Bytes(text.substr(0, 7)));
  h.Update(Bytes(text.substr(7)));
  EXPECT_EQ(h.Finish(), one_shot);
}

TEST(Hash, IncrementalEqualsOneShot) {
  ExpectIncrementalEqualsOneShot<Sha256Hasher>();
  ExpectIncrementalEqualsOneShot<Blake2b256Hasher>();
}

TEST(Hash, MovedSha256HasherStillWorks) {
  Sha256Hasher a;
  Sha256Hasher b(std::move(a));
  EXPECT_EQ(ToHex(b.Digest(Bytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(ToHex(a.Digest(Bytes("abc"))),  // NOLINT: a moved-from hasher stays usable
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace pom
