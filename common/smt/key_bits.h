// Bit arithmetic on 256-bit tree keys. Bit i of key k is (k[i / 8] >> (i % 8)) & 1; height 0 is
// the lowest bit. These are the primitives of docs/protocol.md "The tree".
// Thread-safety: pure functions.
#pragma once

#include <bit>
#include <cstdint>

#include "common/bytes.h"

namespace pom::smt {

inline int GetBit(const Bytes32& k, int i) { return (k[i >> 3] >> (i & 7)) & 1; }

inline void SetBit(Bytes32& k, int i) { k[i >> 3] |= static_cast<uint8_t>(1u << (i & 7)); }

// k with bits 0..n-1 cleared. REQUIRES: 0 <= n <= 256.
inline Bytes32 ClearBitsBelow(const Bytes32& k, int n) {
  Bytes32 r = k;
  const int full = n >> 3;
  for (int i = 0; i < full; ++i) r[i] = 0;
  if ((n & 7) != 0) r[full] &= static_cast<uint8_t>(0xffu << (n & 7));
  return r;
}

// k with bits n..255 cleared. REQUIRES: 0 <= n <= 256.
inline Bytes32 ClearBitsFrom(const Bytes32& k, int n) {
  Bytes32 r = k;
  const int first = (n + 7) >> 3;
  for (int i = first; i < 32; ++i) r[i] = 0;
  if ((n & 7) != 0) r[n >> 3] &= static_cast<uint8_t>((1u << (n & 7)) - 1);
  return r;
}

// The key of the node at height h above k: k with bits 0..h cleared. REQUIRES: 0 <= h <= 255.
inline Bytes32 ParentPath(const Bytes32& k, int h) { return ClearBitsBelow(k, h + 1); }

// Bits lo..hi-1 of k, every other bit zero. REQUIRES: 0 <= lo <= hi <= 256.
inline Bytes32 BitsInRange(const Bytes32& k, int lo, int hi) {
  return ClearBitsFrom(ClearBitsBelow(k, lo), hi);
}

// The highest bit index >= lo at which a and b differ, or -1 if they agree on all of them.
inline int HighestDiffBit(const Bytes32& a, const Bytes32& b, int lo) {
  for (int i = 31; i >= 0 && i * 8 + 7 >= lo; --i) {
    const uint8_t x = static_cast<uint8_t>(a[i] ^ b[i]);
    if (x != 0) {
      const int bit = i * 8 + 7 - std::countl_zero(x);
      return bit >= lo ? bit : -1;
    }
  }
  return -1;
}

}  // namespace pom::smt
