// A simulated power cut under the matcher: the storage wrapper drops every write that was not
// synced. Every acknowledged command must still be there after the restart, and the restarted
// matcher must carry on to the root a run without the cut reaches.
#include <rocksdb/env.h>

#include <atomic>
#include <thread>

#include "gtest/gtest.h"
#include "matcher/durable_matcher.h"
#include "matcher/ingest.h"
#include "tests/matcher/durability_fixture.h"
#include "tests/testing/power_loss_fs.h"
#include "tests/testing/random.h"

namespace pom::matcher {
namespace {

using testing::TempDir;

// A matcher on `env` (a PowerLossFileSystem), new from the workload's genesis.
DurableMatcherOptions OnPowerLossDisk(const std::string& data, const workload::Workload& w,
                                      uint64_t snapshot_interval, rocksdb::Env* env) {
  DurableMatcherOptions o;
  o.data_dir = data;
  o.genesis = w.genesis;
  o.snapshot_interval = snapshot_interval;
  o.env = env;
  return o;
}

TEST(PowerLoss, NoAcknowledgedCommandIsLost) {
  TempDir dir;
  const workload::Workload w = testing::WriteWorkload(dir / "cmds", 91, 4000);
  const Bytes32 replay_root = testing::ReplayRoot(dir / "cmds");
  for (uint64_t seed : pom::testing::TestSeeds({1, 2, 3, 4, 5, 6, 7, 8})) {
    SCOPED_TRACE(pom::testing::SeedBanner(seed));
    pom::testing::Rng rng(seed);
    const std::string data = dir / ("data-" + std::to_string(seed));
    auto fs = std::make_shared<pom::testing::PowerLossFileSystem>();
    std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
    std::vector<std::pair<uint64_t, rules::Command>> acked;
    {
      absl::StatusOr<std::unique_ptr<DurableMatcher>> m = DurableMatcher::Open(OnPowerLossDisk(data, w, 1000, env.get()));
      ASSERT_TRUE(m.ok()) << m.status();
      // The power goes out at a random moment, from another thread, while batches commit.
      std::atomic<bool> cut{false};
      std::thread cutter([&] {
        std::this_thread::sleep_for(std::chrono::microseconds(rng.Uniform(1000, 150000)));
        fs->CutPower();
        cut = true;
      });
      size_t next = 0;
      while (next < w.commands.size()) {
        const size_t n = std::min<size_t>(rng.Uniform(1, 64), w.commands.size() - next);
        std::span<const rules::Command> batch(w.commands.data() + next, n);
        absl::StatusOr<std::vector<SubmitResult>> results = (*m)->SubmitBatch(batch);
        if (!results.ok()) break;  // fail-stop: nothing of this batch was acknowledged
        for (size_t i = 0; i < n; ++i) {
          if ((*results)[i].status.ok()) acked.emplace_back((*results)[i].sequence, batch[i]);
        }
        next += n;
      }
      cutter.join();
      EXPECT_TRUE(cut.load());
      ASSERT_TRUE(fs->power_lost());
      // Later writes fail: a matcher that kept going would not acknowledge anything more.
      if (next < w.commands.size()) {
        EXPECT_FALSE((*m)->SubmitBatch(std::span<const rules::Command>(&w.commands[next], 1)).ok());
      }
    }
    ASSERT_TRUE(fs->Restore().ok());
    // Restart on the real disk: everything acknowledged is there, at its sequence.
    DurableMatcherOptions o;
    o.data_dir = data;
    absl::StatusOr<std::unique_ptr<DurableMatcher>> m = DurableMatcher::Open(o);
    ASSERT_TRUE(m.ok()) << m.status();
    const uint64_t recovered = (*m)->sequence();
    EXPECT_GE(recovered, acked.empty() ? 0 : acked.back().first);
    v1::Command wire;
    for (const auto& [seq, command] : acked) {
      absl::StatusOr<std::optional<std::string>> journaled = (*m)->store().ReadJournal(seq);
      ASSERT_TRUE(journaled.ok() && journaled->has_value()) << "acknowledged " << seq << " lost";
      codec::ToProto(command, &wire);
      EXPECT_EQ(**journaled, wire.SerializeAsString()) << seq;
    }
    // Every event's proof is there: the ones after the snapshot rebuilt by the recovery, the
    // ones up to it synced when the snapshot was written.
    for (uint64_t seq = 1; seq <= recovered; ++seq) {
      absl::StatusOr<std::optional<std::string>> proof = (*m)->store().ReadProof(seq);
      ASSERT_TRUE(proof.ok() && proof->has_value()) << "proof " << seq << " missing after the restart";
    }
    std::printf("seed %llu: %zu acknowledged, %llu recovered\n", static_cast<unsigned long long>(seed),
                acked.size(), static_cast<unsigned long long>(recovered));
    m->reset();
    IngestOptions io;
    io.commands_path = dir / "cmds";
    io.matcher.data_dir = data;
    absl::StatusOr<IngestResult> rest = Ingest(io);
    ASSERT_TRUE(rest.ok()) << rest.status();
    EXPECT_EQ(rest->root, replay_root);
    EXPECT_EQ(rest->skipped, recovered);
  }
}

// The power goes out right after a snapshot: recovery starts after it and rebuilds only later
// proofs, so every proof up to the snapshot must already be on disk, the last batch's included
// (its proofs go into the log after its sync; the snapshot syncs the log first).
TEST(PowerLoss, EveryProofUpToASnapshotSurvivesACutRightAfterIt) {
  TempDir dir;
  const workload::Workload w = testing::WriteWorkload(dir / "cmds", 92, 600);
  for (const size_t batch_size : {1, 7, 64}) {
    SCOPED_TRACE(batch_size);
    const std::string data = dir / ("data-" + std::to_string(batch_size));
    auto fs = std::make_shared<pom::testing::PowerLossFileSystem>();
    std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
    uint64_t snapshot_at = 0;
    {
      const DurableMatcherOptions o = OnPowerLossDisk(data, w, 200, env.get());
      absl::StatusOr<std::unique_ptr<DurableMatcher>> m = DurableMatcher::Open(o);
      ASSERT_TRUE(m.ok()) << m.status();
      for (size_t next = 0; next < w.commands.size() && snapshot_at == 0; next += batch_size) {
        const size_t n = std::min(batch_size, w.commands.size() - next);
        ASSERT_TRUE((*m)->SubmitBatch(std::span<const rules::Command>(w.commands.data() + next, n)).ok());
        if ((*m)->sequence() >= o.snapshot_interval) snapshot_at = (*m)->sequence();
      }
      ASSERT_GT(snapshot_at, 0u);
      fs->CutPower();
    }
    ASSERT_TRUE(fs->Restore().ok());
    DurableMatcherOptions o;
    o.data_dir = data;
    absl::StatusOr<std::unique_ptr<DurableMatcher>> m = DurableMatcher::Open(o);
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ((*m)->recovery().snapshot_sequence, snapshot_at);
    for (uint64_t seq = 1; seq <= (*m)->sequence(); ++seq) {
      absl::StatusOr<std::optional<std::string>> proof = (*m)->store().ReadProof(seq);
      ASSERT_TRUE(proof.ok() && proof->has_value()) << "proof " << seq << " missing after the restart";
    }
  }
}

}  // namespace
}  // namespace pom::matcher
