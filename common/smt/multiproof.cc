#include "common/smt/multiproof.h"

#include <algorithm>

#include "common/check.h"

namespace pom::smt {

namespace multiproof_internal {
absl::Status Malformed(size_t offset, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("malformed multiproof at byte ", offset, ": ", std::string(what)));
}
}  // namespace multiproof_internal

absl::Status SortLeavesForProof(std::vector<SmtLeaf>& leaves) {
  if (leaves.empty()) return absl::InvalidArgumentError("multiproof: no leaves");
  std::sort(leaves.begin(), leaves.end(), [](const SmtLeaf& a, const SmtLeaf& b) {
    return Bytes32NumericLess()(a.key, b.key);
  });
  for (size_t i = 1; i < leaves.size(); ++i) {
    if (leaves[i].key == leaves[i - 1].key) {
      return absl::InvalidArgumentError(
          absl::StrCat("multiproof: key ", ToHex(leaves[i].key), " appears twice"));
    }
  }
  return absl::OkStatus();
}

namespace {

void FlushZeros(std::vector<uint8_t>& out, int& zero_count) {
  if (zero_count == 0) return;
  out.push_back(kOpZeros);
  out.push_back(static_cast<uint8_t>(zero_count == 256 ? 0 : zero_count));
  zero_count = 0;
}

void AppendSibling(std::vector<uint8_t>& out, const MergeValue& v) {
  if (v.kind == MergeValue::Kind::kValue) {
    out.push_back(kOpSibling);
    out.insert(out.end(), v.value.bytes.begin(), v.value.bytes.end());
  } else {
    out.push_back(kOpSiblingMergeWithZero);
    out.push_back(v.zero_count);
    out.insert(out.end(), v.value.bytes.begin(), v.value.bytes.end());
    out.insert(out.end(), v.zero_bits.bytes.begin(), v.zero_bits.bytes.end());
  }
}

}  // namespace

std::vector<uint8_t> CompileMultiproof(std::span<const KeySiblings> keys) {
  POM_CHECK(!keys.empty());
  // Sized once: a leaf and a merge byte per key, a zero run before each sibling and a last one,
  // each sibling at most 66 bytes.
  size_t bound = 0;
  for (const KeySiblings& k : keys) bound += 4 + 68 * k.siblings.size();
  std::vector<uint8_t> out;
  out.reserve(bound);
  // Heights at which earlier groups wait to be merged with a later key (innermost on top).
  std::vector<int> pending;
  pending.reserve(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    const bool last = i + 1 == keys.size();
    // Below the fork with the next key, this key's path is its own; at the fork the next
    // key's group will merge it in.
    const int fork = last ? 256 : HighestDiffBit(keys[i].key, keys[i + 1].key, 0);
    POM_CHECK(fork >= 0);
    out.push_back(kOpLeaf);
    int zero_count = 0;
    size_t next = 0;
    // Lowest first, as the program merges them (the list is highest first). Indexed by hand:
    // clang-14, which builds the fuzzers, cannot compile libstdc++ 12's std::views::reverse.
    const std::vector<std::pair<int, MergeValue>>& highest_first = keys[i].siblings;
    const size_t count = highest_first.size();
    auto sib = [&](size_t k) -> const std::pair<int, MergeValue>& { return highest_first[count - 1 - k]; };
    // Jump from one height with something to merge (a sibling, or an earlier group waiting at
    // its fork) to the next; the heights between are empty siblings.
    int h = 0;
    while (h < fork) {
      while (next < count && sib(next).first < h) ++next;
      int event = fork;
      if (next < count) event = std::min(event, sib(next).first);
      if (!pending.empty()) event = std::min(event, pending.back());
      zero_count += event - h;
      h = event;
      if (h == fork) break;
      FlushZeros(out, zero_count);
      if (!pending.empty() && pending.back() == h) {
        // The earlier group's subtree, not the tree's sibling there, is what merges in.
        pending.pop_back();
        out.push_back(kOpMergeTop);
      } else {
        AppendSibling(out, sib(next).second);
      }
      ++h;
    }
    FlushZeros(out, zero_count);
    if (!last) pending.push_back(fork);
  }
  POM_CHECK(pending.empty());
  return out;
}

}  // namespace pom::smt
