// Compiled multiproofs: a byte program over the proven leaves (sorted by key, bytes compared
// from 31 down to 0) that folds them, with the siblings it carries, into a root. One program
// proves old values against the old root and new values against the new root.
//
//   0x4C             push the next leaf (height 0)
//   0x50 v[32]       merge the top item with sibling Value(v)
//   0x51 n b[32] z[32]  merge the top item with sibling MergeWithZero(base b, zero_bits z, count n)
//   0x48             merge the two top items (same height, same parent; left below right)
//   0x4F n           merge the top item with n empty siblings (n = 0 means 256)
// The program must end with exactly one item, at height 256, every leaf consumed.
// Byte-compatible with Fusotao's compiled proofs (docs/protocol.md "Multiproof"). Unlike
// Fusotao's verifier, only canonical programs are accepted, so a proof has exactly one byte
// form: a 0x50 sibling is non-zero (an empty sibling is part of a zero run), zero runs are
// maximal (no 0x4F right after 0x4F), and a 0x51 sibling merged at height h has
// 1 <= count <= h and zero_bits only within heights h - count .. h - 1 (a lifted subtree can
// have no other). Without the last rule, bits a later zero-merge sets anyway could be flipped.
// Thread-safety: pure functions over a caller-owned hasher.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/bytes.h"
#include "common/smt/key_bits.h"
#include "common/smt/merge_value.h"

