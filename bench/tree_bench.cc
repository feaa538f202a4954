// Sparse Merkle tree benchmarks at 10^4, 10^5 and 10^6 live leaves, with both hashers:
//   Update          overwrite a random live leaf with a new value (tree size stays N)
//   Multiproof      compile the proof of K random live keys
//   VerifyProof     compute the root from a K-key proof and its leaves (what a verifier does)
//   EventUpdate     what the engine does per event: set K random live keys to new values and
//                   produce their multiproof, leaf by leaf (Update ×K, then Multiproof) or as one
//                   batch (UpdateBatch); both variants run in the same invocation, side by side
//   DependentRead   the machine's memory latency as a tree walk meets it: each read's address
//                   comes from the read before, over a working set of M MiB (one 64-byte line per
//                   read, in a random cycle); ns per read
// Trees are built once per (hasher, N) and shared by the benchmarks that use them; building
// a 10^6-leaf tree takes several seconds and is not timed.
#include <map>
#include <memory>

#include <benchmark/benchmark.h>

#include "bench/latency.h"
#include "common/check.h"
#include "common/hash.h"
#include "common/smt/memory_node_store.h"
#include "common/smt/tree.h"
#include "tests/testing/random.h"

namespace pom::bench {
namespace {

template <typename Hasher>
struct Fixture {
  smt::MemoryNodeStore store;
  std::unique_ptr<smt::SparseMerkleTree<Hasher>> tree;
  std::vector<Bytes32> keys;
};

template <typename Hasher>
Fixture<Hasher>& TreeOf(size_t leaves) {
  static std::map<size_t, std::unique_ptr<Fixture<Hasher>>> cache;
  auto& slot = cache[leaves];
  if (!slot) {
    slot = std::make_unique<Fixture<Hasher>>();
    auto opened = smt::SparseMerkleTree<Hasher>::Open(&slot->store);
    POM_CHECK_OK(opened);
    slot->tree = std::make_unique<smt::SparseMerkleTree<Hasher>>(std::move(*opened));
    testing::Rng rng(leaves);
    slot->keys.reserve(leaves);
    for (size_t i = 0; i < leaves; ++i) {
      slot->keys.push_back(rng.NextBytes32());
      POM_CHECK_OK(slot->tree->Update(slot->keys.back(), rng.NextBytes32()));
    }
  }
  return *slot;
}

template <typename Hasher>
void BM_Update(benchmark::State& state) {
  Fixture<Hasher>& f = TreeOf<Hasher>(static_cast<size_t>(state.range(0)));
  testing::Rng rng(42);
  LatencyRecorder latency;
  for (auto _ : state) {
    const Bytes32& key = f.keys[rng.Uniform(0, f.keys.size() - 1)];
    const Bytes32 value = rng.NextBytes32();
    latency.Start();
    POM_CHECK_OK(f.tree->Update(key, value));
    latency.Stop();
  }
  benchmark::DoNotOptimize(f.tree->root());
  state.SetItemsProcessed(state.iterations());
  latency.Report(state);
}

std::vector<Bytes32> PickKeys(testing::Rng& rng, const std::vector<Bytes32>& pool, size_t k) {
  std::vector<Bytes32> keys;
  while (keys.size() < k) {
    const Bytes32& key = pool[rng.Uniform(0, pool.size() - 1)];
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
  }
  return keys;
}

template <typename Hasher>
void BM_Multiproof(benchmark::State& state) {
  Fixture<Hasher>& f = TreeOf<Hasher>(static_cast<size_t>(state.range(0)));
  const size_t k = static_cast<size_t>(state.range(1));
  testing::Rng rng(43);
  LatencyRecorder latency;
  size_t bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const std::vector<Bytes32> keys = PickKeys(rng, f.keys, k);
    state.ResumeTiming();
    latency.Start();
    absl::StatusOr<std::vector<uint8_t>> proof = f.tree->Multiproof(keys);
    latency.Stop();
    POM_CHECK_OK(proof);
    bytes += proof->size();
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["proof_bytes"] = static_cast<double>(bytes) / static_cast<double>(state.iterations());
  latency.Report(state);
}

template <typename Hasher>
void BM_VerifyProof(benchmark::State& state) {
  Fixture<Hasher>& f = TreeOf<Hasher>(static_cast<size_t>(state.range(0)));
  const size_t k = static_cast<size_t>(state.range(1));
  testing::Rng rng(44);
  struct Case {
    std::vector<uint8_t> proof;
    std::vector<smt::SmtLeaf> leaves;
  };
  std::vector<Case> cases(256);
  for (Case& c : cases) {
    const std::vector<Bytes32> keys = PickKeys(rng, f.keys, k);
    c.proof = *f.tree->Multiproof(keys);
    for (const Bytes32& key : keys) c.leaves.push_back({key, *f.tree->Get(key)});
  }
  Hasher hasher;
  LatencyRecorder latency;
  size_t i = 0;
  for (auto _ : state) {
    const Case& c = cases[i++ % cases.size()];
    latency.Start();
    absl::StatusOr<Bytes32> root = smt::ComputeMultiproofRoot(hasher, c.proof, c.leaves);
    latency.Stop();
    POM_CHECK(root.ok() && *root == f.tree->root());
  }
  state.SetItemsProcessed(state.iterations());
  latency.Report(state);
}

template <typename Hasher>
void BM_EventUpdate(benchmark::State& state) {
  Fixture<Hasher>& f = TreeOf<Hasher>(static_cast<size_t>(state.range(0)));
  const size_t k = static_cast<size_t>(state.range(1));
  const bool batched = state.range(2) != 0;
  testing::Rng rng(45);
  LatencyRecorder latency;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<smt::SmtLeaf> leaves;
    std::vector<Bytes32> keys = PickKeys(rng, f.keys, k);
    for (const Bytes32& key : keys) leaves.push_back({key, rng.NextBytes32()});
    state.ResumeTiming();
    std::vector<uint8_t> proof;
    latency.Start();
    if (batched) {
      POM_CHECK_OK(f.tree->UpdateBatch(std::move(leaves), &proof));
    } else {
      for (const smt::SmtLeaf& l : leaves) POM_CHECK_OK(f.tree->Update(l.key, l.value));
      absl::StatusOr<std::vector<uint8_t>> p = f.tree->Multiproof(keys);
      POM_CHECK_OK(p);
      proof = std::move(*p);
    }
    latency.Stop();
    benchmark::DoNotOptimize(proof.data());
  }
  state.SetItemsProcessed(state.iterations());
  latency.Report(state);
}

void BM_DependentRead(benchmark::State& state) {
  const size_t lines = (static_cast<size_t>(state.range(0)) << 20) / 64;
  struct alignas(64) Line {
    uint64_t next;
  };
  std::vector<Line> memory(lines);
  // One cycle through every line, in a random visiting order.
  std::vector<uint32_t> order(lines);
  for (size_t i = 0; i < lines; ++i) order[i] = static_cast<uint32_t>(i);
  testing::Rng rng(46);
  for (size_t i = lines - 1; i > 0; --i) std::swap(order[i], order[rng.Next() % i]);
  for (size_t i = 0; i < lines; ++i) memory[order[i]].next = order[(i + 1) % lines];
  uint64_t at = 0;
  for (size_t i = 0; i < lines; ++i) at = memory[at].next;  // every page touched before timing
  constexpr int kReads = 1024;
  for (auto _ : state) {
    for (int i = 0; i < kReads; ++i) at = memory[at].next;
    benchmark::DoNotOptimize(at);
  }
  state.SetItemsProcessed(state.iterations() * kReads);
  state.counters["ns_per_read"] = benchmark::Counter(static_cast<double>(state.iterations() * kReads),
                                                     benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void Sizes(benchmark::internal::Benchmark* b) {
  for (int64_t n : {10'000, 100'000, 1'000'000}) b->Arg(n);
}
void SizesAndKeys(benchmark::internal::Benchmark* b) {
  for (int64_t n : {10'000, 100'000, 1'000'000}) {
    for (int64_t k : {1, 8}) b->Args({n, k});
  }
}

BENCHMARK_TEMPLATE(BM_Update, Sha256Hasher)->Apply(Sizes)->ArgName("leaves");
BENCHMARK_TEMPLATE(BM_Update, Blake2b256Hasher)->Apply(Sizes)->ArgName("leaves");
BENCHMARK_TEMPLATE(BM_Multiproof, Sha256Hasher)->Apply(SizesAndKeys)->ArgNames({"leaves", "keys"});
BENCHMARK_TEMPLATE(BM_Multiproof, Blake2b256Hasher)->Apply(SizesAndKeys)->ArgNames({"leaves", "keys"});
BENCHMARK_TEMPLATE(BM_VerifyProof, Sha256Hasher)->Apply(SizesAndKeys)->ArgNames({"leaves", "keys"});
BENCHMARK_TEMPLATE(BM_VerifyProof, Blake2b256Hasher)->Apply(SizesAndKeys)->ArgNames({"leaves", "keys"});
BENCHMARK_TEMPLATE(BM_EventUpdate, Sha256Hasher)
    ->ArgsProduct({{10'000, 1'000'000}, {10}, {0, 1}})
    ->ArgNames({"leaves", "keys", "batched"});

BENCHMARK(BM_DependentRead)->Arg(1)->Arg(4)->Arg(8)->Arg(16)->Arg(64)->Arg(512)->ArgName("MiB");

}  // namespace
}  // namespace pom::bench

BENCHMARK_MAIN();
