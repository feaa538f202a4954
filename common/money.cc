#include "common/money.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/internal/u256.h"

namespace pom {
namespace {

// (Debian's Abseil has its own string_view, so std::string_view goes through std::string.)
// Quotes the input in error messages, cut short so a huge input does not make a huge error.
std::string Quoted(std::string_view text) {
  constexpr size_t kShown = 40;
  if (text.size() <= kShown) return absl::StrCat("\"", std::string(text), "\"");
  return absl::StrCat("\"", std::string(text.substr(0, kShown)), "...\" (", text.size(),
                      " bytes)");
}

absl::Status DecimalError(std::string_view text, std::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat("decimal ", Quoted(text), ": ", std::string(problem)));
}

}  // namespace

std::optional<u128> MulDivFloor(u128 a, u128 b, u128 c) {
  u128 rem;
  return money_internal::Div256By128(money_internal::Mul128(a, b), c, &rem);
}

std::optional<u128> MulDivCeil(u128 a, u128 b, u128 c) {
  u128 rem = 0;
  std::optional<u128> q = money_internal::Div256By128(money_internal::Mul128(a, b), c, &rem);
  if (!q) return std::nullopt;
  if (rem == 0) return q;
  return CheckedAdd(*q, 1);
}

std::optional<Amount> NotionalFloor(Price price, Amount amount) {
  std::optional<u128> r = MulDivFloor(price.raw(), amount.raw(), kScale);
  if (!r) return std::nullopt;
  return Amount::FromRaw(*r);
}

std::optional<Amount> NotionalCeil(Price price, Amount amount) {
  std::optional<u128> r = MulDivCeil(price.raw(), amount.raw(), kScale);
  if (!r) return std::nullopt;
  return Amount::FromRaw(*r);
}

absl::StatusOr<u128> ParseDecimal(std::string_view text) {
  if (text.empty()) return DecimalError(text, "empty");
  size_t i = 0;
  u128 integer = 0;
  for (; i < text.size() && text[i] != '.'; ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') {
      if (c == '-' || c == '+') return DecimalError(text, "signs are not allowed");
      if (c == 'e' || c == 'E') return DecimalError(text, "exponents are not allowed");
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
        return DecimalError(text, absl::StrCat("whitespace at position ", i));
      }
      return DecimalError(text, absl::StrCat("unexpected character at position ", i));
    }
    std::optional<u128> next = CheckedAdd(integer * 10, static_cast<u128>(c - '0'));
    if (integer > kU128Max / 10 || !next) return DecimalError(text, "too large");
    integer = *next;
  }
  if (i == 0) return DecimalError(text, "no digit before the decimal point");
  u128 fraction = 0;
  if (i < text.size()) {  // text[i] == '.'
    const size_t first = i + 1;
    if (first == text.size()) return DecimalError(text, "no digit after the decimal point");
    size_t digits = 0;
    for (size_t j = first; j < text.size(); ++j) {
      const char c = text[j];
      if (c < '0' || c > '9') {
        if (c == 'e' || c == 'E') return DecimalError(text, "exponents are not allowed");
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
          return DecimalError(text, absl::StrCat("whitespace at position ", j));
        }
        return DecimalError(text, absl::StrCat("unexpected character at position ", j));
      }
      if (++digits > static_cast<size_t>(kScaleDecimals)) {
        return DecimalError(text, "more than 18 decimals");
      }
      fraction = fraction * 10 + static_cast<u128>(c - '0');
    }
    for (size_t k = digits; k < static_cast<size_t>(kScaleDecimals); ++k) fraction *= 10;
  }
  if (integer > kU128Max / kScale) return DecimalError(text, "too large");
  std::optional<u128> raw = CheckedAdd(integer * kScale, fraction);
  if (!raw) return DecimalError(text, "too large");
  return *raw;
}

absl::StatusOr<Amount> ParseAmount(std::string_view text) {
  absl::StatusOr<u128> raw = ParseDecimal(text);
  if (!raw.ok()) return raw.status();
  return Amount::FromRaw(*raw);
}

absl::StatusOr<Price> ParsePrice(std::string_view text) {
  absl::StatusOr<u128> raw = ParseDecimal(text);
  if (!raw.ok()) return raw.status();
  return Price::FromRaw(*raw);
}

std::string U128ToString(u128 v) {
  if (v == 0) return "0";
  std::string out;
  while (v != 0) {
    out.push_back(static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::string FormatDecimal(u128 raw) {
  std::string out = U128ToString(raw / kScale);
  u128 fraction = raw % kScale;
  if (fraction == 0) return out;
  std::string digits(kScaleDecimals, '0');
  for (int i = kScaleDecimals - 1; i >= 0; --i) {
    digits[i] = static_cast<char>('0' + static_cast<int>(fraction % 10));
    fraction /= 10;
  }
  digits.erase(digits.find_last_not_of('0') + 1);
  out.push_back('.');
  out += digits;
  return out;
}

}  // namespace pom
