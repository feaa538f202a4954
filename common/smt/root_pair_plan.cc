#include "common/smt/root_pair_plan.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/check.h"
#include "common/smt/key_bits.h"
#include "common/smt/multiproof.h"

namespace pom::smt::multiproof_internal {
namespace {

const Bytes32 kZero;

// Field by field rather than from a temporary: copying a Sym assembled on the stack stalls on
// store forwarding, which showed as a large share of the plan's time.
void SetPlain(PlanValue& v, PlanOperand value, bool zero) {
  v.mwz = false;
  v.zero = zero;
  v.count = 0;
  v.hash_job = -1;
  v.value = value;
}
void SetMergeWithZero(PlanValue& v, PlanOperand base, uint8_t count) {
  v.mwz = true;
  v.zero = false;
  v.count = count;
  v.hash_job = -1;
  v.value = base;
}

}  // namespace

void RootPairPlan::Clear() {
  waves_.Clear();
  leaves_.clear();
}

bool RootPairPlan::Same(const Sym& a, const Sym& b) {
  if (a.mwz != b.mwz) return false;
  if (!a.mwz) {
    if (a.zero || b.zero) return a.zero == b.zero;
    return a.value == b.value;
  }
  return a.count == b.count && a.value == b.value && a.bits == b.bits;
}

RootPairPlan::Operand RootPairPlan::HashOf(Sym& s) {
  if (!s.mwz) return s.zero ? zero_ : s.value;
  if (s.hash_job < 0) s.hash_job = AddJob(JobKind::kMergeZeros, s.count, s.bits, s.value);
  return s.hash_job;
}

// out = merge(h, parent, left, right) of docs/protocol.md, as MergeLanes in multiproof.h.
// `out` may be `left` or `right`.
void RootPairPlan::Merge(int h, const Bytes32& parent, Sym& left, Sym& right, Sym& out) {
  const bool left_zero = !left.mwz && left.zero, right_zero = !right.mwz && right.zero;
  if (left_zero && right_zero) {
    SetPlain(out, zero_, true);
    return;
  }
  if (left_zero || right_zero) {
    Sym& v = left_zero ? right : left;
    if (!v.mwz) {
      const Operand base = AddJob(JobKind::kBase, static_cast<uint8_t>(h), parent, v.value);
      SetMergeWithZero(out, base, 1);
      std::memset(out.bits.data(), 0, 32);
      if (left_zero) SetBit(out.bits, h);
      return;
    }
    if (&out != &v) out = v;
    out.hash_job = -1;
    if (left_zero) SetBit(out.bits, h);
    out.count = static_cast<uint8_t>(out.count + 1);
    return;
  }
  const Operand l = HashOf(left);
  const Operand r = HashOf(right);
  SetPlain(out, AddJob(JobKind::kFork, static_cast<uint8_t>(h), parent, l, r), false);
}

void RootPairPlan::MergeLanes(int h, const Bytes32& parent, std::array<Sym*, 2> left, std::array<Sym*, 2> right,
                              std::array<Sym, 2>& out) {
  const bool copy = Same(*left[1], *left[0]) && Same(*right[1], *right[0]);
  // Lane 0's result may overwrite an operand of lane 0 only; lane 1 reads its own.
  Merge(h, parent, *left[0], *right[0], out[0]);
  if (copy) {
    out[1] = out[0];
  } else {
    Merge(h, parent, *left[1], *right[1], out[1]);
  }
}

// Lift(v, level, path, target) of merge_value.h, in place.
void RootPairPlan::Lift(Sym& v, int level, const Bytes32& path, int target) {
  if (target == level || (!v.mwz && v.zero)) return;
  const Bytes32 bits = BitsInRange(path, level, target);
  const uint8_t lifted = static_cast<uint8_t>(target - level);
  if (!v.mwz) {
    const Operand base = AddJob(JobKind::kBase, static_cast<uint8_t>(level), ParentPath(path, level), v.value);
    SetMergeWithZero(v, base, lifted);
    v.bits = bits;
    return;
  }
  for (int i = 0; i < 32; ++i) v.bits[i] |= bits[i];
  v.count = static_cast<uint8_t>(v.count + lifted);
  v.hash_job = -1;
}

absl::Status RootPairPlan::Add(std::span<const uint8_t> proof, std::vector<LeafChange> leaves,
                               std::array<Operand, 2>* roots) {
  if (leaves.empty()) return absl::InvalidArgumentError("multiproof: no leaves");
  std::sort(leaves.begin(), leaves.end(), [](const LeafChange& a, const LeafChange& b) {
    return Bytes32NumericLess()(a.key, b.key);
  });
  for (size_t i = 1; i < leaves.size(); ++i) {
    if (leaves[i].key == leaves[i - 1].key) {
      return absl::InvalidArgumentError(absl::StrCat("multiproof: key ", ToHex(leaves[i].key), " appears twice"));
    }
  }
  const HashWaves::Mark before = waves_.mark();
  leaves_.push_back(std::move(leaves));
  const std::vector<LeafChange>& sorted = leaves_.back();
  auto fail = [&](absl::Status s) {
    waves_.Rollback(before);
    leaves_.pop_back();
    return s;
  };

  if (waves_.mark().literals == 0) zero_ = Literal(kZero.data());
  std::vector<Item>& stack = stack_;
  stack.clear();
  size_t leaf_index = 0;
  size_t pc = 0;
  uint8_t previous_op = 0;
  // Siblings live in the program bytes; each gets one Sym, shared by both lanes (so that a
  // merge-with-zero sibling is hashed once for both).
  Sym sibling;
  while (pc < proof.size()) {
    const size_t at = pc;
    const uint8_t op = proof[pc++];
    if (op == kOpZeros && previous_op == kOpZeros) return fail(Malformed(at, "split zero run"));
    previous_op = op;
    switch (op) {
      case kOpLeaf: {
        if (leaf_index >= sorted.size()) return fail(Malformed(at, "more leaf pushes than leaves"));
        const LeafChange& leaf = sorted[leaf_index++];
        Item& item = stack.emplace_back();
        item.height = 0;
        item.key = leaf.key;
        item.v[0].zero = leaf.old_value.IsZero();
        item.v[0].value = Literal(leaf.old_value.data());
        item.v[1].zero = leaf.new_value.IsZero();
        // Equal values share one operand, so that their paths are hashed once.
        item.v[1].value = leaf.new_value == leaf.old_value ? item.v[0].value : Literal(leaf.new_value.data());
        break;
      }
      case kOpSibling:
      case kOpSiblingMergeWithZero: {
        const size_t size = op == kOpSibling ? 32 : 65;
        if (proof.size() - pc < size) {
          return fail(Malformed(at, op == kOpSibling ? "truncated sibling" : "truncated merge-with-zero sibling"));
        }
        if (op == kOpSibling) {
          SetPlain(sibling, Literal(proof.data() + pc),
                   std::all_of(proof.data() + pc, proof.data() + pc + 32, [](uint8_t b) { return b == 0; }));
        } else {
          SetMergeWithZero(sibling, Literal(proof.data() + pc + 1), proof[pc]);
          std::memcpy(sibling.bits.data(), proof.data() + pc + 33, 32);
        }
        pc += size;
        if (stack.empty()) return fail(Malformed(at, "sibling with an empty stack"));
        Item& item = stack.back();
        if (item.height > 255) return fail(Malformed(at, "sibling above height 255"));
        const int h = item.height;
        if (!sibling.mwz && sibling.zero) return fail(Malformed(at, "empty sibling outside a zero run"));
        if (sibling.mwz) {
          const int count = sibling.count;
          if (count < 1 || count > h) return fail(Malformed(at, "merge-with-zero count out of range"));
          if (BitsInRange(sibling.bits, h - count, h) != sibling.bits) {
            return fail(Malformed(at, "merge-with-zero bits outside the lifted range"));
          }
        }
        const Bytes32 parent = ParentPath(item.key, h);
        const std::array<Sym*, 2> item_side{&item.v[0], &item.v[1]};
        const std::array<Sym*, 2> sibling_side{&sibling, &sibling};
        if (GetBit(item.key, h) != 0) {
          MergeLanes(h, parent, sibling_side, item_side, item.v);
        } else {
          MergeLanes(h, parent, item_side, sibling_side, item.v);
        }
        item.key = parent;
        item.height = h + 1;
        break;
      }
      case kOpMergeTop: {
        if (stack.size() < 2) return fail(Malformed(at, "merge with fewer than two items"));
        Item& right = stack[stack.size() - 1];
        Item& left = stack[stack.size() - 2];
        if (left.height != right.height) return fail(Malformed(at, "merge of items at different heights"));
        if (left.height > 255) return fail(Malformed(at, "merge above height 255"));
        const int h = left.height;
        const Bytes32 parent = ParentPath(left.key, h);
        if (parent != ParentPath(right.key, h)) return fail(Malformed(at, "merge of non-siblings"));
        if (GetBit(left.key, h) != 0 || GetBit(right.key, h) != 1) return fail(Malformed(at, "merge of items out of order"));
        MergeLanes(h, parent, {&left.v[0], &left.v[1]}, {&right.v[0], &right.v[1]}, left.v);
        left.key = parent;
        left.height = h + 1;
        stack.pop_back();
        break;
      }
      case kOpZeros: {
        if (stack.empty()) return fail(Malformed(at, "zeros with an empty stack"));
        if (pc >= proof.size()) return fail(Malformed(at, "truncated zero count"));
        const int count = proof[pc] == 0 ? 256 : proof[pc];
        ++pc;
        Item& item = stack.back();
        if (item.height + count > 256) return fail(Malformed(at, "zeros past height 256"));
        const bool copy = Same(item.v[1], item.v[0]);
        Lift(item.v[0], item.height, item.key, item.height + count);
        if (copy) {
          item.v[1] = item.v[0];
        } else {
          Lift(item.v[1], item.height, item.key, item.height + count);
        }
        item.height += count;
        item.key = ClearBitsBelow(item.key, item.height);
        break;
      }
      default:
        return fail(Malformed(at, absl::StrCat("unknown opcode 0x", ToHex(std::span(&op, 1)))));
    }
  }
  if (stack.size() != 1) return fail(Malformed(pc, "program does not end with exactly one item"));
  if (stack[0].height != 256) return fail(Malformed(pc, "program does not end at height 256"));
  if (leaf_index != sorted.size()) return fail(Malformed(pc, "not every leaf was used"));
  (*roots)[0] = HashOf(stack[0].v[0]);
  (*roots)[1] = Same(stack[0].v[1], stack[0].v[0]) ? (*roots)[0] : HashOf(stack[0].v[1]);
  return absl::OkStatus();
}

}  // namespace pom::smt::multiproof_internal
