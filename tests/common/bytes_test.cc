#include "common/bytes.h"

#include <gtest/gtest.h>

namespace pom {
namespace {

TEST(Bytes, HexRoundTrip) {
  const std::vector<uint8_t> raw = {0x00, 0x01, 0xab, 0xff};
  EXPECT_EQ(ToHex(raw), "0001abff");
  absl::StatusOr<std::vector<uint8_t>> back = FromHex("0001ABff");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, raw);
}

TEST(Bytes, HexRejectsBadInput) {
  EXPECT_FALSE(FromHex("abc").ok());
  EXPECT_FALSE(FromHex("0g").ok());
  EXPECT_FALSE(FromHex(" 00").ok());
  EXPECT_FALSE(Bytes32FromHex("00").ok());
  EXPECT_TRUE(Bytes32FromHex(std::string(64, 'f')).ok());
}

TEST(Bytes, U128LittleEndian) {
  const u128 v = (u128{0x0102030405060708ULL} << 64) | 0x090a0b0c0d0e0f10ULL;
  uint8_t buf[16];
  PutU128Le(v, buf);
  EXPECT_EQ(buf[0], 0x10);
  EXPECT_EQ(buf[15], 0x01);
  EXPECT_EQ(GetU128Le(buf), v);
}

TEST(Bytes, HalvesPackLoThenHi) {
  const Bytes32 v = PackHalves(1, 2);
  EXPECT_EQ(ToHex(v), "01000000000000000000000000000000" "02000000000000000000000000000000");
  auto [lo, hi] = UnpackHalves(v);
  EXPECT_EQ(lo, u128{1});
  EXPECT_EQ(hi, u128{2});
}

TEST(Bytes, NumericOrderComparesFromByte31) {
  Bytes32 a, b;
  a[0] = 0xff;  // low byte large
  b[31] = 0x01;  // high byte larger
  EXPECT_TRUE(Bytes32NumericLess()(a, b));
  EXPECT_FALSE(Bytes32NumericLess()(b, a));
  EXPECT_FALSE(Bytes32NumericLess()(a, a));
}

TEST(Bytes, LittleEndianIntegers) {
  uint8_t buf[8];
  PutU32Le(0xdeadbeef, buf);
  EXPECT_EQ(buf[0], 0xef);
  EXPECT_EQ(GetU32Le(buf), 0xdeadbeefu);
  PutU64Le(0x0123456789abcdefULL, buf);
  EXPECT_EQ(buf[7], 0x01);
  EXPECT_EQ(GetU64Le(buf), 0x0123456789abcdefULL);
}

}  // namespace
}  // namespace pom
