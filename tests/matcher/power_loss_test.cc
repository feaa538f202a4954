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
      DurableMatcherOptions o;
      o.data_dir = data;
      o.genesis = w.genesis;
      o.snapshot_interval = 1000;
      o.env = env.get();
      absl::StatusOr<std::unique_ptr<DurableMatcher>> m = DurableMatcher::Open(o);
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

}  // namespace
}  // namespace pom::matcher
