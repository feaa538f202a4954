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
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/bytes.h"
#include "common/check.h"
#include "common/smt/key_bits.h"
#include "common/smt/merge_value.h"
#include "common/smt/root_pair_plan.h"

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

// The old and the new root of one program at once: the verifier's case. Siblings are hashed
// once for both, and where a subtree's old and new values are equal it is hashed once. Computed
// by the plan of root_pair_plan.h (where LeafChange and RootPair are), not by the interpreter
// below; tests and the multiproof fuzz target compare the two.
template <typename Hasher>
absl::StatusOr<RootPair> ComputeMultiproofRootPair(Hasher& hasher, std::span<const uint8_t> proof,
                                                   std::vector<LeafChange> leaves);

// The root pairs of several independent proofs at once: out[i] equals
// ComputeMultiproofRootPair(hasher, inputs[i].proof, inputs[i].leaves). Their hashes are
// planned first and then computed in batches (root_pair_plan.h), which is faster per proof the
// more proofs share a call.
struct RootPairInput {
  std::span<const uint8_t> proof;
  std::vector<LeafChange> leaves;
};
template <typename Hasher>
std::vector<absl::StatusOr<RootPair>> ComputeMultiproofRootPairs(Hasher& hasher, std::span<RootPairInput> inputs);

// The per-key material a program is compiled from: each key's non-empty siblings, highest
// first (the order in which a walk down from the top meets them).
struct KeySiblings {
  Bytes32 key;
  std::vector<std::pair<int, MergeValue>> siblings;  // (height, sibling), descending height
};

// Compiles the program for `keys`. REQUIRES: keys sorted in proof order, non-empty, distinct;
// each key's siblings exactly the non-empty siblings on its path in one tree.
std::vector<uint8_t> CompileMultiproof(std::span<const KeySiblings> keys);

// ---------------------------------------------------------------------------------------------
// Implementation: the interpreter, one node at a time with the merge rules of merge_value.h.
// (The verifier's root pairs are planned instead: root_pair_plan.h, which keeps the same program
// rules and messages.)

namespace multiproof_internal {

absl::Status Malformed(size_t offset, std::string_view what);

struct Item {
  int height;
  Bytes32 key;
  MergeValue v;
};

template <typename Hasher>
absl::StatusOr<Bytes32> RunProgram(Hasher& hasher, std::span<const uint8_t> proof, const std::vector<SmtLeaf>& leaves,
                                   std::vector<ProofSibling>* siblings) {
  std::vector<Item> stack;
  stack.reserve(leaves.size() + 1);
  size_t leaf_index = 0;
  size_t pc = 0;
  uint8_t previous_op = 0;

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
    if (siblings != nullptr) siblings->push_back({h, item.key, sibling});
    const Bytes32 parent = ParentPath(item.key, h);
    item.v = GetBit(item.key, h) != 0 ? Merge(hasher, h, parent, sibling, item.v) : Merge(hasher, h, parent, item.v, sibling);
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
        stack.push_back(Item{0, leaves[leaf_index].key, MergeValue::FromValue(leaves[leaf_index].value)});
        ++leaf_index;
        break;
      }
      case kOpSibling: {
        if (proof.size() - pc < 32) return Malformed(at, "truncated sibling");
        MergeValue sibling;
        std::copy_n(proof.begin() + pc, 32, sibling.value.bytes.begin());
        pc += 32;
        if (absl::Status s = merge_sibling(sibling, at); !s.ok()) return s;
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
        if (absl::Status s = merge_sibling(sibling, at); !s.ok()) return s;
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
        left.v = Merge(hasher, h, parent, left.v, right.v);
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
        item.v = Lift(hasher, item.v, item.height, item.key, item.height + count);
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
  return HashOf(hasher, stack[0].v);
}

}  // namespace multiproof_internal

template <typename Hasher>
absl::StatusOr<Bytes32> ComputeMultiproofRoot(Hasher& hasher, std::span<const uint8_t> proof,
                                              std::vector<SmtLeaf> leaves,
                                              std::vector<ProofSibling>* siblings) {
  absl::Status sorted = SortLeavesForProof(leaves);
  if (!sorted.ok()) return sorted;
  return multiproof_internal::RunProgram(hasher, proof, leaves, siblings);
}

template <typename Hasher>
std::vector<absl::StatusOr<RootPair>> ComputeMultiproofRootPairs(Hasher& hasher, std::span<RootPairInput> inputs) {
  // One plan per thread, so that its buffers are allocated once.
  thread_local multiproof_internal::RootPairPlan plan;
  plan.Clear();
  std::vector<absl::StatusOr<std::array<multiproof_internal::RootPairPlan::Operand, 2>>> planned;
  planned.reserve(inputs.size());
  for (RootPairInput& input : inputs) {
    std::array<multiproof_internal::RootPairPlan::Operand, 2> roots;
    absl::Status s = plan.Add(input.proof, std::move(input.leaves), &roots);
    if (s.ok()) {
      planned.push_back(roots);
    } else {
      planned.push_back(std::move(s));
    }
  }
  plan.Evaluate(hasher);
  std::vector<absl::StatusOr<RootPair>> out;
  out.reserve(inputs.size());
  for (const auto& p : planned) {
    if (p.ok()) {
      out.push_back(RootPair{plan.Resolve((*p)[0]), plan.Resolve((*p)[1])});
    } else {
      out.push_back(p.status());
    }
  }
  return out;
}

template <typename Hasher>
absl::StatusOr<RootPair> ComputeMultiproofRootPair(Hasher& hasher, std::span<const uint8_t> proof,
                                                   std::vector<LeafChange> leaves) {
  RootPairInput input{proof, std::move(leaves)};
  return std::move(ComputeMultiproofRootPairs(hasher, std::span<RootPairInput>(&input, 1))[0]);
}

}  // namespace pom::smt
