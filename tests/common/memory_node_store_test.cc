// MemoryNodeStore against a plain map, under random puts, deletes and reads with every kind of
// hint (right, stale, another node's, garbage, none): a hint may only ever save a lookup.
#include "common/smt/memory_node_store.h"

#include <gtest/gtest.h>

#include <map>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "common/smt/tree.h"
#include "tests/testing/random.h"

namespace pom::smt {
namespace {

// A node's content (hints are not content).
auto Content(const Node& n) {
  return std::tie(n.kind, n.value, n.child, n.child_lifted, n.child_hash);
}

bool SameContent(const Node& a, const Node& b) { return Content(a) == Content(b); }

// What the store keeps in its leaf arena, as bare key and value.
bool IsPlainLeaf(const NodeRef& ref, const Node& n) {
  return ref.level == 0 && n.kind == Node::Kind::kLeaf && n.value.kind == MergeValue::Kind::kValue &&
         !n.value.value.IsZero();
}

struct RefLess {
  bool operator()(const NodeRef& a, const NodeRef& b) const {
    return std::tie(a.level, a.path.bytes) < std::tie(b.level, b.path.bytes);
  }
};

Node RandomNode(testing::Rng& rng, const NodeRef& ref) {
  Node n;
  // Level 0 holds plain leaves mostly (the leaf arena), sometimes a zero-valued or a
  // merge-with-zero leaf or an opaque node (the inner arena): the same ref moves between them.
  const uint64_t shape = rng.Uniform(0, 9);
  if (ref.level == 0 && shape < 6) {
    n.value = MergeValue::FromValue(rng.NextBytes32());
    return n;
  }
  if (ref.level == 0 && shape == 6) return n;  // a zero-valued leaf
  if (shape == 7) {
    n.kind = Node::Kind::kOpaque;
    n.value = MergeValue::MergeWithZero(rng.NextBytes32(), rng.NextBytes32(), 3);
    return n;
  }
  if (ref.level == 0) {  // a merge-with-zero leaf
    n.value = MergeValue::MergeWithZero(rng.NextBytes32(), rng.NextBytes32(), 1);
    return n;
  }
  n.kind = Node::Kind::kBranch;
  n.value = MergeValue::FromValue(rng.NextBytes32());
  for (int side = 0; side < 2; ++side) {
    n.child[side] = NodeRef{static_cast<uint16_t>(rng.Uniform(0, 5)), rng.NextBytes32()};
    n.child_lifted[side] = MergeValue::FromValue(rng.NextBytes32());
    n.child_hash[side] = rng.NextBytes32();
  }
  return n;
}

TEST(MemoryNodeStore, HintsNeverChangeAResult) {
  for (uint64_t seed : testing::TestSeeds({1, 2, 3, 4})) {
    SCOPED_TRACE(testing::SeedBanner(seed));
    testing::Rng rng(seed);
    MemoryNodeStore store;
    std::map<NodeRef, Node, RefLess> model;
    // A small set of refs so that puts, deletes and slot reuse collide often.
    std::vector<NodeRef> refs;
    for (int i = 0; i < 48; ++i) {
      refs.push_back(NodeRef{static_cast<uint16_t>(i % 3 == 0 ? rng.Uniform(1, 256) : 0),
                             rng.NextBytes32()});
    }
    // The last hint the store gave for each ref (stale once the node moved or was deleted).
    absl::flat_hash_map<NodeRef, NodeHint> given;
    std::vector<NodeHint> every_hint{kNoHint, 0, 1, 0x7fffffffu, 0x80000000u, 0x80000001u};
    auto pick_hint = [&](const NodeRef& ref) -> NodeHint {
      switch (rng.Uniform(0, 3)) {
        case 0: return kNoHint;
        case 1: {
          auto it = given.find(ref);
          return it == given.end() ? kNoHint : it->second;
        }
        case 2: return every_hint[rng.Uniform(0, every_hint.size() - 1)];
        default: return static_cast<NodeHint>(rng.Next());
      }
    };
    for (int step = 0; step < 20000; ++step) {
      const NodeRef& ref = refs[rng.Uniform(0, refs.size() - 1)];
      const uint64_t op = rng.Uniform(0, 9);
      if (op < 4) {
        const Node node = RandomNode(rng, ref);
        NodeHint hint = pick_hint(ref);
        ASSERT_TRUE(store.PutHinted(ref, node, &hint).ok());
        ASSERT_NE(hint, kNoHint);
        given[ref] = hint;
        every_hint.push_back(hint);
        model[ref] = node;
      } else if (op < 6) {
        ASSERT_TRUE(store.DeleteHinted(ref, pick_hint(ref)).ok());
        model.erase(ref);
      } else if (op == 6) {
        // Edit hands out the stored node under its own hint only; a write through it is the
        // node's new content, read back by every later read.
        const NodeHint hint = pick_hint(ref);
        Node* edited = store.Edit(ref, hint);
        const auto it = model.find(ref);
        if (edited != nullptr) {
          ASSERT_NE(it, model.end());
          EXPECT_EQ(hint, given[ref]);
          EXPECT_TRUE(SameContent(*edited, it->second));
          EXPECT_NE(edited->kind, Node::Kind::kLeaf);  // branches and opaque nodes only
          edited->value = MergeValue::FromValue(rng.NextBytes32());
          edited->child_hash[rng.Uniform(0, 1)] = rng.NextBytes32();
          it->second = *edited;
        } else if (it != model.end() && hint == given[ref] && it->second.kind != Node::Kind::kLeaf) {
          ADD_FAILURE() << "Edit refused a stored branch or opaque node under its own hint";
        }
      } else {
        NodeHint hint = pick_hint(ref);
        const absl::StatusOr<Node> got = store.GetHinted(ref, &hint);
        const auto it = model.find(ref);
        if (it == model.end()) {
          EXPECT_TRUE(absl::IsNotFound(got.status())) << got.status();
          EXPECT_EQ(hint, kNoHint);
        } else {
          ASSERT_TRUE(got.ok()) << got.status();
          EXPECT_TRUE(SameContent(*got, it->second));
          EXPECT_EQ(hint, given[ref]);
        }
        // Peek sees exactly the stored branch and opaque nodes, and only under their own hint.
        const Node* peeked = store.Peek(ref, pick_hint(ref));
        if (peeked != nullptr) {
          ASSERT_NE(it, model.end());
          EXPECT_NE(peeked->kind, Node::Kind::kLeaf);
          EXPECT_TRUE(SameContent(*peeked, it->second));
        }
        store.Prefetch(pick_hint(ref));  // any hint, stale or garbage, is harmless
      }
    }
    size_t leaves = 0;
    for (const auto& [ref, node] : model) {
      const absl::StatusOr<Node> got = store.Get(ref);
      ASSERT_TRUE(got.ok());
      EXPECT_TRUE(SameContent(*got, node));
      leaves += IsPlainLeaf(ref, node);
    }
    EXPECT_EQ(store.leaf_count(), leaves);
    EXPECT_EQ(store.leaf_count() + store.inner_count(), model.size());
  }
}

// The tree's use of hints: a large tree updated in batches reads back every value through a
// store that is also read without hints, and reopening the store (no hints at all) gives the
// same root.
TEST(MemoryNodeStore, TreeOverHintedStoreMatchesFreshReads) {
  testing::Rng rng(7);
  MemoryNodeStore store;
  auto tree = SparseMerkleTree<Sha256Hasher>::Open(&store);
  ASSERT_TRUE(tree.ok());
  std::map<Bytes32, Bytes32, Bytes32NumericLess> model;
  std::vector<Bytes32> keys;
  // Enough keys for the arenas to pass their growing chunks (32,704 slots) into fixed ones.
  for (int i = 0; i < 50000; ++i) keys.push_back(rng.NextBytes32());
  std::vector<SmtLeaf> initial;
  for (size_t i = 0; i < 40000; ++i) initial.push_back({keys[i], rng.NextBytes32()});
  for (const SmtLeaf& l : initial) model[l.key] = l.value;
  ASSERT_TRUE(tree->BuildFromLeaves(initial).ok());
  for (int round = 0; round < 2000; ++round) {
    std::vector<SmtLeaf> batch;
    absl::flat_hash_map<Bytes32, bool> used;
    const int n = static_cast<int>(rng.Uniform(1, 12));
    for (int i = 0; i < n; ++i) {
      const Bytes32& k = keys[rng.Uniform(0, keys.size() - 1)];
      if (!used.emplace(k, true).second) continue;
      const Bytes32 v = rng.OneIn(4) ? Bytes32() : rng.NextBytes32();
      batch.push_back({k, v});
      if (v.IsZero()) {
        model.erase(k);
      } else {
        model[k] = v;
      }
    }
    ASSERT_TRUE(tree->UpdateBatch(batch).ok());
  }
  for (const auto& [k, v] : model) EXPECT_EQ(*tree->Get(k), v);
  EXPECT_EQ(store.leaf_count(), model.size());
  auto reopened = SparseMerkleTree<Sha256Hasher>::Open(&store);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(reopened->root(), tree->root());
  MemoryNodeStore fresh;
  auto rebuilt = SparseMerkleTree<Sha256Hasher>::Open(&fresh);
  std::vector<SmtLeaf> all;
  for (const auto& [k, v] : model) all.push_back({k, v});
  ASSERT_TRUE(rebuilt->BuildFromLeaves(all).ok());
  EXPECT_EQ(rebuilt->root(), tree->root());
}

}  // namespace
}  // namespace pom::smt
