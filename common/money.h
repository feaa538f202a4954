// Fixed-point money: every amount and price is an unsigned 128-bit integer scaled by 10^18.
// No floating point anywhere. Arithmetic is checked (nullopt on overflow); products go through
// a 256-bit intermediate and name their rounding direction. Decimal strings are parsed strictly.
// Thread-safety: value types and pure functions.
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/bytes.h"
#include "common/internal/u256.h"

namespace pom {

inline constexpr u128 kScale = 1'000'000'000'000'000'000ULL;  // 10^18
inline constexpr int kScaleDecimals = 18;
inline constexpr u128 kU128Max = ~u128{0};

// A distinct fixed-point type per quantity, so a price cannot be passed as an amount.
template <typename Tag>
class Fixed {
 public:
  constexpr Fixed() = default;
  static constexpr Fixed FromRaw(u128 raw) { return Fixed(raw); }
  // REQUIRES: units * 10^18 fits in 128 bits (units < 3.4e20).
  static constexpr Fixed FromUnits(uint64_t units) { return Fixed(u128{units} * kScale); }

  constexpr u128 raw() const { return raw_; }
  constexpr bool IsZero() const { return raw_ == 0; }

  friend constexpr auto operator<=>(const Fixed&, const Fixed&) = default;

 private:
  constexpr explicit Fixed(u128 raw) : raw_(raw) {}
  u128 raw_ = 0;
};

using Amount = Fixed<struct AmountTag>;
using Price = Fixed<struct PriceTag>;

// Checked raw arithmetic: nullopt on overflow / underflow.
inline std::optional<u128> CheckedAdd(u128 a, u128 b) {
  u128 r;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}
inline std::optional<u128> CheckedSub(u128 a, u128 b) {
  if (b > a) return std::nullopt;
  return a - b;
}
template <typename Tag>
std::optional<Fixed<Tag>> CheckedAdd(Fixed<Tag> a, Fixed<Tag> b) {
  std::optional<u128> r = CheckedAdd(a.raw(), b.raw());
  if (!r) return std::nullopt;
  return Fixed<Tag>::FromRaw(*r);
}
template <typename Tag>
std::optional<Fixed<Tag>> CheckedSub(Fixed<Tag> a, Fixed<Tag> b) {
  std::optional<u128> r = CheckedSub(a.raw(), b.raw());
  if (!r) return std::nullopt;
  return Fixed<Tag>::FromRaw(*r);
}

// x % m. REQUIRES: m > 0. For m < 2^64 (every tick and lot) one or two `div` instructions
// instead of libgcc's 128-bit division (which showed in the matching path's tick and lot checks).
inline u128 Remainder(u128 x, u128 m) {
  if (m >> 64 != 0) return x % m;
  const uint64_t d = static_cast<uint64_t>(m), hi = static_cast<uint64_t>(x >> 64);
  uint64_t r;
  money_internal::Div128By64(hi < d ? hi : hi % d, static_cast<uint64_t>(x), d, &r);
  return r;
}

// a * b / c computed exactly through 256 bits, rounded toward zero or away from zero.
// nullopt if c == 0 or the result does not fit in 128 bits.
std::optional<u128> MulDivFloor(u128 a, u128 b, u128 c);
std::optional<u128> MulDivCeil(u128 a, u128 b, u128 c);

// The quote amount for `amount` base at `price`: price * amount / 10^18.
std::optional<Amount> NotionalFloor(Price price, Amount amount);
std::optional<Amount> NotionalCeil(Price price, Amount amount);

// Parses a non-negative decimal: one or more ASCII digits, optionally '.' and 1 to 18 digits.
// Rejects empty input, signs, exponents, whitespace, a bare or trailing '.', more than 18
// decimals, and values above 2^128 - 1 raw units. Returns the raw value (scaled by 10^18).
// Errors: InvalidArgument whose message names the problem (and the position when it has one).
absl::StatusOr<u128> ParseDecimal(std::string_view text);
absl::StatusOr<Amount> ParseAmount(std::string_view text);
absl::StatusOr<Price> ParsePrice(std::string_view text);

// Canonical decimal: integer digits, then '.' and the fraction without trailing zeros, if any.
// ParseDecimal(FormatDecimal(x)) == x for every x.
std::string FormatDecimal(u128 raw);
template <typename Tag>
std::string FormatDecimal(Fixed<Tag> v) {
  return FormatDecimal(v.raw());
}

// Decimal digits of an unscaled u128 (for logs and tests).
std::string U128ToString(u128 v);

}  // namespace pom
