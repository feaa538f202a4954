// Seeded property tests of the sparse Merkle tree. Each seed runs >= 10,000 random inserts,
// updates and deletes over a key pool (with near-twin keys so forks occur at every height),
// checking after every operation against the naive ReferenceSmt, and regularly:
//  - a multiproof of a random subset of present and absent keys equals the reference's bytes
//    and verifies against the root;
//  - changing any single byte of a proof, any leaf value, or the key set makes verification
//    fail or give a different root;
//  - update-then-delete returns the earlier root;
// and at the end that the root depends only on the set of non-zero leaves (rebuilt in a
// shuffled order), and that deleting everything empties the tree and its store.
// Replay one seed with POM_SEED=<n>.
#include <algorithm>
#include <map>

#include <gtest/gtest.h>

#include "common/hash.h"
#include "common/smt/memory_node_store.h"
#include "common/smt/tree.h"
#include "tests/common/smt_reference.h"
#include "tests/testing/random.h"

namespace pom::smt {
namespace {

using testing::Rng;

struct Counters {
  int operations = 0;
  int proofs = 0;
  int proof_byte_mutations = 0;
  int leaf_value_mutations = 0;
  int key_set_mutations = 0;
  int update_delete_checks = 0;
  int equivalent_absent_moves = 0;
};

// True if `proof` over `leaves` fails to verify or proves a root other than `root`.
template <typename Hasher>
bool Rejected(Hasher& h, std::span<const uint8_t> proof, const std::vector<SmtLeaf>& leaves,
              const Bytes32& root) {
  absl::StatusOr<Bytes32> r = ComputeMultiproofRoot(h, proof, leaves);
  return !r.ok() || *r != root;
}

template <typename Hasher>
void CheckProofAndMutations(const SparseMerkleTree<Hasher>& tree, Hasher& h, Rng& rng, const std::vector<uint8_t>& proof,
                            const std::vector<SmtLeaf>& leaves, const Bytes32& root,
                            bool sweep_every_byte, Counters& c) {
  absl::StatusOr<Bytes32> proven = ComputeMultiproofRoot(h, proof, leaves);
  ASSERT_TRUE(proven.ok()) << proven.status();
  ASSERT_EQ(*proven, root);
  ++c.proofs;

  // Single-byte changes of the program.
  std::vector<size_t> positions;
  if (sweep_every_byte) {
    for (size_t i = 0; i < proof.size(); ++i) positions.push_back(i);
  } else {
    for (int i = 0; i < 4; ++i) positions.push_back(rng.Uniform(0, proof.size() - 1));
  }
  for (size_t pos : positions) {
    std::vector<uint8_t> bad = proof;
    bad[pos] ^= static_cast<uint8_t>(rng.Uniform(1, 255));
    ASSERT_TRUE(Rejected(h, bad, leaves, root)) << "byte " << pos << " of " << ToHex(proof);
    ++c.proof_byte_mutations;
  }

  // Any leaf value changed.
  for (size_t i = 0; i < leaves.size(); ++i) {
    std::vector<SmtLeaf> bad = leaves;
    bad[i].value = bad[i].value.IsZero() ? rng.NextBytes32() : (rng.OneIn(3) ? Bytes32() : rng.NextBytes32());
    if (bad[i].value == leaves[i].value) continue;
    ASSERT_TRUE(Rejected(h, proof, bad, root)) << "leaf " << i;
    ++c.leaf_value_mutations;
  }

  // The key set changed: one key dropped, one added, each key in turn replaced by a random key.
  // A replacement must be rejected unless it states only true facts: an absent key moved within
  // the same empty subtree proves the same emptiness. Then the tree itself must say so: the
  // key is absent and the tree's own proof of the new key set is byte-identical.
  if (leaves.size() > 1) {
    std::vector<SmtLeaf> bad = leaves;
    bad.erase(bad.begin() + static_cast<long>(rng.Uniform(0, bad.size() - 1)));
    ASSERT_TRUE(Rejected(h, proof, bad, root));
    ++c.key_set_mutations;
  }
  {
    std::vector<SmtLeaf> bad = leaves;
    bad.push_back({rng.NextBytes32(), rng.OneIn(2) ? Bytes32() : rng.NextBytes32()});
    ASSERT_TRUE(Rejected(h, proof, bad, root));
    ++c.key_set_mutations;
  }
  for (size_t i = 0; i < leaves.size(); ++i) {
    std::vector<SmtLeaf> bad = leaves;
    bad[i].key = rng.NextBytes32();
    ++c.key_set_mutations;
    if (Rejected(h, proof, bad, root)) continue;
    ASSERT_TRUE(leaves[i].value.IsZero()) << "a present key was moved: " << ToHex(leaves[i].key);
    ASSERT_TRUE(tree.Get(bad[i].key)->IsZero());
    std::vector<Bytes32> keys;
    for (const SmtLeaf& l : bad) keys.push_back(l.key);
    ASSERT_EQ(ToHex(*tree.Multiproof(keys)), ToHex(proof));
    ++c.equivalent_absent_moves;
  }
}

template <typename Hasher>
void RunSeed(uint64_t seed, int operations, Counters& c) {
  Rng rng(seed);
  Hasher h;
  MemoryNodeStore store;
  absl::StatusOr<SparseMerkleTree<Hasher>> opened = SparseMerkleTree<Hasher>::Open(&store);
  ASSERT_TRUE(opened.ok());
  SparseMerkleTree<Hasher>& tree = *opened;
  testing::ReferenceSmt<Hasher> reference;
  std::map<std::string, Bytes32> model;  // non-zero leaves, by key hex

  // A pool of random keys plus near twins (one bit flipped) to force forks at every height.
  std::vector<Bytes32> pool;
  for (int i = 0; i < 600; ++i) pool.push_back(rng.NextBytes32());
  for (int i = 0; i < 300; ++i) {
    Bytes32 twin = pool[rng.Uniform(0, 599)];
    const int bit = static_cast<int>(rng.OneIn(2) ? rng.Uniform(0, 15) : rng.Uniform(0, 255));
    twin[bit >> 3] ^= static_cast<uint8_t>(1u << (bit & 7));
    pool.push_back(twin);
  }
  auto random_value = [&] {
    // Small values too, so leaves with mostly-zero bytes occur.
    return rng.OneIn(4) ? PackHalves(rng.Uniform(1, 1000), 0) : rng.NextBytes32();
  };
  auto set = [&](const Bytes32& k, const Bytes32& v) {
    ASSERT_TRUE(tree.Update(k, v).ok());
    reference.Update(k, v);
    if (v.IsZero()) {
      model.erase(ToHex(k));
    } else {
      model[ToHex(k)] = v;
    }
    ASSERT_EQ(ToHex(tree.root()), ToHex(reference.root())) << "after setting " << ToHex(k);
    ++c.operations;
  };

  for (int op = 0; op < operations; ++op) {
    const uint64_t dice = rng.Uniform(0, 99);
    const Bytes32 key = pool[rng.Uniform(0, pool.size() - 1)];
    if (dice < 60) {
      set(key, random_value());
    } else if (dice < 90 && !model.empty()) {
      auto it = model.begin();
      std::advance(it, static_cast<long>(rng.Uniform(0, model.size() - 1)));
      set(*Bytes32FromHex(it->first), Bytes32());
    } else {
      set(key, Bytes32());  // often absent: must change nothing
    }
    if (::testing::Test::HasFatalFailure()) return;

    if (op % 25 == 0) {
      // Update then delete (or update then restore) returns the earlier root.
      const Bytes32 before = tree.root();
      const Bytes32 fresh = rng.NextBytes32();
      set(fresh, random_value());
      ASSERT_NE(tree.root(), before);
      set(fresh, Bytes32());
      ASSERT_EQ(tree.root(), before);
      const Bytes32 old_value = *tree.Get(key);
      set(key, random_value());
      set(key, old_value);
      ASSERT_EQ(tree.root(), before);
      ++c.update_delete_checks;
    }

    if (op % 40 == 0) {
      // A proof of a random subset of present and absent keys.
      std::vector<Bytes32> keys;
      const int n = static_cast<int>(rng.Uniform(1, 10));
      for (int i = 0; i < n; ++i) {
        Bytes32 k = rng.OneIn(5) ? rng.NextBytes32() : pool[rng.Uniform(0, pool.size() - 1)];
        if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
      }
      std::vector<SmtLeaf> leaves;
      for (const Bytes32& k : keys) {
        auto it = model.find(ToHex(k));
        leaves.push_back({k, it == model.end() ? Bytes32() : it->second});
        absl::StatusOr<Bytes32> got = tree.Get(k);
        ASSERT_TRUE(got.ok());
        ASSERT_EQ(*got, leaves.back().value);
      }
      absl::StatusOr<std::vector<uint8_t>> proof = tree.Multiproof(keys);
      ASSERT_TRUE(proof.ok()) << proof.status();
      ASSERT_EQ(ToHex(*proof), ToHex(reference.Multiproof(keys)));
      CheckProofAndMutations(tree, h, rng, *proof, leaves, tree.root(), op % 1000 == 0, c);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }

  // The root depends only on the set of non-zero leaves: rebuild in a shuffled order.
  std::vector<std::pair<Bytes32, Bytes32>> entries;
  for (const auto& [k, v] : model) entries.push_back({*Bytes32FromHex(k), v});
  for (size_t i = entries.size(); i > 1; --i) std::swap(entries[i - 1], entries[rng.Uniform(0, i - 1)]);
  MemoryNodeStore store2;
  absl::StatusOr<SparseMerkleTree<Hasher>> rebuilt = SparseMerkleTree<Hasher>::Open(&store2);
  ASSERT_TRUE(rebuilt.ok());
  for (const auto& [k, v] : entries) ASSERT_TRUE(rebuilt->Update(k, v).ok());
  ASSERT_EQ(rebuilt->root(), tree.root());
  EXPECT_EQ(store2.leaf_count(), entries.size());
  EXPECT_EQ(store.leaf_count(), entries.size());
  // A compressed tree of n leaves has exactly n - 1 forks.
  EXPECT_EQ(store.inner_count(), entries.empty() ? 0 : entries.size() - 1);

  // Reopening the store gives the same tree.
  absl::StatusOr<SparseMerkleTree<Hasher>> reopened = SparseMerkleTree<Hasher>::Open(&store);
  ASSERT_TRUE(reopened.ok());
  ASSERT_EQ(reopened->root(), tree.root());

  // Deleting everything empties the tree and its store.
  for (const auto& [k, v] : entries) ASSERT_TRUE(tree.Update(k, Bytes32()).ok());
  EXPECT_TRUE(tree.root().IsZero());
  EXPECT_TRUE(tree.empty());
  EXPECT_EQ(store.leaf_count(), 0u);
  EXPECT_EQ(store.inner_count(), 0u);
}

template <typename Hasher>
void RunSeeds(std::vector<uint64_t> seeds, int operations) {
  for (uint64_t seed : testing::TestSeeds(seeds)) {
    SCOPED_TRACE(testing::SeedBanner(seed));
    std::printf("[ smt property ] %s %s\n", std::string(Hasher::kName).c_str(),
                testing::SeedBanner(seed).c_str());
    Counters c;
    RunSeed<Hasher>(seed, operations, c);
    if (::testing::Test::HasFatalFailure()) return;
    std::printf(
        "[ smt property ]   operations=%d proofs=%d proof_byte_mutations=%d "
        "leaf_value_mutations=%d key_set_mutations=%d (equivalent absent moves %d) "
        "update_delete_checks=%d\n",
        c.operations, c.proofs, c.proof_byte_mutations, c.leaf_value_mutations,
        c.key_set_mutations, c.equivalent_absent_moves, c.update_delete_checks);
    EXPECT_GE(c.operations, operations);
    EXPECT_GT(c.proofs, operations / 50);
    EXPECT_GT(c.proof_byte_mutations, c.proofs * 4 - 1);
    EXPECT_GT(c.leaf_value_mutations, 0);
    EXPECT_GT(c.key_set_mutations, c.proofs);
  }
}

TEST(SmtProperty, Sha256RandomOperationsAgreeWithReferenceAndProofsAreTight) {
  RunSeeds<Sha256Hasher>({1, 2, 3, 4, 5}, 10000);
}

TEST(SmtProperty, Blake2bRandomOperationsAgreeWithReferenceAndProofsAreTight) {
  RunSeeds<Blake2b256Hasher>({101, 102}, 10000);
}

}  // namespace
}  // namespace pom::smt
