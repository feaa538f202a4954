// 256-bit helpers for money arithmetic: the full product of two u128 and its division by a
// u128. Internal to pom::money.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>

#include "common/bytes.h"

namespace pom::money_internal {

struct U256 {
  u128 hi = 0;
  u128 lo = 0;
};

// The exact 256-bit product a * b.
inline U256 Mul128(u128 a, u128 b) {
  const u128 a0 = static_cast<uint64_t>(a), a1 = a >> 64;
  const u128 b0 = static_cast<uint64_t>(b), b1 = b >> 64;
  const u128 p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  // Each term is < 2^64, so the sum cannot overflow 128 bits.
  const u128 mid = (p00 >> 64) + static_cast<uint64_t>(p01) + static_cast<uint64_t>(p10);
  U256 r;
  r.lo = (mid << 64) | static_cast<uint64_t>(p00);
  r.hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
  return r;
}

// (hi:lo) / d for 64-bit limbs, the remainder in *rem. REQUIRES: hi < d (the quotient fits in
// 64 bits). On x86-64 one `div` instruction; the generic form calls libgcc's 128-bit division,
// several times slower, which showed in the matching path's notional amounts.
inline uint64_t Div128By64(uint64_t hi, uint64_t lo, uint64_t d, uint64_t* rem) {
#if defined(__x86_64__)
  uint64_t q, r;
  __asm__("divq %4" : "=a"(q), "=d"(r) : "a"(lo), "d"(hi), "rm"(d) : "cc");
  *rem = r;
  return q;
#else
  const u128 x = (static_cast<u128>(hi) << 64) | lo;
  *rem = static_cast<uint64_t>(x % d);
  return static_cast<uint64_t>(x / d);
#endif
}

// n / d with the remainder in *rem. nullopt if d == 0 or the quotient needs more than 128 bits.
inline std::optional<u128> Div256By128(U256 n, u128 d, u128* rem) {
  if (d == 0 || n.hi >= d) return std::nullopt;
  if ((d >> 64) == 0) {
    // n.hi < d < 2^64: the dividend has three 64-bit limbs and each step's partial remainder
    // stays below d, so two 128-by-64 divisions give the quotient.
    const uint64_t d64 = static_cast<uint64_t>(d);
    uint64_t r;
    const uint64_t q1 = Div128By64(static_cast<uint64_t>(n.hi), static_cast<uint64_t>(n.lo >> 64), d64, &r);
    const uint64_t q0 = Div128By64(r, static_cast<uint64_t>(n.lo), d64, &r);
    *rem = r;
    return (static_cast<u128>(q1) << 64) | q0;
  }
  if (n.hi == 0) {
    *rem = n.lo % d;
    return n.lo / d;
  }
  // Binary long division over the 128 quotient bits; the running remainder stays below d.
  u128 r = n.hi;
  u128 q = 0;
  for (int i = 127; i >= 0; --i) {
    const bool carry = (r >> 127) != 0;
    r = (r << 1) | ((n.lo >> i) & 1);
    if (carry || r >= d) {
      r -= d;
      q |= u128{1} << i;
    }
  }
  *rem = r;
  return q;
}

}  // namespace pom::money_internal
