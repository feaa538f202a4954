#include "common/hash.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <string_view>
#include <vector>

#include <openssl/sha.h>

#include "common/internal/sha256_short.h"

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

Bytes32 OpenSslSha256(const std::vector<uint8_t>& data) {
  Bytes32 out;
  SHA256(data.data(), data.size(), out.data());
  return out;
}

std::vector<uint8_t> Pattern(size_t len, uint8_t seed) {
  std::vector<uint8_t> data(len);
  for (size_t i = 0; i < len; ++i) data[i] = static_cast<uint8_t>(seed * 31 + i * 7 + (i >> 3));
  return data;
}

// Every length around the one/two-block boundary (55/56) and the short limit (119/120), on
// whichever path this CPU takes (the test prints which), against OpenSSL's one-shot SHA256.
TEST(Hash, Sha256ShortPathEqualsOpenSslAtEveryLength) {
  std::printf("SHA extensions: %s\n", crypto_internal::ShaExtensionsAvailable() ? "yes" : "no");
  Sha256Hasher h;
  for (size_t len = 0; len <= 200; ++len) {
    for (uint8_t seed : {uint8_t{1}, uint8_t{200}}) {
      const std::vector<uint8_t> data = Pattern(len, seed);
      ASSERT_EQ(h.Digest(data), OpenSslSha256(data)) << "len=" << len;
      if (len <= crypto_internal::kShortMax) {
        Bytes32 portable;
        crypto_internal::Sha256ShortPortable(data.data(), data.size(), portable.data());
        ASSERT_EQ(portable, OpenSslSha256(data)) << "len=" << len;
      }
    }
  }
}

// Pairs of every combination of block counts (same and different), both orders.
TEST(Hash, Sha256DigestManyOfTwoEqualsTwoDigests) {
  Sha256Hasher h;
  for (size_t len_a = 0; len_a <= 130; len_a += 5) {
    for (size_t len_b = 0; len_b <= 130; len_b += 3) {
      const std::vector<uint8_t> a = Pattern(len_a, 3), b = Pattern(len_b, 4);
      Bytes32 out_a, out_b;
      const HashJob jobs[2] = {{a, &out_a}, {b, &out_b}};
      h.DigestMany(jobs);
      ASSERT_EQ(out_a, OpenSslSha256(a)) << len_a << "," << len_b;
      ASSERT_EQ(out_b, OpenSslSha256(b)) << len_a << "," << len_b;
    }
  }
}

// Batches of every size up to 40 with lengths of one and two blocks mixed (and some too long for
// the short path), so that every grouping into fours, twos and ones occurs.
TEST(Hash, Sha256DigestManyEqualsOneDigestEach) {
  Sha256Hasher h;
  Blake2b256Hasher blake;
  for (size_t count = 0; count <= 40; ++count) {
    std::vector<std::vector<uint8_t>> messages;
    for (size_t i = 0; i < count; ++i) {
      const size_t len = (i * 37 + count * 11) % 140;  // 0..139: one block, two, and beyond
      messages.push_back(Pattern(len, static_cast<uint8_t>(i + count)));
    }
    std::vector<Bytes32> out(count), blake_out(count);
    std::vector<HashJob> jobs, blake_jobs;
    for (size_t i = 0; i < count; ++i) {
      jobs.push_back({messages[i], &out[i]});
      blake_jobs.push_back({messages[i], &blake_out[i]});
    }
    h.DigestMany(jobs);
    blake.DigestMany(blake_jobs);
    for (size_t i = 0; i < count; ++i) {
      ASSERT_EQ(out[i], OpenSslSha256(messages[i])) << "count=" << count << " i=" << i << " len=" << messages[i].size();
      ASSERT_EQ(blake_out[i], blake.Digest(messages[i])) << "count=" << count << " i=" << i;
    }
  }
}

// Messages of every two-block length written into their own blocks and padded there, in batches
// of every size up to 9 (fours, a pair, a single).
TEST(Hash, Sha256DigestPaddedTwoBlocksEqualsDigest) {
  Sha256Hasher h;
  for (size_t count = 1; count <= 9; ++count) {
    for (size_t base = 56; base <= crypto_internal::kShortMax; ++base) {
      std::vector<std::array<uint8_t, 128>> blocks(count);
      std::vector<std::vector<uint8_t>> messages;
      std::vector<const uint8_t*> block_ptrs;
      std::vector<Bytes32> out(count);
      std::vector<Bytes32*> out_ptrs;
      for (size_t i = 0; i < count; ++i) {
        const size_t len = 56 + (base - 56 + 7 * i) % (crypto_internal::kShortMax - 55);
        messages.push_back(Pattern(len, static_cast<uint8_t>(i * 13 + base)));
        blocks[i].fill(0xee);  // stale bytes the padding must overwrite
        std::copy(messages[i].begin(), messages[i].end(), blocks[i].begin());
        Sha256Hasher::PadTwoBlocks(blocks[i].data(), len);
        block_ptrs.push_back(blocks[i].data());
        out_ptrs.push_back(&out[i]);
      }
      h.DigestPaddedTwoBlocks(block_ptrs, out_ptrs);
      for (size_t i = 0; i < count; ++i) {
        ASSERT_EQ(out[i], OpenSslSha256(messages[i])) << "count=" << count << " len=" << messages[i].size();
      }
    }
  }
}

}  // namespace
}  // namespace pom
