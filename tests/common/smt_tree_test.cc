#include "common/smt/tree.h"

#include <gtest/gtest.h>

#include "common/hash.h"
#include "common/smt/memory_node_store.h"
#include "tests/common/smt_reference.h"
#include "tests/testing/random.h"

namespace pom::smt {
namespace {

using Tree = SparseMerkleTree<Sha256Hasher>;

Bytes32 Key(uint8_t low, uint8_t high = 0) {
  Bytes32 k;
  k[0] = low;
  k[31] = high;
  return k;
}

Bytes32 Val(uint64_t v) { return PackHalves(v, 0); }

class SmtTreeTest : public ::testing::Test {
 protected:
  SmtTreeTest() : tree_(*Tree::Open(&store_)) {}
  // Inserts `n` random keys (values 1..n) into tree_ and returns them.
  std::vector<Bytes32> FillRandom(testing::Rng& rng, int n) {
    std::vector<Bytes32> keys;
    for (int i = 0; i < n; ++i) {
      keys.push_back(rng.NextBytes32());
      EXPECT_TRUE(tree_.Update(keys.back(), Val(i + 1)).ok());
    }
    return keys;
  }
  MemoryNodeStore store_;
  Tree tree_;
  Sha256Hasher hasher_;
};

TEST_F(SmtTreeTest, EmptyTreeHasZeroRootAndProvesAbsence) {
  EXPECT_TRUE(tree_.root().IsZero());
  absl::StatusOr<std::vector<uint8_t>> proof = tree_.Multiproof(std::vector<Bytes32>{Key(1)});
  ASSERT_TRUE(proof.ok());
  EXPECT_EQ(ToHex(*proof), "4c4f00");
  absl::StatusOr<Bytes32> root = ComputeMultiproofRoot(hasher_, *proof, {{Key(1), Bytes32()}});
  ASSERT_TRUE(root.ok());
  EXPECT_TRUE(root->IsZero());
}

TEST_F(SmtTreeTest, WorkCountsBatchesLeavesBranchesAndHashes) {
  // Keys 0 and 1 fork at height 0: one branch, whose children need no lifting (one hash).
  ASSERT_TRUE(tree_.UpdateBatch({{Key(0), Val(1)}, {Key(1), Val(2)}}).ok());
  EXPECT_EQ(tree_.work().batches, 1u);
  EXPECT_EQ(tree_.work().leaves, 2u);
  EXPECT_EQ(tree_.work().branches, 1u);
  EXPECT_EQ(tree_.work().hashes, 1u);
  // A changed leaf rewrites its branch; an unchanged one rewrites nothing.
  ASSERT_TRUE(tree_.Update(Key(1), Val(3)).ok());
  ASSERT_TRUE(tree_.Update(Key(1), Val(3)).ok());
  EXPECT_EQ(tree_.work().batches, 3u);
  EXPECT_EQ(tree_.work().leaves, 4u);
  EXPECT_EQ(tree_.work().branches, 2u);
  EXPECT_EQ(tree_.work().hashes, 2u);
  // Keys 0 and 2^255 fork at height 255: each child is lifted across 255 empty levels (a base
  // hash and a merge-with-zeros hash), then the fork: five hashes.
  MemoryNodeStore store;
  Tree wide = *Tree::Open(&store);
  ASSERT_TRUE(wide.UpdateBatch({{Key(0), Val(1)}, {Key(0, 0x80), Val(2)}}).ok());
  EXPECT_EQ(wide.work().branches, 1u);
  EXPECT_EQ(wide.work().hashes, 5u);
}

TEST_F(SmtTreeTest, InsertGetDelete) {
  ASSERT_TRUE(tree_.Update(Key(1), Val(10)).ok());
  ASSERT_TRUE(tree_.Update(Key(2), Val(20)).ok());
  EXPECT_EQ(*tree_.Get(Key(1)), Val(10));
  EXPECT_EQ(*tree_.Get(Key(2)), Val(20));
  EXPECT_TRUE(tree_.Get(Key(3))->IsZero());
  ASSERT_TRUE(tree_.Update(Key(1), Bytes32()).ok());
  EXPECT_TRUE(tree_.Get(Key(1))->IsZero());
  ASSERT_TRUE(tree_.Update(Key(2), Bytes32()).ok());
  EXPECT_TRUE(tree_.root().IsZero());
  EXPECT_EQ(store_.leaf_count(), 0u);
  EXPECT_EQ(store_.inner_count(), 0u);
}

TEST_F(SmtTreeTest, DeletingAnAbsentKeyChangesNothing) {
  ASSERT_TRUE(tree_.Update(Key(1), Val(10)).ok());
  const Bytes32 root = tree_.root();
  ASSERT_TRUE(tree_.Update(Key(9), Bytes32()).ok());
  EXPECT_EQ(tree_.root(), root);
}

TEST_F(SmtTreeTest, ForksAtTheLowestAndHighestBitsMatchReference) {
  testing::ReferenceSmt<Sha256Hasher> ref;
  // Keys differing only in bit 0, only in bit 255, and in both.
  const Bytes32 keys[] = {Key(0, 0), Key(1, 0), Key(0, 0x80), Key(1, 0x80), Key(2, 0x7f)};
  uint64_t v = 1;
  for (const Bytes32& k : keys) {
    ASSERT_TRUE(tree_.Update(k, Val(v)).ok());
    ref.Update(k, Val(v));
    ++v;
    EXPECT_EQ(tree_.root(), ref.root());
  }
  std::vector<Bytes32> all(std::begin(keys), std::end(keys));
  EXPECT_EQ(ToHex(*tree_.Multiproof(all)), ToHex(ref.Multiproof(all)));
  for (const Bytes32& k : keys) {
    ASSERT_TRUE(tree_.Update(k, Bytes32()).ok());
    ref.Update(k, Bytes32());
    EXPECT_EQ(tree_.root(), ref.root());
  }
  EXPECT_TRUE(tree_.root().IsZero());
}

TEST_F(SmtTreeTest, ReopeningTheStoreKeepsTheTree) {
  ASSERT_TRUE(tree_.Update(Key(1), Val(10)).ok());
  ASSERT_TRUE(tree_.Update(Key(7, 3), Val(70)).ok());
  absl::StatusOr<Tree> again = Tree::Open(&store_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->root(), tree_.root());
  EXPECT_EQ(*again->Get(Key(7, 3)), Val(70));
}

TEST_F(SmtTreeTest, HashersGiveDifferentRoots) {
  MemoryNodeStore other;
  auto blake = SparseMerkleTree<Blake2b256Hasher>::Open(&other);
  ASSERT_TRUE(blake.ok());
  ASSERT_TRUE(tree_.Update(Key(1), Val(10)).ok());
  ASSERT_TRUE(blake->Update(Key(1), Val(10)).ok());
  EXPECT_NE(tree_.root(), blake->root());
}

TEST_F(SmtTreeTest, MultiproofRejectsEmptyAndRepeatedKeys) {
  EXPECT_EQ(tree_.Multiproof({}).status().code(), absl::StatusCode::kInvalidArgument);
  const std::vector<Bytes32> twice = {Key(1), Key(1)};
  EXPECT_EQ(tree_.Multiproof(twice).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(SmtTreeTest, MalformedProgramsAreRejected) {
  ASSERT_TRUE(tree_.Update(Key(1), Val(10)).ok());
  ASSERT_TRUE(tree_.Update(Key(2), Val(20)).ok());
  const std::vector<SmtLeaf> one = {{Key(1), Val(10)}};
  const std::vector<SmtLeaf> two = {{Key(1), Val(10)}, {Key(2), Val(20)}};
  auto code = [&](std::vector<uint8_t> program, const std::vector<SmtLeaf>& leaves) {
    return ComputeMultiproofRoot(hasher_, program, leaves).status().code();
  };
  const auto kBad = absl::StatusCode::kInvalidArgument;
  EXPECT_EQ(code({}, one), kBad);                                  // no items
  EXPECT_EQ(code({0x4c}, one), kBad);                              // ends at height 0
  EXPECT_EQ(code({0x4c, 0x4f}, one), kBad);                        // truncated count
  EXPECT_EQ(code({0x4c, 0x50, 1, 2}, one), kBad);                  // truncated sibling
  EXPECT_EQ(code({0x4c, 0x51, 1}, one), kBad);                     // truncated MWZ sibling
  EXPECT_EQ(code({0x4c, 0x48}, one), kBad);                        // merge of one item
  EXPECT_EQ(code({0x4c, 0x4c, 0x4f, 0x00}, one), kBad);            // more pushes than leaves
  EXPECT_EQ(code({0x4c, 0x4f, 0x00}, two), kBad);                  // leaf left over
  EXPECT_EQ(code({0x4c, 0x4f, 0x00, 0x4f, 0x01}, one), kBad);      // past height 256
  EXPECT_EQ(code({0x4c, 0x4f, 0xff, 0x4f, 0x02}, one), kBad);      // past height 256
  EXPECT_EQ(code({0x4c, 0x99}, one), kBad);                        // unknown opcode
  EXPECT_EQ(code({0x50}, one), kBad);                              // sibling, empty stack
  EXPECT_EQ(code({0x4c, 0x4f, 0x01, 0x4f, 0xff}, one), kBad);      // split zero run
  std::vector<uint8_t> zero_sibling(34, 0);
  zero_sibling[0] = 0x4c;
  zero_sibling[1] = 0x50;
  zero_sibling.push_back(0x4f);
  zero_sibling.push_back(0xff);
  EXPECT_EQ(code(zero_sibling, one), kBad);                        // empty sibling as a value
  // A merge-with-zero sibling at height 3 may carry count 1..3 and bits 3-count..2 only.
  auto mwz_at_3 = [](uint8_t count, uint8_t bits0) {
    std::vector<uint8_t> p(5 + 32 + 32 + 2, 0);
    p[0] = 0x4c;
    p[1] = 0x4f;
    p[2] = 0x03;
    p[3] = 0x51;
    p[4] = count;
    std::fill(p.begin() + 5, p.begin() + 37, 0xaa);  // base
    p[37] = bits0;                                   // zero_bits byte 0
    p[69] = 0x4f;
    p[70] = 0xfc;
    return p;
  };
  EXPECT_TRUE(ComputeMultiproofRoot(hasher_, mwz_at_3(3, 0x07), one).ok());
  EXPECT_TRUE(ComputeMultiproofRoot(hasher_, mwz_at_3(1, 0x04), one).ok());
  EXPECT_EQ(code(mwz_at_3(0, 0x00), one), kBad);                   // count 0
  EXPECT_EQ(code(mwz_at_3(4, 0x00), one), kBad);                   // count above height
  EXPECT_EQ(code(mwz_at_3(1, 0x02), one), kBad);                   // bit below the range
  EXPECT_EQ(code(mwz_at_3(3, 0x08), one), kBad);                   // bit at the merge height
  EXPECT_EQ(code({0x4c, 0x4f, 0x00}, {{Key(1), Val(1)}, {Key(1), Val(2)}}), kBad);  // repeated key
  // Two items merged in the wrong order (key 2 sorts after key 1: bit 0 of 1 is 1, of 2 is 0,
  // so they fork at bit 1, and items must be left then right).
  std::vector<uint8_t> good = *tree_.Multiproof(std::vector<Bytes32>{Key(1), Key(2)});
  ASSERT_TRUE(ComputeMultiproofRoot(hasher_, good, two).ok());
  EXPECT_EQ(*ComputeMultiproofRoot(hasher_, good, two), tree_.root());
}

TEST_F(SmtTreeTest, PrunedTreeFromProofUpdatesProvenLeavesOnly) {
  testing::Rng rng(7);
  const std::vector<Bytes32> keys = FillRandom(rng, 200);
  const std::vector<Bytes32> proven = {keys[3], keys[50], rng.NextBytes32()};
  std::vector<SmtLeaf> leaves;
  for (const Bytes32& k : proven) leaves.push_back({k, *tree_.Get(k)});
  const std::vector<uint8_t> proof = *tree_.Multiproof(proven);

  MemoryNodeStore pruned_store;
  Tree pruned = *Tree::Open(&pruned_store);
  ASSERT_TRUE(pruned.ImportMultiproof(proof, leaves).ok());
  EXPECT_EQ(pruned.root(), tree_.root());
  EXPECT_EQ(ToHex(*pruned.Multiproof(proven)), ToHex(proof));
  // Updating a proven key (present or absent) tracks the full tree.
  for (const Bytes32& k : proven) {
    ASSERT_TRUE(pruned.Update(k, Val(999)).ok());
    ASSERT_TRUE(tree_.Update(k, Val(999)).ok());
    EXPECT_EQ(pruned.root(), tree_.root());
  }
  // A key the proof did not cover lies inside a pruned subtree.
  EXPECT_EQ(pruned.Update(keys[100], Val(1)).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(pruned.Get(keys[100]).status().code(), absl::StatusCode::kFailedPrecondition);
  // Import needs an empty tree.
  EXPECT_EQ(tree_.ImportMultiproof(proof, leaves).code(), absl::StatusCode::kFailedPrecondition);
}

// The word-wise bit helpers of key_bits.h against their definitions, bit by bit, at every
// bound: keys that differ in one bit (each position), in many, or not at all.
TEST(SmtKeyBits, WordWiseHelpersMatchBitByBitDefinitions) {
  testing::Rng rng(5);
  auto bit_of = [](const Bytes32& k, int i) { return (k[i / 8] >> (i % 8)) & 1; };
  for (int round = 0; round < 300; ++round) {
    const Bytes32 a = rng.NextBytes32();
    Bytes32 b = a;
    if (round < 256) {
      b[round / 8] ^= static_cast<uint8_t>(1u << (round % 8));
    } else if (round < 290) {
      b = rng.NextBytes32();
    }
    for (int n = 0; n <= 256; ++n) {
      const Bytes32 below = ClearBitsBelow(a, n), from = ClearBitsFrom(a, n);
      for (int i = 0; i < 256; ++i) {
        ASSERT_EQ(bit_of(below, i), i < n ? 0 : bit_of(a, i)) << "ClearBitsBelow n=" << n << " bit " << i;
        ASSERT_EQ(bit_of(from, i), i >= n ? 0 : bit_of(a, i)) << "ClearBitsFrom n=" << n << " bit " << i;
      }
      int expected = -1;
      for (int i = 255; i >= n; --i) {
        if (bit_of(a, i) != bit_of(b, i)) {
          expected = i;
          break;
        }
      }
      ASSERT_EQ(HighestDiffBit(a, b, n), expected) << "lo=" << n;
      const int hi = static_cast<int>(rng.Uniform(static_cast<uint64_t>(n), 256));
      const Bytes32 range = BitsInRange(a, n, hi);
      for (int i = 0; i < 256; ++i) {
        ASSERT_EQ(bit_of(range, i), i >= n && i < hi ? bit_of(a, i) : 0) << "BitsInRange " << n << ".." << hi;
      }
    }
  }
}

TEST(SmtBulkBuild, EqualsOneUpdateAtATime) {
  for (uint64_t seed : testing::TestSeeds({31, 32, 33})) {
    SCOPED_TRACE(testing::SeedBanner(seed));
    testing::Rng rng(seed);
    std::vector<SmtLeaf> leaves;
    const int n = static_cast<int>(rng.Uniform(1, 3000));
    for (int i = 0; i < n; ++i) {
      Bytes32 k = rng.NextBytes32();
      // Near-collisions: keys that share long prefixes, and keys differing only in bit 0.
      if (rng.OneIn(4) && !leaves.empty()) {
        k = leaves[rng.Uniform(0, leaves.size() - 1)].key;
        k[rng.Uniform(0, 31)] ^= static_cast<uint8_t>(1u << rng.Uniform(0, 7));
      }
      bool repeated = false;
      for (const SmtLeaf& l : leaves) repeated |= l.key == k;
      if (repeated) continue;
      leaves.push_back({k, rng.OneIn(20) ? Bytes32() : Val(rng.Next())});
    }
    MemoryNodeStore one_store, bulk_store;
    Tree one = *Tree::Open(&one_store);
    Tree bulk = *Tree::Open(&bulk_store);
    for (const SmtLeaf& l : leaves) ASSERT_TRUE(one.Update(l.key, l.value).ok());
    ASSERT_TRUE(bulk.BuildFromLeaves(leaves).ok());
    ASSERT_EQ(bulk.root(), one.root());
    EXPECT_EQ(bulk_store.leaf_count(), one_store.leaf_count());
    EXPECT_EQ(bulk_store.inner_count(), one_store.inner_count());
    // The built tree is a normal tree: proofs agree and it keeps updating like the other.
    std::vector<Bytes32> keys = {leaves[0].key, rng.NextBytes32()};
    EXPECT_EQ(ToHex(*bulk.Multiproof(keys)), ToHex(*one.Multiproof(keys)));
    for (int i = 0; i < 100; ++i) {
      const Bytes32 k = rng.OneIn(2) ? leaves[rng.Uniform(0, leaves.size() - 1)].key : rng.NextBytes32();
      const Bytes32 v = rng.OneIn(3) ? Bytes32() : Val(rng.Next());
      ASSERT_TRUE(one.Update(k, v).ok());
      ASSERT_TRUE(bulk.Update(k, v).ok());
      ASSERT_EQ(bulk.root(), one.root());
    }
  }
}

TEST_F(SmtTreeTest, BulkBuildRejectsRepeatsAndNonEmptyTrees) {
  EXPECT_EQ(tree_.BuildFromLeaves({{Key(1), Val(1)}, {Key(1), Val(2)}}).code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(tree_.BuildFromLeaves({}).ok());
  EXPECT_TRUE(tree_.empty());
  ASSERT_TRUE(tree_.Update(Key(2), Val(2)).ok());
  EXPECT_EQ(tree_.BuildFromLeaves({{Key(1), Val(1)}}).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(SmtTreeTest, ImportRejectsAProofThatDoesNotVerify) {
  MemoryNodeStore s;
  Tree t = *Tree::Open(&s);
  const std::vector<uint8_t> bad = {0x4c, 0x4c};
  EXPECT_EQ(t.ImportMultiproof(bad, std::vector<SmtLeaf>{{Key(1), Val(1)}}).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pom::smt

namespace pom::smt {
namespace {

// The verifier's root pair (root_pair_plan.h) equals two single passes of the interpreter, on
// honest proofs and on mutated programs (where both must fail, with the same error, or both give
// the same roots), alone and planned several at a time.
TEST(SmtRootPair, EqualsTwoSinglePassesIncludingOnMutatedPrograms) {
  for (uint64_t seed : testing::TestSeeds({91, 92})) {
    SCOPED_TRACE(testing::SeedBanner(seed));
    testing::Rng rng(seed);
    MemoryNodeStore store;
    auto tree = *SparseMerkleTree<Sha256Hasher>::Open(&store);
    std::vector<Bytes32> pool;
    for (int i = 0; i < 400; ++i) {
      pool.push_back(rng.NextBytes32());
      ASSERT_TRUE(tree.Update(pool.back(), rng.NextBytes32()).ok());
    }
    Sha256Hasher h;
    int compared = 0;
    std::vector<std::vector<uint8_t>> programs;
    std::vector<RootPairInput> inputs;
    std::vector<absl::StatusOr<RootPair>> singles;
    for (int round = 0; round < 300; ++round) {
      std::vector<Bytes32> keys;
      for (int i = 0; i < static_cast<int>(rng.Uniform(1, 12)); ++i) {
        const Bytes32 k = rng.OneIn(4) ? rng.NextBytes32() : pool[rng.Uniform(0, pool.size() - 1)];
        if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
      }
      std::vector<uint8_t> proof = *tree.Multiproof(keys);
      std::vector<LeafChange> changes;
      std::vector<SmtLeaf> olds, news;
      for (const Bytes32& k : keys) {
        const Bytes32 old_value = *tree.Get(k);
        // About half unchanged, as in real events (leaves read but not written).
        const Bytes32 new_value = rng.OneIn(2) ? old_value : (rng.OneIn(5) ? Bytes32() : rng.NextBytes32());
        changes.push_back({k, old_value, new_value});
        olds.push_back({k, old_value});
        news.push_back({k, new_value});
      }
      if (rng.OneIn(3)) proof[rng.Uniform(0, proof.size() - 1)] ^= static_cast<uint8_t>(rng.Uniform(1, 255));
      const auto pair = ComputeMultiproofRootPair(h, proof, changes);
      const auto old_root = ComputeMultiproofRoot(h, proof, olds);
      const auto new_root = ComputeMultiproofRoot(h, proof, news);
      ASSERT_EQ(pair.ok(), old_root.ok());
      ASSERT_EQ(pair.ok(), new_root.ok());
      programs.push_back(proof);
      inputs.push_back({{}, changes});
      singles.push_back(pair);
      if (!pair.ok()) {
        EXPECT_EQ(pair.status(), old_root.status());  // the same rule, the same message
        continue;
      }
      ASSERT_EQ(pair->old_root, *old_root);
      ASSERT_EQ(pair->new_root, *new_root);
      ++compared;
    }
    EXPECT_GT(compared, 100);
    // The same programs several at a time (ComputeMultiproofRootPairs plans them together, failing
    // ones among them): each result equals its own single computation.
    for (size_t i = 0; i < inputs.size(); ++i) inputs[i].proof = programs[i];
    for (size_t first = 0; first < inputs.size(); first += 7) {
      const size_t n = std::min<size_t>(7, inputs.size() - first);
      const auto batch = ComputeMultiproofRootPairs(h, std::span<RootPairInput>(inputs).subspan(first, n));
      ASSERT_EQ(batch.size(), n);
      for (size_t i = 0; i < n; ++i) {
        const auto& single = singles[first + i];
        ASSERT_EQ(batch[i].ok(), single.ok()) << "program " << first + i;
        if (!single.ok()) {
          EXPECT_EQ(batch[i].status(), single.status());
          continue;
        }
        EXPECT_EQ(batch[i]->old_root, single->old_root) << "program " << first + i;
        EXPECT_EQ(batch[i]->new_root, single->new_root) << "program " << first + i;
      }
    }
  }
}

}  // namespace
}  // namespace pom::smt

namespace pom::smt {
namespace {

// A batch equals one update at a time: same root, same stored nodes, and its multiproof is the
// program Multiproof(keys) gives before and after, proving the old values against the old root
// and the new values against the new root. Batches mix inserts, updates, unchanged leaves,
// deletes (down to an empty tree) and absent keys, with keys that share long prefixes.
TEST(SmtBatchUpdate, EqualsOneUpdateAtATimeWithTheSameMultiproof) {
  for (uint64_t seed : testing::TestSeeds({101, 102, 103})) {
    SCOPED_TRACE(testing::SeedBanner(seed));
    testing::Rng rng(seed);
    MemoryNodeStore one_store, batch_store;
    auto one = *SparseMerkleTree<Sha256Hasher>::Open(&one_store);
    auto batch = *SparseMerkleTree<Sha256Hasher>::Open(&batch_store);
    Sha256Hasher h;
    std::vector<Bytes32> pool;
    auto fresh_key = [&] {
      Bytes32 k = rng.NextBytes32();
      if (rng.OneIn(3) && !pool.empty()) {
        k = pool[rng.Uniform(0, pool.size() - 1)];
        k[rng.Uniform(0, 31)] ^= static_cast<uint8_t>(1u << rng.Uniform(0, 7));
      }
      return k;
    };
    for (int round = 0; round < 600; ++round) {
      // Grow for a while, then mostly delete, so the tree passes through empty and tiny shapes.
      const bool shrinking = round % 200 >= 150;
      std::vector<SmtLeaf> leaves;
      const int n = static_cast<int>(rng.Uniform(1, 16));
      for (int i = 0; i < n; ++i) {
        const bool existing = !pool.empty() && (shrinking || rng.OneIn(2));
        const Bytes32 k = existing ? pool[rng.Uniform(0, pool.size() - 1)] : fresh_key();
        bool repeated = false;
        for (const SmtLeaf& l : leaves) repeated |= l.key == k;
        if (repeated) continue;
        Bytes32 v = rng.NextBytes32();
        if (shrinking ? !rng.OneIn(5) : rng.OneIn(6)) v = Bytes32();  // delete (or no-op if absent)
        if (existing && rng.OneIn(6)) v = *one.Get(k);                  // read-only leaf
        leaves.push_back({k, v});
      }
      std::vector<Bytes32> keys;
      std::vector<LeafChange> changes;
      for (const SmtLeaf& l : leaves) {
        keys.push_back(l.key);
        changes.push_back({l.key, *one.Get(l.key), l.value});
      }
      const Bytes32 old_root = one.root();
      const std::vector<uint8_t> before = *one.Multiproof(keys);
      for (const SmtLeaf& l : leaves) ASSERT_TRUE(one.Update(l.key, l.value).ok());

      std::vector<uint8_t> proof;
      ASSERT_TRUE(batch.UpdateBatch(leaves, &proof).ok());
      ASSERT_EQ(ToHex(batch.root()), ToHex(one.root())) << "round " << round;
      ASSERT_EQ(batch_store.leaf_count(), one_store.leaf_count());
      ASSERT_EQ(batch_store.inner_count(), one_store.inner_count());
      ASSERT_EQ(ToHex(proof), ToHex(before)) << "round " << round;
      ASSERT_EQ(ToHex(proof), ToHex(*one.Multiproof(keys)));
      const RootPair roots = *ComputeMultiproofRootPair(h, proof, changes);
      ASSERT_EQ(roots.old_root, old_root);
      ASSERT_EQ(roots.new_root, batch.root());

      for (const SmtLeaf& l : leaves) {
        const auto it = std::find(pool.begin(), pool.end(), l.key);
        if (l.value.IsZero() && it != pool.end()) pool.erase(it);
        if (!l.value.IsZero() && it == pool.end()) pool.push_back(l.key);
      }
    }
    // Without a proof requested, the same result.
    const std::vector<SmtLeaf> last = {{rng.NextBytes32(), Val(7)}};
    ASSERT_TRUE(one.Update(last[0].key, last[0].value).ok());
    ASSERT_TRUE(batch.UpdateBatch(last).ok());
    EXPECT_EQ(batch.root(), one.root());
  }
}

TEST_F(SmtTreeTest, BatchRejectsEmptyAndRepeatedKeysAndChangesNothing) {
  ASSERT_TRUE(tree_.Update(Key(1), Val(1)).ok());
  const Bytes32 root = tree_.root();
  EXPECT_EQ(tree_.UpdateBatch({}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(tree_.UpdateBatch({{Key(2), Val(2)}, {Key(2), Val(3)}}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(tree_.root(), root);
}

TEST_F(SmtTreeTest, BatchOnAPrunedTreeUpdatesProvenKeysAndRefusesOthers) {
  testing::Rng rng(11);
  const std::vector<Bytes32> keys = FillRandom(rng, 200);
  const std::vector<Bytes32> proven = {keys[3], keys[50], keys[120], rng.NextBytes32()};
  std::vector<SmtLeaf> leaves;
  for (const Bytes32& k : proven) leaves.push_back({k, *tree_.Get(k)});
  const std::vector<uint8_t> proof = *tree_.Multiproof(proven);
  MemoryNodeStore pruned_store;
  Tree pruned = *Tree::Open(&pruned_store);
  ASSERT_TRUE(pruned.ImportMultiproof(proof, leaves).ok());

  std::vector<SmtLeaf> batch = {{proven[0], Val(5)}, {proven[1], Bytes32()}, {proven[2], leaves[2].value},
                                {proven[3], Val(6)}};
  std::vector<uint8_t> batch_proof;
  ASSERT_TRUE(pruned.UpdateBatch(batch, &batch_proof).ok());
  EXPECT_EQ(ToHex(batch_proof), ToHex(proof));
  for (const SmtLeaf& l : batch) ASSERT_TRUE(tree_.Update(l.key, l.value).ok());
  EXPECT_EQ(pruned.root(), tree_.root());
  EXPECT_EQ(pruned.UpdateBatch({{proven[0], Val(1)}, {keys[100], Val(1)}}).code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace pom::smt
