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
// Implementation: one interpreter over N lanes of leaf values. ComputeMultiproofRoot runs it
// with N = 1; N = 2 (old and new, the lanes' hashes in pairs through Hasher::DigestPair) was the
// verifier's root pair before the plan replaced it, and stays usable for comparisons.

namespace multiproof_internal {

absl::Status Malformed(size_t offset, std::string_view what);

template <size_t N>
struct Item {
  int height;
  Bytes32 key;
  std::array<MergeValue, N> v;
};

// Tree messages queued for hashing and hashed two at a time (Hasher::DigestPair), so that the
// lanes' hashes at one node overlap on the CPU.
template <size_t kCapacity>
class HashQueue {
 public:
  // The buffer to write a message of `len` bytes into; Flush() stores its digest in *out.
  uint8_t* Add(size_t len, Bytes32* out) {
    POM_CHECK(size_ < kCapacity && len <= kTreeMessageMax);
    Job& job = jobs_[size_++];
    job.len = len;
    job.out = out;
    return job.buf.data();
  }

  template <typename Hasher>
  void Flush(Hasher& hasher) {
    size_t i = 0;
    for (; i + 1 < size_; i += 2) {
      hasher.DigestPair(jobs_[i].Message(), jobs_[i + 1].Message(), jobs_[i].out, jobs_[i + 1].out);
    }
    if (i < size_) *jobs_[i].out = hasher.Digest(jobs_[i].Message());
    size_ = 0;
  }

