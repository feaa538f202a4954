// Fuzzes decimal parsing. Whatever the bytes, ParseDecimal returns a status and never crashes,
// and it agrees with an independent reference: a hand-written grammar check plus a
// big-integer value. Accepted values format canonically and parse back to themselves.
#include <string>
#include <string_view>

#include <boost/multiprecision/cpp_int.hpp>

#include "common/check.h"
#include "common/money.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

using boost::multiprecision::cpp_int;

// digits [ '.' 1..18 digits ]: the value scaled by 10^18, or -1 if the text is not in the grammar.
cpp_int ReferenceParse(std::string_view s) {
  const size_t dot = s.find('.');
  const std::string_view integer = s.substr(0, dot);
  const std::string_view fraction = dot == std::string_view::npos ? "" : s.substr(dot + 1);
  auto all_digits = [](std::string_view d) {
    for (char c : d) {
      if (c < '0' || c > '9') return false;
    }
    return true;
  };
  if (integer.empty() || !all_digits(integer)) return -1;
  if (dot != std::string_view::npos && (fraction.empty() || fraction.size() > 18 || !all_digits(fraction))) {
    return -1;
  }
  cpp_int v = 0;
  for (char c : integer) v = v * 10 + (c - '0');
  for (size_t i = 0; i < 18; ++i) v = v * 10 + (i < fraction.size() ? fraction[i] - '0' : 0);
  return v;
}

cpp_int Big(pom::u128 v) {
  cpp_int r = static_cast<uint64_t>(v >> 64);
  return (r << 64) + static_cast<uint64_t>(v);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<pom::u128> parsed = pom::ParseDecimal(text);
  const cpp_int expected = ReferenceParse(text);
  const bool fits = expected >= 0 && expected <= Big(pom::kU128Max);
  POM_CHECK_MSG(parsed.ok() == fits, std::string(parsed.ok() ? "accepted " : "rejected ") +
                                         std::string(text.substr(0, 64)));
  if (!parsed.ok()) {
    POM_CHECK(!parsed.status().message().empty());
    return 0;
  }
  POM_CHECK(Big(*parsed) == expected);
  const std::string formatted = pom::FormatDecimal(*parsed);
  const absl::StatusOr<pom::u128> again = pom::ParseDecimal(formatted);
  POM_CHECK(again.ok() && *again == *parsed);
  POM_CHECK(pom::FormatDecimal(*again) == formatted);
  return 0;
}

namespace pom::fuzz {

std::vector<std::vector<uint8_t>> SeedInputs() {
  const char* seeds[] = {"0", "1", "12.5", "0.000000000000000001", "007.50",
                         "340282366920938463463.374607431768211455",
                         "340282366920938463463.374607431768211456", "-1", "1e5", ".5", "1.",
                         "1.0000000000000000001", " 1", "1,5"};
  std::vector<std::vector<uint8_t>> out;
  for (const char* s : seeds) out.emplace_back(s, s + std::char_traits<char>::length(s));
  return out;
}

}  // namespace pom::fuzz
