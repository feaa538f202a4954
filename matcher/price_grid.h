// The grid shared by the price index and the level store: the multiples of a unit (the
// market's tick) within kSpan units of where the grid was anchored. A price maps to a grid
// position with one division. Anchoring happens while the owner holds nothing on the grid.
// Thread-safety: value type.
#pragma once

#include <cstdint>

#include "common/internal/u256.h"
#include "common/money.h"

namespace pom::matcher {

class PriceGrid {
 public:
  static constexpr int kBits = 20;
  static constexpr uint64_t kSpan = uint64_t{1} << kBits;

  // The unit from the next anchoring on. 0 (or 2^64 and more): no grid.
  void SetUnit(u128 unit) { next_unit_ = unit >> 64 == 0 ? unit : 0; }

  bool anchored() const { return unit_ != 0; }

  // True if an owner with an empty grid should anchor it at `price` before storing it: the
  // price is on the next unit, and the grid in use (if any) does not already take it.
  bool ShouldAnchor(u128 price) const {
    uint64_t i;
    return next_unit_ != 0 && price % next_unit_ == 0 && (unit_ != next_unit_ || !Position(price, &i));
  }
  // REQUIRES: price is a multiple of the next unit.
  void Anchor(u128 price) {
    unit_ = next_unit_;  // < 2^64
    const u128 half = unit_ * (kSpan / 2);
    base_ = price > half ? price - half : 0;  // a multiple of unit_, as price is
  }

  // The grid position of `price`, if it is on the grid.
  bool Position(u128 price, uint64_t* i) const {
    if (unit_ == 0 || price < base_) return false;
    uint64_t q, r;
    if (!Divide(price - base_, &q, &r) || r != 0 || q >= kSpan) return false;
    *i = q;
    return true;
  }
  // The first position above `price` (kSpan: none). REQUIRES: anchored().
  uint64_t FirstAbove(u128 price) const {
    if (price < base_) return 0;
    uint64_t q, r;
    return Divide(price - base_, &q, &r) && q < kSpan ? q + 1 : kSpan;
  }
  // The last position below `price` (kSpan: none). REQUIRES: anchored().
  uint64_t LastBelow(u128 price) const {
    if (price <= base_) return kSpan;
    uint64_t q, r;
    if (!Divide(price - base_, &q, &r) || q >= kSpan) return kSpan - 1;
    return r != 0 ? q : q - 1;  // q >= 1 when r == 0, as price > base_
  }
  u128 PriceAt(uint64_t i) const { return base_ + unit_ * i; }
  u128 width() const { return unit_ * kSpan; }  // < 2^84: no overflow

 private:
  // d / unit_ (one `div`); false if the quotient needs more than 64 bits.
  bool Divide(u128 d, uint64_t* q, uint64_t* r) const {
    const uint64_t hi = static_cast<uint64_t>(d >> 64);
    if (hi >= static_cast<uint64_t>(unit_)) return false;
    *q = money_internal::Div128By64(hi, static_cast<uint64_t>(d), static_cast<uint64_t>(unit_), r);
    return true;
  }

  u128 next_unit_ = 0;
  u128 unit_ = 0;  // 0: never anchored
  u128 base_ = 0;
};

}  // namespace pom::matcher
