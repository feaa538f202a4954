// An ordered set of the price levels of one book side, with O(1) insert, erase and neighbour
// queries for prices near the book (docs/decisions.md, "Price index").
//
// Prices on a grid (multiples of `unit`, within kSpan units of where the side's first level
// appeared) live in a three-level bitmap (its words allocated 64 at a time as used): insert and
// erase set or clear a bit and at most two summary bits; the next level above or below a price
// is at most three word scans (count trailing / leading zeros). Prices off the grid (far away, or not on the tick) go to an ordered
// tree; queries combine both, so the set is exact whatever the prices. The grid is re-anchored
// at the next insert whenever it empties, so a market whose price moves far keeps the fast path
// as soon as its old levels are gone.
//
// Prices are positive: 0 means "none" in query results, as in the rules' level links.
// Thread-safety: not thread-safe.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <iterator>
#include <memory>

#include "absl/container/btree_set.h"
#include "common/money.h"
#include "matcher/price_grid.h"

namespace pom::matcher {

class PriceIndex {
 public:
  static constexpr uint64_t kSpan = PriceGrid::kSpan;  // a bitmap of up to 128 KiB, made as used

  PriceIndex() = default;
  PriceIndex(const PriceIndex& other) { *this = other; }
  PriceIndex& operator=(const PriceIndex& other) {
    if (this == &other) return *this;
    grid_ = other.grid_;
    grid_count_ = other.grid_count_;
    for (size_t b = 0; b < kL1Words; ++b) {
      blocks_[b] = other.blocks_[b] ? std::make_unique<Block>(*other.blocks_[b]) : nullptr;
    }
    l1_ = other.l1_;
    l2_ = other.l2_;
    outliers_ = other.outliers_;
    return *this;
  }
  PriceIndex(PriceIndex&& other) noexcept { *this = std::move(other); }
  PriceIndex& operator=(PriceIndex&& other) noexcept {  // leaves `other` empty
    if (this == &other) return *this;
    grid_ = other.grid_;
    grid_count_ = other.grid_count_;
    blocks_ = std::move(other.blocks_);
    l1_ = other.l1_;
    l2_ = other.l2_;
    outliers_ = std::move(other.outliers_);
    other.grid_ = PriceGrid();
    other.grid_count_ = 0;
    other.l1_.fill(0);
    other.l2_.fill(0);
    other.outliers_.clear();
    return *this;
  }

  // The grid's unit from the next time the grid is anchored (an insert into an empty grid).
  // 0 (or 2^64 and more): no grid.
  void SetUnit(u128 unit) { grid_.SetUnit(unit); }

  size_t size() const { return grid_count_ + outliers_.size(); }
  bool empty() const { return size() == 0; }

  // REQUIRES: price > 0.
  void Insert(u128 price) {
    if (grid_count_ == 0 && grid_.ShouldAnchor(price)) Anchor(price);
    uint64_t i;
    if (grid_.Position(price, &i)) {
      if (!Test(i)) {
        Set(i);
        ++grid_count_;
      }
    } else {
      outliers_.insert(price);
    }
  }

  void Erase(u128 price) {
    uint64_t i;
    if (grid_.Position(price, &i)) {
      if (Test(i)) {
        Clear(i);
        --grid_count_;
      }
    } else {
      outliers_.erase(price);
    }
  }

  bool Contains(u128 price) const {
    uint64_t i;
    return grid_.Position(price, &i) ? Test(i) : outliers_.contains(price);
  }

  // Below(price) and Above(price) in one go: one division and one tree search.
  void Neighbours(u128 price, u128* below, u128* above) const {
    *below = *above = 0;
    if (!outliers_.empty()) {
      auto it = outliers_.lower_bound(price);
      if (it != outliers_.begin()) *below = *std::prev(it);
      if (it != outliers_.end() && *it == price) ++it;
      if (it != outliers_.end()) *above = *it;
    }
    if (grid_count_ == 0) return;
    uint64_t i;
    uint64_t last_below, first_above;
    if (grid_.Position(price, &i)) {
      last_below = i == 0 ? kSpan : i - 1;
      first_above = i + 1;
    } else {
      last_below = grid_.LastBelow(price);
      first_above = grid_.FirstAbove(price);
    }
    const uint64_t b = last_below < kSpan ? PrevSet(last_below) : kSpan;
    if (b < kSpan && grid_.PriceAt(b) > *below) *below = grid_.PriceAt(b);
    const uint64_t a = first_above < kSpan ? NextSet(first_above) : kSpan;
    if (a < kSpan && (*above == 0 || grid_.PriceAt(a) < *above)) *above = grid_.PriceAt(a);
  }

  // The smallest element > price, or 0; the largest element < price, or 0.
  u128 Above(u128 price) const {
    u128 below, above;
    Neighbours(price, &below, &above);
    return above;
  }
  u128 Below(u128 price) const {
    u128 below, above;
    Neighbours(price, &below, &above);
    return below;
  }

  u128 Min() const { return Above(0); }
  u128 Max() const { return Contains(~u128{0}) ? ~u128{0} : Below(~u128{0}); }

  // f(price) for every element, ascending or descending, while f returns true.
  template <typename F>
  void ForEachAscending(F&& f) const {
    for (u128 p = Min(); p != 0; p = Above(p)) {
      if (!f(p)) return;
    }
  }
  template <typename F>
  void ForEachDescending(F&& f) const {
    for (u128 p = Max(); p != 0; p = Below(p)) {
      if (!f(p)) return;
    }
  }

