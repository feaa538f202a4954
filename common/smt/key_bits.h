// Bit arithmetic on 256-bit tree keys. Bit i of key k is (k[i / 8] >> (i % 8)) & 1; height 0 is
// the lowest bit. These are the primitives of docs/protocol.md "The tree".
// Thread-safety: pure functions.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

#include "common/bytes.h"

namespace pom::smt {

inline int GetBit(const Bytes32& k, int i) { return (k[i >> 3] >> (i & 7)) & 1; }

inline void SetBit(Bytes32& k, int i) { k[i >> 3] |= static_cast<uint8_t>(1u << (i & 7)); }

namespace key_bits_internal {

// A key as four little-endian words: word j holds bits 64j..64j+63, bit b of it being bit
// 64j + b of the key (the byte order of the key is the bit order). Word-wise, a mask is a few
// instructions where a byte loop over a variable bound became a call to memset.
static_assert(std::endian::native == std::endian::little, "key words are read in host order");
struct Words {
  uint64_t w[4];
};
inline Words Load(const Bytes32& k) {
  Words r;
  std::memcpy(r.w, k.data(), 32);
  return r;
}
inline Bytes32 Store(const Words& x) {
  Bytes32 r;
  std::memcpy(r.data(), x.w, 32);
  return r;
}
// The bits >= n of word j. REQUIRES: 0 <= n <= 256.
inline uint64_t MaskFrom(int n, int j) {
  const int shift = n - 64 * j;
  if (shift <= 0) return ~uint64_t{0};
  if (shift >= 64) return 0;
  return ~uint64_t{0} << shift;
}

}  // namespace key_bits_internal

// Bits lo..hi-1 of k, every other bit zero. REQUIRES: 0 <= lo <= hi <= 256.
inline Bytes32 BitsInRange(const Bytes32& k, int lo, int hi) {
  key_bits_internal::Words x = key_bits_internal::Load(k);
  for (int j = 0; j < 4; ++j) {
    x.w[j] &= key_bits_internal::MaskFrom(lo, j) & ~key_bits_internal::MaskFrom(hi, j);
  }
  return key_bits_internal::Store(x);
}

// k with bits 0..n-1 cleared. REQUIRES: 0 <= n <= 256.
inline Bytes32 ClearBitsBelow(const Bytes32& k, int n) { return BitsInRange(k, n, 256); }

// k with bits n..255 cleared. REQUIRES: 0 <= n <= 256.
inline Bytes32 ClearBitsFrom(const Bytes32& k, int n) { return BitsInRange(k, 0, n); }

// The key of the node at height h above k: k with bits 0..h cleared. REQUIRES: 0 <= h <= 255.
inline Bytes32 ParentPath(const Bytes32& k, int h) { return ClearBitsBelow(k, h + 1); }

// The highest bit index >= lo at which a and b differ, or -1 if they agree on all of them.
inline int HighestDiffBit(const Bytes32& a, const Bytes32& b, int lo) {
  const key_bits_internal::Words x = key_bits_internal::Load(a), y = key_bits_internal::Load(b);
  for (int j = 3; j >= 0; --j) {
    const uint64_t d = x.w[j] ^ y.w[j];
    if (d != 0) {
      const int bit = 64 * j + 63 - std::countl_zero(d);
      return bit >= lo ? bit : -1;
    }
  }
  return -1;
}

}  // namespace pom::smt
