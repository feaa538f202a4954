#include "common/money.h"

#include <boost/multiprecision/cpp_int.hpp>
#include <gtest/gtest.h>

#include <random>

#include "common/internal/u256.h"
#include "tests/testing/random.h"

namespace pom {
namespace {

using boost::multiprecision::uint256_t;

uint256_t Big(u128 v) {
  uint256_t r = static_cast<uint64_t>(v >> 64);
  r <<= 64;
  r += static_cast<uint64_t>(v);
  return r;
}

u128 Raw(std::string_view s) {
  absl::StatusOr<u128> r = ParseDecimal(s);
  EXPECT_TRUE(r.ok()) << s << ": " << r.status();
  return r.ok() ? *r : 0;
}

TEST(Money, ParsesDecimals) {
  EXPECT_EQ(Raw("0"), u128{0});
  EXPECT_EQ(Raw("1"), kScale);
  EXPECT_EQ(Raw("12.5"), 12 * kScale + kScale / 2);
  EXPECT_EQ(Raw("0.000000000000000001"), u128{1});
  EXPECT_EQ(Raw("007.50"), 7 * kScale + kScale / 2);
  EXPECT_EQ(Raw("340282366920938463463.374607431768211455"), kU128Max);
}

TEST(Money, RejectsBadDecimalsWithClearErrors) {
  struct Case {
    const char* text;
    const char* problem;
  };
  const Case cases[] = {
      {"", "empty"},
      {"-1", "signs are not allowed"},
      {"+1", "signs are not allowed"},
      {"1e5", "exponents are not allowed"},
      {"1.5E2", "exponents are not allowed"},
      {" 1", "whitespace at position 0"},
      {"1 ", "whitespace at position 1"},
      {"1.0\n", "whitespace at position 3"},
      {".5", "no digit before the decimal point"},
      {"1.", "no digit after the decimal point"},
      {"1.0000000000000000001", "more than 18 decimals"},
      {"340282366920938463463.374607431768211456", "too large"},
      {"340282366920938463464", "too large"},
      {"99999999999999999999999999999999999999999", "too large"},
      {"1,5", "unexpected character at position 1"},
      {"1.2.3", "unexpected character at position 3"},
      {"0x10", "unexpected character at position 1"},
      {"NaN", "unexpected character at position 0"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<u128> r = ParseDecimal(c.text);
    ASSERT_FALSE(r.ok()) << "accepted \"" << c.text << "\"";
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.problem), std::string_view::npos)
        << c.text << " -> " << r.status().message();
  }
}

TEST(Money, ErrorQuotesAreBounded) {
  const std::string huge(100000, '9');
  absl::StatusOr<u128> r = ParseDecimal(huge);
  ASSERT_FALSE(r.ok());
  EXPECT_LT(r.status().message().size(), 200u);
}

TEST(Money, FormatsCanonically) {
  EXPECT_EQ(FormatDecimal(u128{0}), "0");
  EXPECT_EQ(FormatDecimal(kScale), "1");
  EXPECT_EQ(FormatDecimal(12 * kScale + kScale / 2), "12.5");
  EXPECT_EQ(FormatDecimal(u128{1}), "0.000000000000000001");
  EXPECT_EQ(FormatDecimal(kU128Max), "340282366920938463463.374607431768211455");
  EXPECT_EQ(FormatDecimal(Amount::FromUnits(3)), "3");
}

TEST(Money, FormatParseRoundTripRandom) {
  for (uint64_t seed : testing::TestSeeds({11, 12})) {
    SCOPED_TRACE(testing::SeedBanner(seed));
    testing::Rng rng(seed);
    for (int i = 0; i < 20000; ++i) {
      u128 v = rng.NextU128() >> rng.Uniform(0, 127);
      absl::StatusOr<u128> back = ParseDecimal(FormatDecimal(v));
      ASSERT_TRUE(back.ok());
      ASSERT_EQ(*back, v);
    }
  }
}

TEST(Money, CheckedAddSub) {
  EXPECT_EQ(CheckedAdd(u128{1}, u128{2}), u128{3});
  EXPECT_FALSE(CheckedAdd(kU128Max, u128{1}).has_value());
  EXPECT_EQ(CheckedSub(u128{5}, u128{2}), u128{3});
  EXPECT_FALSE(CheckedSub(u128{2}, u128{5}).has_value());
  const Amount a = Amount::FromUnits(2), b = Amount::FromUnits(3);
  EXPECT_EQ(CheckedAdd(a, b), Amount::FromUnits(5));
  EXPECT_FALSE(CheckedSub(a, b).has_value());
}

TEST(Money, NotionalRoundsInTheNamedDirection) {
  const Price p = *ParsePrice("3");
  const Amount a = Amount::FromRaw(1);  // 10^-18
  EXPECT_EQ(NotionalFloor(p, a)->raw(), u128{3});
  const Price third = Price::FromRaw(kScale / 3);  // 0.333...
  const Amount one = Amount::FromRaw(1);
  EXPECT_EQ(NotionalFloor(third, one)->raw(), u128{0});
  EXPECT_EQ(NotionalCeil(third, one)->raw(), u128{1});
  EXPECT_FALSE(NotionalFloor(Price::FromRaw(kU128Max), Amount::FromRaw(kU128Max)).has_value());
}

TEST(Money, MulDivMatchesBigIntegerReference) {
  for (uint64_t seed : testing::TestSeeds({21, 22, 23})) {
    SCOPED_TRACE(testing::SeedBanner(seed));
    testing::Rng rng(seed);
    for (int i = 0; i < 50000; ++i) {
      const u128 a = rng.NextU128() >> rng.Uniform(0, 127);
      const u128 b = rng.NextU128() >> rng.Uniform(0, 127);
      u128 c = rng.NextU128() >> rng.Uniform(0, 127);
      if (rng.OneIn(4)) c = kScale;
      if (rng.OneIn(50)) c = 0;
      const money_internal::U256 p = money_internal::Mul128(a, b);
      ASSERT_EQ((Big(p.hi) << 128) + Big(p.lo), Big(a) * Big(b));
      std::optional<u128> floor = MulDivFloor(a, b, c);
      std::optional<u128> ceil = MulDivCeil(a, b, c);
      if (c == 0) {
        ASSERT_FALSE(floor.has_value());
        ASSERT_FALSE(ceil.has_value());
        continue;
      }
      const uint256_t product = Big(a) * Big(b);
      const uint256_t q = product / Big(c);
      const uint256_t q_up = q + (product % Big(c) != 0 ? 1 : 0);
      const uint256_t limit = Big(kU128Max);
      if (q > limit) {
        ASSERT_FALSE(floor.has_value());
      } else {
        ASSERT_TRUE(floor.has_value());
        ASSERT_EQ(Big(*floor), q);
      }
      if (q_up > limit) {
        ASSERT_FALSE(ceil.has_value());
      } else {
        ASSERT_TRUE(ceil.has_value());
        ASSERT_EQ(Big(*ceil), q_up);
      }
    }
  }
}

}  // namespace
}  // namespace pom

namespace pom {
namespace {

TEST(Money, RemainderMatchesTheBuiltInOperator) {
  std::mt19937_64 rng(7);
  auto wide = [&] { return (static_cast<u128>(rng()) << 64) | rng(); };
  for (int i = 0; i < 200000; ++i) {
    const u128 x = i % 3 == 0 ? rng() : wide();
    u128 m;
    switch (i % 5) {
      case 0: m = static_cast<u128>(1) << (rng() % 64); break;   // powers of two
      case 1: m = 1 + rng() % 1000; break;                        // small
      case 2: m = 1 + (rng() >> (rng() % 64)); break;             // below 2^64, high part of x above it
      case 3: m = 1 + wide(); break;                              // 2^64 and more
      default:  // ticks and lots: powers of ten up to 10^18
        m = 1;
        for (uint64_t k = rng() % 19; k > 0; --k) m *= 10;
        break;
    }
    ASSERT_EQ(Remainder(x, m), x % m) << i;
  }
  EXPECT_EQ(Remainder(~u128{0}, ~uint64_t{0}), ~u128{0} % ~uint64_t{0});
}

}  // namespace
}  // namespace pom