 private:
  // A new grid around `price` while the grid is empty. Invariant: an element is in the bitmap
  // if the grid takes it, else in outliers_; so the outliers the new grid takes move into it.
  void Anchor(u128 price) {
    grid_.Anchor(price);
    const u128 base = grid_.PriceAt(0);
    for (auto it = outliers_.lower_bound(base); it != outliers_.end() && *it - base < grid_.width();) {
      uint64_t i;
      if (grid_.Position(*it, &i)) {
        Set(i);
        ++grid_count_;
        it = outliers_.erase(it);
      } else {
        ++it;
      }
    }
  }

  bool Test(uint64_t i) const { return (Word(i >> 6) >> (i & 63)) & 1; }
  void Set(uint64_t i) {
    MutableWord(i >> 6) |= uint64_t{1} << (i & 63);
    l1_[i >> 12] |= uint64_t{1} << ((i >> 6) & 63);
    l2_[i >> 18] |= uint64_t{1} << ((i >> 12) & 63);
  }
  void Clear(uint64_t i) {
    if ((MutableWord(i >> 6) &= ~(uint64_t{1} << (i & 63))) != 0) return;
    if ((l1_[i >> 12] &= ~(uint64_t{1} << ((i >> 6) & 63))) != 0) return;
    l2_[i >> 18] &= ~(uint64_t{1} << ((i >> 12) & 63));
  }

  // The first set position >= i, or kSpan. REQUIRES: i < kSpan.
  uint64_t NextSet(uint64_t i) const {
    uint64_t w = Word(i >> 6) & (~uint64_t{0} << (i & 63));
    if (w != 0) return (i & ~uint64_t{63}) + std::countr_zero(w);
    const uint64_t j = (i >> 6) + 1;  // next l0 word
    if (j < kSpan / 64) {
      uint64_t v = l1_[j >> 6] & (~uint64_t{0} << (j & 63));
      if (v != 0) return Lowest(((j & ~uint64_t{63}) + std::countr_zero(v)));
      for (uint64_t k = (j >> 6) + 1; k < kL1Words; ) {  // next l1 words, through l2
        const uint64_t u = l2_[k >> 6] & (~uint64_t{0} << (k & 63));
        if (u != 0) {
          const uint64_t l1 = (k & ~uint64_t{63}) + std::countr_zero(u);
          return Lowest(l1 * 64 + std::countr_zero(l1_[l1]));
        }
        k = (k & ~uint64_t{63}) + 64;
      }
    }
    return kSpan;
  }
  // The last set position <= i, or kSpan. REQUIRES: i < kSpan.
  uint64_t PrevSet(uint64_t i) const {
    uint64_t w = Word(i >> 6) & (~uint64_t{0} >> (63 - (i & 63)));
    if (w != 0) return (i & ~uint64_t{63}) + 63 - std::countl_zero(w);
    if ((i >> 6) == 0) return kSpan;
    const uint64_t j = (i >> 6) - 1;  // previous l0 word
    uint64_t v = l1_[j >> 6] & (~uint64_t{0} >> (63 - (j & 63)));
    if (v != 0) return Highest((j & ~uint64_t{63}) + 63 - std::countl_zero(v));
    for (uint64_t k = j >> 6; k-- > 0;) {  // previous l1 words, through l2
      const uint64_t u = l2_[k >> 6] & (~uint64_t{0} >> (63 - (k & 63)));
      if (u != 0) {
        const uint64_t l1 = (k & ~uint64_t{63}) + 63 - std::countl_zero(u);
        return Highest(l1 * 64 + 63 - std::countl_zero(l1_[l1]));
      }
      k &= ~uint64_t{63};
    }
    return kSpan;
  }
  // The lowest / highest set position in l0 word `word` (which has one).
  uint64_t Lowest(uint64_t word) const { return word * 64 + std::countr_zero(Word(word)); }
  uint64_t Highest(uint64_t word) const { return word * 64 + 63 - std::countl_zero(Word(word)); }

  // The bitmap's words come in blocks of 64 (4,096 positions, one l1_ word's worth), allocated
  // when a bit in them is first set: a book uses a few blocks, and copies (snapshots) copy only
  // those.
  using Block = std::array<uint64_t, 64>;
  uint64_t Word(uint64_t w) const {
    const Block* b = blocks_[w >> 6].get();
    return b == nullptr ? 0 : (*b)[w & 63];
  }
  uint64_t& MutableWord(uint64_t w) {
    std::unique_ptr<Block>& b = blocks_[w >> 6];
    if (!b) b = std::make_unique<Block>();
    return (*b)[w & 63];
  }

  PriceGrid grid_;
  uint64_t grid_count_ = 0;
  static constexpr uint64_t kL1Words = kSpan / 4096;
  std::array<std::unique_ptr<Block>, kL1Words> blocks_;  // bit i: grid position i is a level
  std::array<uint64_t, kL1Words> l1_{};       // bit w: word w of the bitmap is not 0
  std::array<uint64_t, kL1Words / 64> l2_{};  // bit v: l1_[v] != 0
  absl::btree_set<u128> outliers_;
};

}  // namespace pom::matcher