namespace pom::smt {

inline constexpr uint8_t kOpLeaf = 0x4C;
inline constexpr uint8_t kOpSibling = 0x50;
inline constexpr uint8_t kOpSiblingMergeWithZero = 0x51;
inline constexpr uint8_t kOpMergeTop = 0x48;
inline constexpr uint8_t kOpZeros = 0x4F;

struct SmtLeaf {
  Bytes32 key;
  Bytes32 value;  // all-zero: absent
};

// Sorts leaves into proof order. Errors: InvalidArgument if empty or a key repeats.
absl::Status SortLeavesForProof(std::vector<SmtLeaf>& leaves);

// A sibling that a program merges in: the item at `height` on `key`'s path met `value`.
struct ProofSibling {
  int height = 0;
  Bytes32 key;  // the path of the item it was merged with (bits below height may be set)
  MergeValue value;
};

// Runs `proof` over `leaves` (any order; sorted here) and returns the root it proves.
// If `siblings` is given, every non-empty sibling the program merges in is appended to it.
// Errors: InvalidArgument for an empty or repeated key set or a malformed program (bad opcode,
// truncated operand, stack underflow, height past 256, mismatched merge, leftover items or leaves).
template <typename Hasher>
absl::StatusOr<Bytes32> ComputeMultiproofRoot(Hasher& hasher, std::span<const uint8_t> proof,
                                              std::vector<SmtLeaf> leaves,
                                              std::vector<ProofSibling>* siblings = nullptr);

// The per-key material a program is compiled from: each key's non-empty siblings by ascending
// height, as the tree holds them.
struct KeySiblings {
  Bytes32 key;
  std::vector<std::pair<int, MergeValue>> siblings;  // (height, sibling), ascending height
};

// Compiles the program for `keys`. REQUIRES: keys sorted in proof order, non-empty, distinct;
// each key's siblings exactly the non-empty siblings on its path in one tree.
std::vector<uint8_t> CompileMultiproof(std::span<const KeySiblings> keys);

// ---------------------------------------------------------------------------------------------
// Implementation.

namespace multiproof_internal {
struct Item {
  int height;
  Bytes32 key;
  MergeValue value;
};
absl::Status Malformed(size_t offset, std::string_view what);
}  // namespace multiproof_internal

template <typename Hasher>
absl::StatusOr<Bytes32> ComputeMultiproofRoot(Hasher& hasher, std::span<const uint8_t> proof,
                                              std::vector<SmtLeaf> leaves,
                                              std::vector<ProofSibling>* siblings) {
  using multiproof_internal::Item;
  using multiproof_internal::Malformed;
  absl::Status sorted = SortLeavesForProof(leaves);
  if (!sorted.ok()) return sorted;
  std::vector<Item> stack;
  stack.reserve(leaves.size() + 1);
  size_t leaf_index = 0;
  size_t pc = 0;
  uint8_t previous_op = 0;

  // Merges the top item with `sibling` at the item's height.
  auto merge_sibling = [&](const MergeValue& sibling, size_t at) -> absl::Status {
    if (stack.empty()) return Malformed(at, "sibling with an empty stack");
    Item& item = stack.back();
    if (item.height > 255) return Malformed(at, "sibling above height 255");
    const int h = item.height;
    if (sibling.kind == MergeValue::Kind::kValue && sibling.IsZero()) {
      return Malformed(at, "empty sibling outside a zero run");
    }
    if (sibling.kind == MergeValue::Kind::kMergeWithZero) {
      const int count = sibling.zero_count;
      if (count < 1 || count > h) return Malformed(at, "merge-with-zero count out of range");
      if (BitsInRange(sibling.zero_bits, h - count, h) != sibling.zero_bits) {
        return Malformed(at, "merge-with-zero bits outside the lifted range");
      }
    }
    if (siblings != nullptr && !sibling.IsZero()) siblings->push_back({h, item.key, sibling});
    const Bytes32 parent = ParentPath(item.key, h);
    item.value = GetBit(item.key, h) ? Merge(hasher, h, parent, sibling, item.value)
                                     : Merge(hasher, h, parent, item.value, sibling);
    item.key = parent;
    item.height = h + 1;
    return absl::OkStatus();
  };

  while (pc < proof.size()) {
    const size_t at = pc;
    const uint8_t op = proof[pc++];
    if (op == kOpZeros && previous_op == kOpZeros) return Malformed(at, "split zero run");
    previous_op = op;
    switch (op) {
      case kOpLeaf: {
        if (leaf_index >= leaves.size()) return Malformed(at, "more leaf pushes than leaves");
        const SmtLeaf& leaf = leaves[leaf_index++];
        stack.push_back({0, leaf.key, MergeValue::FromValue(leaf.value)});
        break;
      }
      case kOpSibling: {
        if (proof.size() - pc < 32) return Malformed(at, "truncated sibling");
        MergeValue sibling;
        std::copy_n(proof.begin() + pc, 32, sibling.value.bytes.begin());
        pc += 32;
        absl::Status s = merge_sibling(sibling, at);
        if (!s.ok()) return s;
        break;
      }
      case kOpSiblingMergeWithZero: {
        if (proof.size() - pc < 65) return Malformed(at, "truncated merge-with-zero sibling");
        MergeValue sibling;
        sibling.kind = MergeValue::Kind::kMergeWithZero;
        sibling.zero_count = proof[pc];
        std::copy_n(proof.begin() + pc + 1, 32, sibling.value.bytes.begin());
        std::copy_n(proof.begin() + pc + 33, 32, sibling.zero_bits.bytes.begin());
        pc += 65;
        absl::Status s = merge_sibling(sibling, at);
        if (!s.ok()) return s;
        break;
      }
      case kOpMergeTop: {
        if (stack.size() < 2) return Malformed(at, "merge with fewer than two items");
        Item right = std::move(stack.back());
        stack.pop_back();
        Item& left = stack.back();
        if (left.height != right.height) return Malformed(at, "merge of items at different heights");
        if (left.height > 255) return Malformed(at, "merge above height 255");
        const int h = left.height;
        const Bytes32 parent = ParentPath(left.key, h);
        if (parent != ParentPath(right.key, h)) return Malformed(at, "merge of non-siblings");
        if (GetBit(left.key, h) != 0 || GetBit(right.key, h) != 1) {
          return Malformed(at, "merge of items out of order");
        }
        left.value = Merge(hasher, h, parent, left.value, right.value);
        left.key = parent;
        left.height = h + 1;
        break;
      }
      case kOpZeros: {
        if (stack.empty()) return Malformed(at, "zeros with an empty stack");
        if (pc >= proof.size()) return Malformed(at, "truncated zero count");
        const int count = proof[pc] == 0 ? 256 : proof[pc];
        ++pc;
        Item& item = stack.back();
        if (item.height + count > 256) return Malformed(at, "zeros past height 256");
        item.value = Lift(hasher, item.value, item.height, item.key, item.height + count);
        item.height += count;
        item.key = ClearBitsBelow(item.key, item.height);
        break;
      }
      default:
        return Malformed(at, absl::StrCat("unknown opcode 0x", ToHex(std::span(&op, 1))));
    }
  }
  if (stack.size() != 1) return Malformed(pc, "program does not end with exactly one item");
  if (stack[0].height != 256) return Malformed(pc, "program does not end at height 256");
  if (leaf_index != leaves.size()) return Malformed(pc, "not every leaf was used");
  return HashOf(hasher, stack[0].value);
}

}  // namespace pom::smt
