// Hashing and signature benchmarks: SHA-256 (Sha256Hasher: the SHA-extension short path up to
// 119 bytes, OpenSSL above; one at a time and in pairs) and BLAKE2b-256
// (libsodium) over the input sizes the tree hashes (65-byte base node, 66-byte merge-with-zero,
// 98-byte fork) and a 1 KiB record; Ed25519 sign and verify (libsodium) of a 128-byte message.
#include <array>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench/latency.h"
#include "common/ed25519.h"
#include "common/hash.h"

namespace pom::bench {
namespace {

template <typename Hasher>
void BM_Digest(benchmark::State& state) {
  Hasher hasher;
  std::vector<uint8_t> data(static_cast<size_t>(state.range(0)), 0x5a);
  LatencyRecorder latency;
  for (auto _ : state) {
    latency.Start();
    Bytes32 d = hasher.Digest(data);
    latency.Stop();
    benchmark::DoNotOptimize(d);
    data[0] = d[0];
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
  state.SetItemsProcessed(state.iterations());
  latency.Report(state);
}

BENCHMARK_TEMPLATE(BM_Digest, Sha256Hasher)->Arg(32)->Arg(65)->Arg(66)->Arg(98)->Arg(1024)->ArgName("bytes");
// Two independent digests per iteration: one after the other through Digest, or interleaved
// through DigestMany (the SHA-extension path overlaps the two messages' round chains).
template <bool kPair>
void BM_Sha256TwoDigests(benchmark::State& state) {
  Sha256Hasher hasher;
  std::vector<uint8_t> a(static_cast<size_t>(state.range(0)), 0x5a), b(a.size(), 0xa5);
  LatencyRecorder latency;
  for (auto _ : state) {
    latency.Start();
    Bytes32 da, db;
    if constexpr (kPair) {
      const std::array<HashJob, 2> jobs = {HashJob{a, &da}, HashJob{b, &db}};
      hasher.DigestMany(jobs);
    } else {
      da = hasher.Digest(a);
      db = hasher.Digest(b);
    }
    latency.Stop();
    benchmark::DoNotOptimize(da);
    benchmark::DoNotOptimize(db);
    a[0] = da[0];
    b[0] = db[0];
  }
  state.SetItemsProcessed(state.iterations() * 2);
  latency.Report(state);
}
BENCHMARK_TEMPLATE(BM_Sha256TwoDigests, false)->Arg(65)->Arg(98)->ArgName("bytes");
BENCHMARK_TEMPLATE(BM_Sha256TwoDigests, true)->Arg(65)->Arg(98)->ArgName("bytes");

// Four independent digests per iteration: two DigestMany calls of two, or one of four.
template <bool kMany>
void BM_Sha256FourDigests(benchmark::State& state) {
  Sha256Hasher hasher;
  std::vector<std::vector<uint8_t>> m;
  for (uint8_t i = 0; i < 4; ++i) m.emplace_back(static_cast<size_t>(state.range(0)), static_cast<uint8_t>(0x11 * i));
  std::array<Bytes32, 4> d;
  LatencyRecorder latency;
  for (auto _ : state) {
    latency.Start();
    if constexpr (kMany) {
      const std::array<HashJob, 4> jobs = {HashJob{m[0], &d[0]}, HashJob{m[1], &d[1]}, HashJob{m[2], &d[2]},
                                           HashJob{m[3], &d[3]}};
      hasher.DigestMany(jobs);
    } else {
      const std::array<HashJob, 2> first = {HashJob{m[0], &d[0]}, HashJob{m[1], &d[1]}};
      const std::array<HashJob, 2> second = {HashJob{m[2], &d[2]}, HashJob{m[3], &d[3]}};
      hasher.DigestMany(first);
      hasher.DigestMany(second);
    }
    latency.Stop();
    benchmark::DoNotOptimize(d);
    for (size_t i = 0; i < 4; ++i) m[i][0] = d[i][0];
  }
  state.SetItemsProcessed(state.iterations() * 4);
  latency.Report(state);
}
BENCHMARK_TEMPLATE(BM_Sha256FourDigests, false)->Arg(98)->ArgName("bytes");
BENCHMARK_TEMPLATE(BM_Sha256FourDigests, true)->Arg(98)->ArgName("bytes");

BENCHMARK_TEMPLATE(BM_Digest, Blake2b256Hasher)->Arg(32)->Arg(65)->Arg(66)->Arg(98)->Arg(1024)->ArgName("bytes");

void BM_Ed25519Sign(benchmark::State& state) {
  const KeyPair kp = GenerateKeyPair();
  std::vector<uint8_t> msg(128, 1);
  LatencyRecorder latency;
  for (auto _ : state) {
    latency.Start();
    Signature sig = Sign(kp.secret_key, msg);
    latency.Stop();
    benchmark::DoNotOptimize(sig);
  }
  state.SetItemsProcessed(state.iterations());
  latency.Report(state);
}
BENCHMARK(BM_Ed25519Sign);

void BM_Ed25519Verify(benchmark::State& state) {
  const KeyPair kp = GenerateKeyPair();
  std::vector<uint8_t> msg(128, 1);
  const Signature sig = Sign(kp.secret_key, msg);
  LatencyRecorder latency;
  for (auto _ : state) {
    latency.Start();
    bool ok = Verify(kp.public_key, msg, sig);
    latency.Stop();
    benchmark::DoNotOptimize(ok);
  }
  state.SetItemsProcessed(state.iterations());
  latency.Report(state);
}
BENCHMARK(BM_Ed25519Verify);

}  // namespace
}  // namespace pom::bench

BENCHMARK_MAIN();
