// PriceIndex against a plain std::set under random inserts and erases of prices on the grid,
// next to it, off it and far away, with unit changes, emptied and re-anchored grids, copies and
// assignments mid-way: every query must give what the ordered set gives.
#include "matcher/price_index.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "tests/testing/random.h"

namespace pom::matcher {
namespace {

u128 Above(const std::set<u128>& s, u128 p) {
  auto it = s.upper_bound(p);
  return it == s.end() ? 0 : *it;
}
u128 Below(const std::set<u128>& s, u128 p) {
  auto it = s.lower_bound(p);
  return it == s.begin() ? 0 : *std::prev(it);
}

void ExpectSame(const PriceIndex& index, const std::set<u128>& plain, const std::vector<u128>& probes) {
  ASSERT_EQ(index.size(), plain.size());
  ASSERT_EQ(index.Min(), plain.empty() ? 0 : *plain.begin());
  ASSERT_EQ(index.Max(), plain.empty() ? 0 : *plain.rbegin());
  for (u128 p : probes) {
    ASSERT_EQ(index.Contains(p), plain.contains(p)) << static_cast<uint64_t>(p);
    ASSERT_EQ(index.Above(p), Above(plain, p)) << static_cast<uint64_t>(p);
    ASSERT_EQ(index.Below(p), Below(plain, p)) << static_cast<uint64_t>(p);
    u128 below = 1, above = 1;
    index.Neighbours(p, &below, &above);
    ASSERT_EQ(below, Below(plain, p)) << static_cast<uint64_t>(p);
    ASSERT_EQ(above, Above(plain, p)) << static_cast<uint64_t>(p);
  }
}

void ExpectSameOrder(const PriceIndex& index, const std::set<u128>& plain) {
  std::vector<u128> up, down;
  index.ForEachAscending([&](u128 p) {
    up.push_back(p);
    return true;
  });
  index.ForEachDescending([&](u128 p) {
    down.push_back(p);
    return true;
  });
  ASSERT_EQ(up, std::vector<u128>(plain.begin(), plain.end()));
  ASSERT_EQ(down, std::vector<u128>(plain.rbegin(), plain.rend()));
}

constexpr u128 kTick = u128{100'000'000'000'000};  // 10^14: four price decimals at 10^18 scale
constexpr u128 kMid = 580 * u128{1'000'000'000'000'000'000};

// A price: mostly on the grid near the middle (steps of 1..3 words of the bitmap, so summaries
// are crossed), sometimes at the edges of the span, off the tick, tiny, huge or far.
u128 RandomPrice(std::mt19937_64& rng) {
  const u128 tick = kTick, mid = kMid, half = tick * (PriceGrid::kSpan / 2);
  const int64_t near = static_cast<int64_t>(rng() % 400) - 200;
  switch (rng() % 10) {
    case 0:
      return mid + half + tick * (rng() % 3) - tick;  // around the top edge
    case 1:
      return mid - half + tick * (rng() % 3) - tick;  // around the bottom edge
    case 2:
      return mid + static_cast<u128>(near + 1000) * tick + 7;  // off the tick
    case 3:
      return 1 + rng() % 5;  // tiny
    case 4:
      return (~u128{0}) - rng() % 5;  // huge
    case 5:
      return mid - 100000 * tick * 5 + (rng() % 200000) * tick * 5;  // far
    default:
      return mid + static_cast<u128>(near + 10000) * tick - 10000 * tick;
  }
}

TEST(PriceIndex, AgreesWithAnOrderedSet) {
  const u128 tick = kTick, mid = kMid;
  for (uint64_t seed : testing::TestSeeds({1, 2, 3, 4, 5})) {
    SCOPED_TRACE(testing::SeedBanner(seed));
    std::mt19937_64 rng(seed);
    PriceIndex index;
    index.SetUnit(tick);
    std::set<u128> plain;
    std::vector<u128> recent;  // inserted prices, so that erases often hit
    auto price = [&] { return RandomPrice(rng); };
    for (int step = 0; step < 30000; ++step) {
      const uint64_t op = rng() % 100;
      if (op < 45) {
        const u128 p = price();
        index.Insert(p);
        plain.insert(p);
        recent.push_back(p);
      } else if (op < 85 && !recent.empty()) {
        const size_t k = rng() % recent.size();
        index.Erase(recent[k]);
        plain.erase(recent[k]);
        recent[k] = recent.back();
        recent.pop_back();
      } else if (op < 88) {
        const u128 p = price();  // often absent
        index.Erase(p);
        plain.erase(p);
      } else if (op < 90) {
        // Empty one side's worth: the grid empties and the next insert re-anchors it, with a
        // unit that may have changed meanwhile (what was off the grid may be on the new one).
        for (u128 p : std::vector<u128>(plain.begin(), plain.end())) {
          if (rng() % 4 != 0) {
            index.Erase(p);
            plain.erase(p);
          }
        }
        index.SetUnit(rng() % 3 == 0 ? tick / 100 : tick);
      } else if (op < 92) {
        PriceIndex copy(index);  // copies are independent
        index = copy;
        copy.Insert(mid + tick * 12345);
        if (!plain.empty()) copy.Erase(*plain.begin());
      } else if (op < 93) {
        PriceIndex moved(std::move(index));  // a move leaves the source empty and usable
        EXPECT_TRUE(index.empty());
        EXPECT_EQ(index.Above(0), 0u);
        index.Insert(mid);
        index = std::move(moved);
      } else if (op < 94) {
        index.SetUnit(rng() % 4 == 0 ? 0 : tick);
      }
      std::vector<u128> probes = {price(), price(), 0, mid};
      if (!plain.empty()) {
        probes.push_back(*plain.begin());
        probes.push_back(*plain.rbegin());
      }
      ASSERT_NO_FATAL_FAILURE(ExpectSame(index, plain, probes)) << "step " << step;
      if (step % 997 == 0) {
        ASSERT_NO_FATAL_FAILURE(ExpectSameOrder(index, plain)) << "step " << step;
      }
    }
    ASSERT_NO_FATAL_FAILURE(ExpectSameOrder(index, plain));
  }
}

// Neighbours found through every level of the bitmap: the nearest level is one position, one
// word, one summary word or the whole span away, on either side.
TEST(PriceIndex, FindsNeighboursAcrossEveryLevelOfTheBitmap) {
  const u128 tick = 100;
  for (uint64_t gap : {uint64_t{1}, uint64_t{63}, uint64_t{64}, uint64_t{4095}, uint64_t{4096},
                       uint64_t{262143}, uint64_t{262144}, PriceIndex::kSpan / 2 - 1}) {
    SCOPED_TRACE(gap);
    PriceIndex index;
    index.SetUnit(tick);
    const u128 at = tick * PriceIndex::kSpan;  // anchors the grid at span/2 units below
    index.Insert(at);
    const u128 low = at - tick * gap, high = at + tick * (gap < PriceIndex::kSpan / 2 ? gap : 0);
    index.Insert(low);
    index.Insert(high);
    EXPECT_EQ(index.Below(at), low);
    EXPECT_EQ(index.Above(low), at);
    EXPECT_EQ(index.Below(low), 0u);
    EXPECT_EQ(index.Above(at), high == at ? 0 : high);
    EXPECT_EQ(index.Min(), low);
    EXPECT_EQ(index.Max(), high);
  }
}

}  // namespace
}  // namespace pom::matcher
