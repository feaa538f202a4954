// The value of a tree node as the Fusotao-compatible algorithm sees it: either a plain 32-byte
// Value or a MergeWithZero (a non-empty node lifted over empty siblings without hashing at
// each level). Merge, lift and hash are exactly those of docs/protocol.md "The tree".
// Thread-safety: pure functions over a caller-owned hasher.
#pragma once

#include <array>
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "common/bytes.h"
#include "common/smt/key_bits.h"

namespace pom::smt {

inline constexpr uint8_t kMergeNormalTag = 0x01;
inline constexpr uint8_t kMergeZerosTag = 0x02;

struct MergeValue {
  enum class Kind : uint8_t { kValue = 0, kMergeWithZero = 1 };

  Kind kind = Kind::kValue;
  uint8_t zero_count = 0;  // kMergeWithZero: levels lifted, mod 256
  Bytes32 value;           // kValue: the value; kMergeWithZero: the base node
  Bytes32 zero_bits;       // kMergeWithZero: bit h set iff the node was the right child at h

  static MergeValue FromValue(const Bytes32& v) {
    MergeValue m;
    m.value = v;
    return m;
  }
  static MergeValue MergeWithZero(const Bytes32& base, const Bytes32& zero_bits, uint8_t count) {
    MergeValue m;
    m.kind = Kind::kMergeWithZero;
    m.value = base;
    m.zero_bits = zero_bits;
    m.zero_count = count;
    return m;
  }

  bool IsZero() const { return kind == Kind::kValue && value.IsZero(); }

