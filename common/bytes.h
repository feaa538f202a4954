// Byte codecs: the 32-byte word used for tree keys, values and digests; hex; little-endian
// integers, including u128 <-> 16 bytes (the layout of every amount in a leaf).
// Thread-safety: value types and pure functions.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace pom {

using u128 = unsigned __int128;

// A 32-byte word. Byte 0 holds the lowest 8 bits when the word is read as a number (the
// tree's bit(k, i) = (k[i / 8] >> (i % 8)) & 1), so "greater" keys compare from byte 31 down.
struct Bytes32 {
  std::array<uint8_t, 32> bytes{};

  static constexpr size_t kSize = 32;

  uint8_t* data() { return bytes.data(); }
  const uint8_t* data() const { return bytes.data(); }
  uint8_t& operator[](size_t i) { return bytes[i]; }
  uint8_t operator[](size_t i) const { return bytes[i]; }
  std::span<const uint8_t> span() const { return bytes; }

  // Word-wise rather than the defaulted form, which GCC compiles to a call to memcmp: these
  // run on every tree node and map probe.
  bool IsZero() const {
    uint64_t w[4];
    std::memcpy(w, bytes.data(), 32);
    return (w[0] | w[1] | w[2] | w[3]) == 0;
  }

  friend bool operator==(const Bytes32& a, const Bytes32& b) {
    uint64_t x[4], y[4];
    std::memcpy(x, a.bytes.data(), 32);
    std::memcpy(y, b.bytes.data(), 32);
    return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3])) == 0;
  }

  template <typename H>
  friend H AbslHashValue(H h, const Bytes32& b) {
    return H::combine_contiguous(std::move(h), b.bytes.data(), b.bytes.size());
  }
};

// Orders words as 256-bit little-endian numbers: byte 31 is compared first. This is the
// order of leaves in a multiproof (docs/protocol.md).
struct Bytes32NumericLess {
  bool operator()(const Bytes32& a, const Bytes32& b) const {
    for (int i = 31; i >= 0; --i) {
      if (a.bytes[i] != b.bytes[i]) return a.bytes[i] < b.bytes[i];
    }
    return false;
  }
};

// Lower-case hex of `data`.
std::string ToHex(std::span<const uint8_t> data);
inline std::string ToHex(const Bytes32& b) { return ToHex(b.span()); }

// Parses hex (either case, even length, no prefix or whitespace).
// Errors: InvalidArgument naming the first bad character or the odd length.
absl::StatusOr<std::vector<uint8_t>> FromHex(std::string_view hex);
// Parses exactly 64 hex characters. Errors: InvalidArgument.
absl::StatusOr<Bytes32> Bytes32FromHex(std::string_view hex);

// Little-endian fixed-width integers. REQUIRES: `out`/`in` hold at least sizeof(T) bytes.
inline void PutU32Le(uint32_t v, uint8_t* out) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline void PutU64Le(uint64_t v, uint8_t* out) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline void PutU128Le(u128 v, uint8_t* out) {
  for (int i = 0; i < 16; ++i) out[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline uint32_t GetU32Le(const uint8_t* in) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | in[i];
  return v;
}
inline uint64_t GetU64Le(const uint8_t* in) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | in[i];
  return v;
}
inline u128 GetU128Le(const uint8_t* in) {
  u128 v = 0;
  for (int i = 15; i >= 0; --i) v = (v << 8) | in[i];
  return v;
}

// A leaf value made of two u128 halves, `lo || hi`, each 16 bytes little-endian.
inline Bytes32 PackHalves(u128 lo, u128 hi) {
  Bytes32 out;
  PutU128Le(lo, out.data());
  PutU128Le(hi, out.data() + 16);
  return out;
}
inline std::pair<u128, u128> UnpackHalves(const Bytes32& v) {
  return {GetU128Le(v.data()), GetU128Le(v.data() + 16)};
}

}  // namespace pom
