// Journal group commit: appending batches of B commands (real signed commands from the workload
// generator, ~190 bytes each) to the RocksDB journal and syncing once per batch. Reports
// commands/s, syncs/s, and the latency of one group commit (append + sync: what the first
// command of a batch waits before its acknowledgement) as p50/p99/p99.9.
//   pom_journal_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>

#include "bench/latency.h"
#include "bench/workload.h"
#include "common/check.h"
#include "matcher/storage/store.h"

namespace pom::matcher {
namespace {

const std::vector<JournalRecord>& Records() {
  static const std::vector<JournalRecord>* records = [] {
    workload::Options o;
    o.seed = 3;
    o.events = 20'000;
    const workload::Workload w = workload::Generate(o);
    auto* out = new std::vector<JournalRecord>;
    v1::Command wire;
    for (const rules::Command& c : w.commands) {
      codec::ToProto(c, &wire);
      out->push_back(JournalRecord{0, wire.SerializeAsString(), c.signer, c.nonce});
    }
    return out;
  }();
  return *records;
}

void BM_JournalGroupCommit(benchmark::State& state) {
  const size_t batch = static_cast<size_t>(state.range(0));
  std::string tmpl = (std::filesystem::temp_directory_path() / "pom-journal-XXXXXX").string();
  const std::string dir = ::mkdtemp(tmpl.data());
  StoreOptions so;
  so.path = dir + "/db";
  auto store = Store::Open(so);
  POM_CHECK_OK(store);
  const std::vector<JournalRecord>& all = Records();
  std::vector<JournalRecord> group(batch);
  uint64_t seq = 0;
  size_t next = 0;
  bench::LatencyRecorder latency;
  for (auto _ : state) {
    for (JournalRecord& r : group) {
      r = all[next++ % all.size()];
      r.sequence = ++seq;
      r.nonce += seq;  // distinct duplicate-index keys
    }
    latency.Start();
    POM_CHECK_OK((*store)->AppendJournal(group));
    POM_CHECK_OK((*store)->SyncJournal());
    latency.Stop();
  }
  latency.Report(state);
  state.counters["commands_per_s"] =
      benchmark::Counter(static_cast<double>(seq), benchmark::Counter::kIsRate);
  state.counters["syncs_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  store->reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_JournalGroupCommit)->Arg(1)->Arg(16)->Arg(64)->Arg(256)->Arg(1024)
    ->UseRealTime()->MinTime(2.0)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace pom::matcher

BENCHMARK_MAIN();