  friend bool operator==(const MergeValue&, const MergeValue&) = default;
};

// The three messages the tree hashes, written into a caller's buffer (docs/protocol.md).
inline constexpr size_t kBaseNodeBytes = 65;
inline constexpr size_t kMergeZerosBytes = 66;
inline constexpr size_t kForkBytes = 98;
inline constexpr size_t kTreeMessageMax = kForkBytes;

// H(0x02 || base || zero_bits || zero_count) is hash(MWZ).
inline void WriteMergeZerosMessage(const MergeValue& m, uint8_t* buf) {
  buf[0] = kMergeZerosTag;
  std::copy(m.value.bytes.begin(), m.value.bytes.end(), buf + 1);
  std::copy(m.zero_bits.bytes.begin(), m.zero_bits.bytes.end(), buf + 33);
  buf[65] = m.zero_count;
}

// H(height || node_key || value) is a base node.
inline void WriteBaseNodeMessage(int height, const Bytes32& node_key, const Bytes32& value, uint8_t* buf) {
  buf[0] = static_cast<uint8_t>(height);
  std::copy(node_key.bytes.begin(), node_key.bytes.end(), buf + 1);
  std::copy(value.bytes.begin(), value.bytes.end(), buf + 33);
}

// H(0x01 || height || node_key || left_hash || right_hash) is the fork of two non-empty nodes.
inline void WriteForkMessage(int height, const Bytes32& node_key, const Bytes32& left_hash,
                             const Bytes32& right_hash, uint8_t* buf) {
  buf[0] = kMergeNormalTag;
  buf[1] = static_cast<uint8_t>(height);
  std::copy(node_key.bytes.begin(), node_key.bytes.end(), buf + 2);
  std::copy(left_hash.bytes.begin(), left_hash.bytes.end(), buf + 34);
  std::copy(right_hash.bytes.begin(), right_hash.bytes.end(), buf + 66);
}

// hash(Value v) = v; hash(MWZ) = H(0x02 || base || zero_bits || zero_count).
template <typename Hasher>
Bytes32 HashOf(Hasher& hasher, const MergeValue& m) {
  if (m.kind == MergeValue::Kind::kValue) return m.value;
  std::array<uint8_t, kMergeZerosBytes> buf;
  WriteMergeZerosMessage(m, buf.data());
  return hasher.Digest(buf);
}

// base = H(height || node_key || value).
template <typename Hasher>
Bytes32 BaseNode(Hasher& hasher, int height, const Bytes32& node_key, const Bytes32& value) {
  std::array<uint8_t, kBaseNodeBytes> buf;
  WriteBaseNodeMessage(height, node_key, value, buf.data());
  return hasher.Digest(buf);
}

// Merges a non-zero node with an empty sibling at `height`. `set_bit`: the node is the right child.
// The Shape form does no hashing: when it sets *needs_base, the result's base (`value`) is still
// to be filled with BaseNode(height, node_key, v.value), so callers can hash bases in batches.
inline MergeValue MergeWithZeroShape(int height, const MergeValue& v, bool set_bit, bool* needs_base) {
  *needs_base = v.kind == MergeValue::Kind::kValue;
  if (*needs_base) {
    Bytes32 bits;
    if (set_bit) SetBit(bits, height);
    return MergeValue::MergeWithZero(Bytes32(), bits, 1);
  }
  MergeValue r = v;
  if (set_bit) SetBit(r.zero_bits, height);
  r.zero_count = static_cast<uint8_t>(r.zero_count + 1);
  return r;
}

template <typename Hasher>
MergeValue MergeWithZero(Hasher& hasher, int height, const Bytes32& node_key, const MergeValue& v,
                         bool set_bit) {
  bool needs_base = false;
  MergeValue r = MergeWithZeroShape(height, v, set_bit, &needs_base);
  if (needs_base) r.value = BaseNode(hasher, height, node_key, v.value);
  return r;
}

// The fork of two non-empty nodes.
template <typename Hasher>
Bytes32 MergeHashes(Hasher& hasher, int height, const Bytes32& node_key, const Bytes32& left_hash,
                    const Bytes32& right_hash) {
  std::array<uint8_t, kForkBytes> buf;
  WriteForkMessage(height, node_key, left_hash, right_hash, buf.data());
  return hasher.Digest(buf);
}

// merge(height, node_key, L, R) of docs/protocol.md.
template <typename Hasher>
MergeValue Merge(Hasher& hasher, int height, const Bytes32& node_key, const MergeValue& left,
                 const MergeValue& right) {
  const bool left_zero = left.IsZero(), right_zero = right.IsZero();
  if (left_zero && right_zero) return MergeValue();
  if (left_zero) return MergeWithZero(hasher, height, node_key, right, true);
  if (right_zero) return MergeWithZero(hasher, height, node_key, left, false);
  return MergeValue::FromValue(
      MergeHashes(hasher, height, node_key, HashOf(hasher, left), HashOf(hasher, right)));
}

// The node `v` sitting at `level` on `path` (bits below `level` clear, or a full leaf key at
// level 0), merged with empty siblings at heights level..target-1. Equal to folding
// MergeWithZero over those heights, with at most one hash. REQUIRES: level <= target <= 256.
// The Shape form does no hashing: when it sets *needs_base, the result's base is still to be
// filled with BaseNode(level, ParentPath(path, level), v.value).
// LiftShapeInto writes the same into `*out` field by field (`out` may be `&v`): a MergeValue
// returned on the stack and copied into place stalls on store forwarding in hot loops.
inline void LiftShapeInto(const MergeValue& v, int level, const Bytes32& path, int target, bool* needs_base,
                          MergeValue* out) {
  *needs_base = false;
  if (target == level || v.IsZero()) {
    if (out != &v) *out = v;
    return;
  }
  const Bytes32 bits = BitsInRange(path, level, target);
  const uint8_t lifted = static_cast<uint8_t>(target - level);
  if (v.kind == MergeValue::Kind::kValue) {
    *needs_base = true;
    out->kind = MergeValue::Kind::kMergeWithZero;
    out->zero_count = lifted;
    out->value = Bytes32();
    out->zero_bits = bits;
    return;
  }
  out->kind = MergeValue::Kind::kMergeWithZero;
  out->zero_count = static_cast<uint8_t>(v.zero_count + lifted);
  out->value = v.value;
  for (int i = 0; i < 32; ++i) out->zero_bits[i] = static_cast<uint8_t>(v.zero_bits[i] | bits[i]);
}
inline MergeValue LiftShape(const MergeValue& v, int level, const Bytes32& path, int target, bool* needs_base) {
  MergeValue r;
  LiftShapeInto(v, level, path, target, needs_base, &r);
  return r;
}

template <typename Hasher>
MergeValue Lift(Hasher& hasher, const MergeValue& v, int level, const Bytes32& path, int target) {
  bool needs_base = false;
  MergeValue r = LiftShape(v, level, path, target, &needs_base);
  if (needs_base) r.value = BaseNode(hasher, level, ParentPath(path, level), v.value);
  return r;
}

}  // namespace pom::smt
