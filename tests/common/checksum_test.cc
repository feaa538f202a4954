#include "common/checksum.h"

#include <string>

#include "gtest/gtest.h"

namespace pom {
namespace {

TEST(Checksum, SealedRecordRoundTrips) {
  const std::string sealed = SealRecord("key", "payload");
  ASSERT_EQ(sealed.size(), kSealBytes + 7);
  absl::StatusOr<std::string_view> payload = UnsealRecord("key", sealed);
  ASSERT_TRUE(payload.ok()) << payload.status();
  EXPECT_EQ(*payload, "payload");
}

TEST(Checksum, EveryFlippedBitIsCaught) {
  const std::string sealed = SealRecord("journal/7", "a command of some length");
  for (size_t i = 0; i < sealed.size() * 8; ++i) {
    std::string bad = sealed;
    bad[i / 8] = static_cast<char>(bad[i / 8] ^ (1 << (i % 8)));
    EXPECT_EQ(UnsealRecord("journal/7", bad).status().code(), absl::StatusCode::kDataLoss) << i;
  }
}

TEST(Checksum, WrongKeyShortAndTornValuesAreCaught) {
  const std::string sealed = SealRecord("a", "payload");
  EXPECT_EQ(UnsealRecord("b", sealed).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(UnsealRecord("a", sealed.substr(0, 5)).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(UnsealRecord("a", sealed.substr(0, sealed.size() - 1)).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(Checksum, KnownValueIsXxh3) {
  // XXH3-64 of the empty input with seed 0 (xxHash's published test value).
  EXPECT_EQ(RecordChecksum("", ""), 0x2D06800538D394C2ull);
}

}  // namespace
}  // namespace pom
