// Fuzzes the multiproof decoder. Input: byte 0 picks the leaf count (1..8), then 64 bytes per
// leaf (key, value), then the program. Whatever the bytes, ComputeMultiproofRoot returns a
// status and never crashes. When a program verifies, it must be canonical: importing it into an
// empty tree rebuilds the proven root, and that tree regenerates exactly the same bytes. The
// verifier's root pair (planned, common/smt/root_pair_plan.h) must agree with two single passes
// of the interpreter: both fail alike, or both give the same two roots, also when planned
// together with other programs.
#include <cstring>

#include "common/check.h"
#include "common/hash.h"
#include "common/smt/memory_node_store.h"
#include "common/smt/tree.h"
#include "tests/fuzz/fuzz_target.h"
#include "tests/testing/random.h"

namespace {

using pom::Bytes32;
using pom::smt::SmtLeaf;

template <typename Hasher>
void CheckOne(std::span<const uint8_t> program, const std::vector<SmtLeaf>& leaves) {
  Hasher hasher;
  absl::StatusOr<Bytes32> root = pom::smt::ComputeMultiproofRoot(hasher, program, leaves);
  if (!root.ok()) return;
  pom::smt::MemoryNodeStore store;
  auto tree = pom::smt::SparseMerkleTree<Hasher>::Open(&store);
  POM_CHECK_OK(tree);
  POM_CHECK_OK(tree->ImportMultiproof(program, leaves));
  POM_CHECK(tree->root() == *root);
  std::vector<Bytes32> keys;
  for (const SmtLeaf& l : leaves) keys.push_back(l.key);
  absl::StatusOr<std::vector<uint8_t>> again = tree->Multiproof(keys);
  POM_CHECK_OK(again);
  POM_CHECK_MSG(std::equal(again->begin(), again->end(), program.begin(), program.end()),
                "a verifying program is not the canonical proof of its own tree");
}

// New values derived from the input: some leaves unchanged, some changed, some deleted.
template <typename Hasher>
void CheckRootPair(std::span<const uint8_t> program, const std::vector<SmtLeaf>& leaves) {
  std::vector<pom::smt::LeafChange> changes;
  std::vector<SmtLeaf> news;
  for (size_t i = 0; i < leaves.size(); ++i) {
    Bytes32 next = leaves[i].value;
    if (i % 3 == 1) next[0] ^= 0x5a;
    if (i % 3 == 2) next = Bytes32();
    changes.push_back({leaves[i].key, leaves[i].value, next});
    news.push_back({leaves[i].key, next});
  }
  Hasher hasher;
  const absl::StatusOr<pom::smt::RootPair> pair = pom::smt::ComputeMultiproofRootPair(hasher, program, changes);
  const absl::StatusOr<Bytes32> old_root = pom::smt::ComputeMultiproofRoot(hasher, program, leaves);
  const absl::StatusOr<Bytes32> new_root = pom::smt::ComputeMultiproofRoot(hasher, program, news);
  POM_CHECK_MSG(pair.ok() == old_root.ok() && pair.ok() == new_root.ok(), "root pair and single passes disagree on validity");
  if (pair.ok()) {
    POM_CHECK_MSG(pair->old_root == *old_root && pair->new_root == *new_root, "root pair differs from single passes");
  } else {
    POM_CHECK_MSG(pair.status() == old_root.status(), "root pair and single pass fail differently");
  }
  // Planned together with the lanes swapped, then again as given: each as computed alone.
  std::vector<pom::smt::LeafChange> swapped = changes;
  for (pom::smt::LeafChange& c : swapped) std::swap(c.old_value, c.new_value);
  std::vector<pom::smt::RootPairInput> batch = {{program, changes}, {program, swapped}, {program, changes}};
  const auto results = pom::smt::ComputeMultiproofRootPairs(hasher, std::span<pom::smt::RootPairInput>(batch));
  for (size_t i = 0; i < results.size(); ++i) {
    POM_CHECK_MSG(results[i].ok() == pair.ok(), "a planned batch disagrees with one pair on validity");
    if (!pair.ok()) continue;
    const bool flip = i == 1;
    POM_CHECK_MSG(results[i]->old_root == (flip ? pair->new_root : pair->old_root) &&
                      results[i]->new_root == (flip ? pair->old_root : pair->new_root),
                  "a planned batch differs from one pair");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t n = data[0] % 8 + 1;
  if (size < 1 + n * 64) return 0;
  std::vector<SmtLeaf> leaves(n);
  for (size_t i = 0; i < n; ++i) {
    std::memcpy(leaves[i].key.data(), data + 1 + 64 * i, 32);
    std::memcpy(leaves[i].value.data(), data + 1 + 64 * i + 32, 32);
  }
  const std::span<const uint8_t> program(data + 1 + n * 64, size - 1 - n * 64);
  CheckOne<pom::Sha256Hasher>(program, leaves);
  CheckOne<pom::Blake2b256Hasher>(program, leaves);
  CheckRootPair<pom::Sha256Hasher>(program, leaves);
  CheckRootPair<pom::Blake2b256Hasher>(program, leaves);
  return 0;
}

namespace pom::fuzz {

// Real proofs of random trees over both hashers, with near-twin keys and absent keys.
std::vector<std::vector<uint8_t>> SeedInputs() {
  std::vector<std::vector<uint8_t>> out;
  testing::Rng rng(2024);
  for (int t = 0; t < 24; ++t) {
    smt::MemoryNodeStore store;
    auto tree = smt::SparseMerkleTree<Sha256Hasher>::Open(&store);
    std::vector<Bytes32> keys;
    const int size = static_cast<int>(rng.Uniform(0, 60));
    for (int i = 0; i < size; ++i) {
      Bytes32 k = rng.NextBytes32();
      if (!keys.empty() && rng.OneIn(3)) {
        k = keys[rng.Uniform(0, keys.size() - 1)];
        k[0] ^= static_cast<uint8_t>(rng.Uniform(1, 255));
      }
      keys.push_back(k);
      POM_CHECK_OK(tree->Update(k, rng.NextBytes32()));
    }
    std::vector<Bytes32> proven;
    const size_t m = rng.Uniform(1, 8);
    for (size_t i = 0; i < m; ++i) {
      Bytes32 k = (keys.empty() || rng.OneIn(3)) ? rng.NextBytes32() : keys[rng.Uniform(0, keys.size() - 1)];
      if (std::find(proven.begin(), proven.end(), k) == proven.end()) proven.push_back(k);
    }
    std::vector<uint8_t> input = {static_cast<uint8_t>(proven.size() - 1)};
    for (const Bytes32& k : proven) {
      input.insert(input.end(), k.bytes.begin(), k.bytes.end());
      const Bytes32 v = *tree->Get(k);
      input.insert(input.end(), v.bytes.begin(), v.bytes.end());
    }
    const std::vector<uint8_t> proof = *tree->Multiproof(proven);
    input.insert(input.end(), proof.begin(), proof.end());
    out.push_back(std::move(input));
  }
  return out;
}

}  // namespace pom::fuzz