 private:
  struct Job {
    std::array<uint8_t, kTreeMessageMax> buf;
    size_t len = 0;
    Bytes32* out = nullptr;
    std::span<const uint8_t> Message() const { return {buf.data(), len}; }
  };
  std::array<Job, kCapacity> jobs_;
  size_t size_ = 0;
};

// out[i] = Merge(h, parent, *left[i], *right[i]) for every lane, with the lanes' hashes in
// pairs. A lane whose inputs equal lane 0's copies its result, and an operand that is the same
// object in every lane (a sibling) is hashed once.
template <typename Hasher, size_t N>
std::array<MergeValue, N> MergeLanes(Hasher& hasher, int h, const Bytes32& parent,
                                     const std::array<const MergeValue*, N>& left,
                                     const std::array<const MergeValue*, N>& right) {
  std::array<MergeValue, N> out;
  std::array<bool, N> copy{}, fork{}, share_left{}, share_right{};
  std::array<Bytes32, N> left_hash, right_hash;
  HashQueue<2 * N> queue;
  // Operand hashes and bases first, then the forks that need the operand hashes.
  for (size_t i = 0; i < N; ++i) {
    if (i > 0 && *left[i] == *left[0] && *right[i] == *right[0]) {
      copy[i] = true;
      continue;
    }
    const MergeValue& l = *left[i];
    const MergeValue& r = *right[i];
    const bool left_zero = l.IsZero(), right_zero = r.IsZero();
    if (left_zero && right_zero) continue;  // out[i] stays empty
    if (left_zero || right_zero) {
      const MergeValue& v = left_zero ? r : l;
      bool needs_base = false;
      out[i] = MergeWithZeroShape(h, v, left_zero, &needs_base);
      if (needs_base) WriteBaseNodeMessage(h, parent, v.value, queue.Add(kBaseNodeBytes, &out[i].value));
      continue;
    }
    fork[i] = true;
    // hash(operand): a plain value is its own hash; a sibling lane 0 already queued is shared.
    auto operand = [&](const std::array<const MergeValue*, N>& side, std::array<Bytes32, N>& hash,
                       std::array<bool, N>& share) {
      const MergeValue& m = *side[i];
      if (m.kind == MergeValue::Kind::kValue) {
        hash[i] = m.value;
      } else if (i > 0 && side[i] == side[0] && fork[0]) {
        share[i] = true;
      } else {
        WriteMergeZerosMessage(m, queue.Add(kMergeZerosBytes, &hash[i]));
      }
    };
    operand(left, left_hash, share_left);
    operand(right, right_hash, share_right);
  }
  queue.Flush(hasher);
  for (size_t i = 0; i < N; ++i) {
    if (!fork[i]) continue;
    if (share_left[i]) left_hash[i] = left_hash[0];
    if (share_right[i]) right_hash[i] = right_hash[0];
    WriteForkMessage(h, parent, left_hash[i], right_hash[i], queue.Add(kForkBytes, &out[i].value));
  }
  queue.Flush(hasher);
  for (size_t i = 1; i < N; ++i) {
    if (copy[i]) out[i] = out[0];
  }
  return out;
}

// out[i] = Lift(v[i], level, path, target) for every lane, the bases hashed in pairs.
template <typename Hasher, size_t N>
std::array<MergeValue, N> LiftLanes(Hasher& hasher, const std::array<MergeValue, N>& v, int level,
                                    const Bytes32& path, int target) {
  std::array<MergeValue, N> out;
  std::array<bool, N> copy{};
  HashQueue<N> queue;
  const Bytes32 node_key = ParentPath(path, level);
  for (size_t i = 0; i < N; ++i) {
    if (i > 0 && v[i] == v[0]) {
      copy[i] = true;
      continue;
    }
    bool needs_base = false;
    out[i] = LiftShape(v[i], level, path, target, &needs_base);
    if (needs_base) WriteBaseNodeMessage(level, node_key, v[i].value, queue.Add(kBaseNodeBytes, &out[i].value));
  }
  queue.Flush(hasher);
  for (size_t i = 1; i < N; ++i) {
    if (copy[i]) out[i] = out[0];
  }
  return out;
}

// hash(v[i]) for every lane, in pairs.
template <typename Hasher, size_t N>
std::array<Bytes32, N> HashLanes(Hasher& hasher, const std::array<MergeValue, N>& v) {
  std::array<Bytes32, N> out;
  std::array<bool, N> copy{};
  HashQueue<N> queue;
  for (size_t i = 0; i < N; ++i) {
    if (i > 0 && v[i] == v[0]) {
      copy[i] = true;
    } else if (v[i].kind == MergeValue::Kind::kValue) {
      out[i] = v[i].value;
    } else {
      WriteMergeZerosMessage(v[i], queue.Add(kMergeZerosBytes, &out[i]));
    }
  }
  queue.Flush(hasher);
  for (size_t i = 1; i < N; ++i) {
    if (copy[i]) out[i] = out[0];
  }
  return out;
}

template <typename Hasher, size_t N>
absl::StatusOr<std::array<Bytes32, N>> RunProgram(Hasher& hasher, std::span<const uint8_t> proof,
                                                  const std::vector<Bytes32>& keys,
                                                  const std::vector<std::array<Bytes32, N>>& values,
                                                  std::vector<ProofSibling>* siblings) {
  std::vector<Item<N>> stack;
  stack.reserve(keys.size() + 1);
  size_t leaf_index = 0;
  size_t pc = 0;
  uint8_t previous_op = 0;

  auto merge_sibling = [&](const MergeValue& sibling, size_t at) -> absl::Status {
    if (stack.empty()) return Malformed(at, "sibling with an empty stack");
    Item<N>& item = stack.back();
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
    const bool right = GetBit(item.key, h) != 0;
    std::array<const MergeValue*, N> item_side, sibling_side;
    for (size_t i = 0; i < N; ++i) {
      item_side[i] = &item.v[i];
      sibling_side[i] = &sibling;
    }
    item.v = right ? MergeLanes(hasher, h, parent, sibling_side, item_side)
                   : MergeLanes(hasher, h, parent, item_side, sibling_side);
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
        if (leaf_index >= keys.size()) return Malformed(at, "more leaf pushes than leaves");
        Item<N> item{0, keys[leaf_index], {}};
        for (size_t i = 0; i < N; ++i) item.v[i] = MergeValue::FromValue(values[leaf_index][i]);
        stack.push_back(item);
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
        Item<N> right = std::move(stack.back());
        stack.pop_back();
        Item<N>& left = stack.back();
        if (left.height != right.height) return Malformed(at, "merge of items at different heights");
        if (left.height > 255) return Malformed(at, "merge above height 255");
        const int h = left.height;
        const Bytes32 parent = ParentPath(left.key, h);
        if (parent != ParentPath(right.key, h)) return Malformed(at, "merge of non-siblings");
        if (GetBit(left.key, h) != 0 || GetBit(right.key, h) != 1) {
          return Malformed(at, "merge of items out of order");
        }
        std::array<const MergeValue*, N> left_side, right_side;
        for (size_t i = 0; i < N; ++i) {
          left_side[i] = &left.v[i];
          right_side[i] = &right.v[i];
        }
        left.v = MergeLanes(hasher, h, parent, left_side, right_side);
        left.key = parent;
        left.height = h + 1;
        break;
      }
      case kOpZeros: {
        if (stack.empty()) return Malformed(at, "zeros with an empty stack");
        if (pc >= proof.size()) return Malformed(at, "truncated zero count");
        const int count = proof[pc] == 0 ? 256 : proof[pc];
        ++pc;
        Item<N>& item = stack.back();
        if (item.height + count > 256) return Malformed(at, "zeros past height 256");
        item.v = LiftLanes(hasher, item.v, item.height, item.key, item.height + count);
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
  if (leaf_index != keys.size()) return Malformed(pc, "not every leaf was used");
  return HashLanes(hasher, stack[0].v);
}

}  // namespace multiproof_internal

template <typename Hasher>
absl::StatusOr<Bytes32> ComputeMultiproofRoot(Hasher& hasher, std::span<const uint8_t> proof,
                                              std::vector<SmtLeaf> leaves,
                                              std::vector<ProofSibling>* siblings) {
  absl::Status sorted = SortLeavesForProof(leaves);
  if (!sorted.ok()) return sorted;
  std::vector<Bytes32> keys;
  std::vector<std::array<Bytes32, 1>> values;
  keys.reserve(leaves.size());
  values.reserve(leaves.size());
  for (const SmtLeaf& l : leaves) {
    keys.push_back(l.key);
    values.push_back({l.value});
  }
  absl::StatusOr<std::array<Bytes32, 1>> root =
      multiproof_internal::RunProgram<Hasher, 1>(hasher, proof, keys, values, siblings);
  if (!root.ok()) return root.status();
  return (*root)[0];
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
