// A deliberately naive sparse Merkle tree for tests: it stores a branch record at every one of
// the 256 heights on every path (no compression) and builds multiproofs by looking siblings up
// level by level, the way the algorithm is first described. The real tree must agree with it
// on every root and every proof byte.
#pragma once

#include <map>
#include <utility>
#include <vector>

#include "common/bytes.h"
#include "common/smt/key_bits.h"
#include "common/smt/merge_value.h"
#include "common/smt/multiproof.h"

namespace pom::testing {

template <typename Hasher>
class ReferenceSmt {
 public:
  void Update(const Bytes32& key, const Bytes32& value) {
    smt::MergeValue node = smt::MergeValue::FromValue(value);
    Bytes32 current = key;
    for (int h = 0; h < 256; ++h) {
      const Bytes32 parent = smt::ParentPath(current, h);
      const auto id = std::make_pair(h, parent.bytes);
      std::pair<smt::MergeValue, smt::MergeValue> children;
      if (auto it = branches_.find(id); it != branches_.end()) children = it->second;
      (smt::GetBit(current, h) ? children.second : children.first) = node;
      if (children.first.IsZero() && children.second.IsZero()) {
        branches_.erase(id);
      } else {
        branches_[id] = children;
      }
      node = smt::Merge(hasher_, h, parent, children.first, children.second);
      current = parent;
    }
    root_ = smt::HashOf(hasher_, node);
  }

  const Bytes32& root() const { return root_; }

  // REQUIRES: keys distinct and non-empty.
  std::vector<uint8_t> Multiproof(std::vector<Bytes32> keys) {
    std::sort(keys.begin(), keys.end(), Bytes32NumericLess());
    std::vector<uint8_t> out;
    std::vector<int> fork_stack;
    for (size_t i = 0; i < keys.size(); ++i) {
      const bool last = i + 1 == keys.size();
      const int fork = last ? 255 : smt::HighestDiffBit(keys[i], keys[i + 1], 0);
      out.push_back(smt::kOpLeaf);
      int zeros = 0;
      auto flush = [&] {
        if (zeros > 0) {
          out.push_back(smt::kOpZeros);
          out.push_back(static_cast<uint8_t>(zeros == 256 ? 0 : zeros));
          zeros = 0;
        }
      };
      for (int h = 0; h <= fork; ++h) {
        if (h == fork && !last) break;
        if (!fork_stack.empty() && fork_stack.back() == h) {
          fork_stack.pop_back();
          flush();
          out.push_back(smt::kOpMergeTop);
          continue;
        }
        const smt::MergeValue sibling = SiblingAt(keys[i], h);
        if (sibling.IsZero()) {
          ++zeros;
          continue;
        }
        flush();
        if (sibling.kind == smt::MergeValue::Kind::kValue) {
          out.push_back(smt::kOpSibling);
          out.insert(out.end(), sibling.value.bytes.begin(), sibling.value.bytes.end());
        } else {
          out.push_back(smt::kOpSiblingMergeWithZero);
          out.push_back(sibling.zero_count);
          out.insert(out.end(), sibling.value.bytes.begin(), sibling.value.bytes.end());
          out.insert(out.end(), sibling.zero_bits.bytes.begin(), sibling.zero_bits.bytes.end());
        }
      }
      flush();
      fork_stack.push_back(fork);
    }
    return out;
  }

 private:
  smt::MergeValue SiblingAt(const Bytes32& key, int h) const {
    auto it = branches_.find(std::make_pair(h, smt::ParentPath(key, h).bytes));
    if (it == branches_.end()) return smt::MergeValue();
    return smt::GetBit(key, h) ? it->second.first : it->second.second;
  }

  Hasher hasher_;
  std::map<std::pair<int, std::array<uint8_t, 32>>, std::pair<smt::MergeValue, smt::MergeValue>>
      branches_;
  Bytes32 root_;
};

}  // namespace pom::testing
