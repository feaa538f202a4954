// Seeded randomness for property tests. Our own generator and range helper, so a seed replays
// the same sequence with every standard library (std::uniform_int_distribution differs).
// Seeds: a test's defaults, or the single seed in POM_SEED (decimal) to replay a failure.
// Thread-safety: an Rng is not thread-safe.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/bytes.h"

namespace pom::testing {

// xoshiro256** seeded through splitmix64.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    uint64_t x = seed;
    for (uint64_t& s : s_) {
      x += 0x9e3779b97f4a7c15ULL;
      uint64_t z = x;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      s = z ^ (z >> 31);
    }
  }

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [lo, hi], by rejection (no modulo bias). REQUIRES: lo <= hi.
  uint64_t Uniform(uint64_t lo, uint64_t hi) {
    const uint64_t span = hi - lo;
    if (span == ~uint64_t{0}) return Next();
    const uint64_t n = span + 1;
    const uint64_t limit = ~uint64_t{0} - (~uint64_t{0} % n);
    uint64_t x;
    do {
      x = Next();
    } while (x >= limit);
    return lo + x % n;
  }

  // True with probability 1/n.
  bool OneIn(uint64_t n) { return Uniform(0, n - 1) == 0; }

  u128 NextU128() { return (u128{Next()} << 64) | Next(); }

  Bytes32 NextBytes32() {
    Bytes32 b;
    for (int i = 0; i < 4; ++i) PutU64Le(Next(), b.data() + 8 * i);
    return b;
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// The seeds to run: POM_SEED if set, else `defaults`.
inline std::vector<uint64_t> TestSeeds(std::vector<uint64_t> defaults) {
  if (const char* env = std::getenv("POM_SEED"); env != nullptr && *env != '\0') {
    return {std::strtoull(env, nullptr, 10)};
  }
  return defaults;
}

inline std::string SeedBanner(uint64_t seed) {
  return "seed=" + std::to_string(seed) + " (replay with POM_SEED=" + std::to_string(seed) + ")";
}

}  // namespace pom::testing
