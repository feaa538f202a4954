// Crash tests of the real `pom-matcher ingest` process: killed at every named kill point, and
// SIGKILLed at random moments, it must always restart to the state of a run without a crash,
// never lose a command it acknowledged, and never apply one twice.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "matcher/ingest.h"
#include "matcher/storage/store.h"
#include "tests/matcher/durability_fixture.h"
#include "tests/testing/random.h"

extern char** environ;

namespace pom::matcher {
namespace {

using testing::TempDir;

std::string BinDir() {
  const char* dir = std::getenv("POM_BIN_DIR");
  return dir != nullptr ? dir : "build/bin";
}

struct ProcessRun {
  bool killed = false;  // by SIGKILL
  int exit_code = -1;
  std::string out;
};

pid_t Spawn(const std::vector<std::string>& args, const std::string& kill_at, const std::string& out) {
  const pid_t pid = fork();
  if (pid == 0) {
    FILE* f = std::freopen(out.c_str(), "w", stdout);
    if (f == nullptr) _exit(120);
    if (kill_at.empty()) {
      unsetenv("POM_KILL_AT");
    } else {
      setenv("POM_KILL_AT", kill_at.c_str(), 1);
    }
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execve(argv[0], argv.data(), environ);
    _exit(121);
  }
  return pid;
}

ProcessRun Wait(pid_t pid, const std::string& out) {
  int status = 0;
  waitpid(pid, &status, 0);
  ProcessRun r;
  r.killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(out);
  std::stringstream text;
  text << in.rdbuf();
  r.out = text.str();
  return r;
}

std::string Field(const std::string& out, const std::string& name) {
  for (absl::string_view line : absl::StrSplit(out, '\n')) {
    for (absl::string_view word : absl::StrSplit(line, ' ')) {
      if (absl::StartsWith(word, name + "=")) return std::string(word.substr(name.size() + 1));
    }
  }
  return "";
}

class CrashTest : public ::testing::Test {
 protected:
  std::vector<std::string> IngestArgs(const std::string& data, const std::string& tree) {
    return {BinDir() + "/pom-matcher", "ingest", "--data", data, "--commands", dir_ / "cmds",
            "--batch", "64", "--snapshot-interval", "700", "--tree", tree,
            "--acks", data + ".acks"};
  }

  ProcessRun Ingest(const std::string& data, const std::string& tree, const std::string& kill_at = "") {
    const std::string out = data + ".out";
    return Wait(Spawn(IngestArgs(data, tree), kill_at, out), out);
  }

  // Every acknowledged command is in the journal at its sequence, none twice, and the journal
  // has no command twice. A line torn by a SIGKILL (at most one per kill: only a killed run's
  // last write can tear) was never delivered, so it is no acknowledgement.
  void CheckAcks(const std::string& data, size_t max_torn) {
    StoreOptions so;
    so.path = data + "/db";
    absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(so);
    ASSERT_TRUE(store.ok()) << store.status();
    std::ifstream acks(data + ".acks");
    std::set<uint64_t> seen;
    std::string line;
    size_t n = 0, torn = 0;
    v1::Command wire;
    while (std::getline(acks, line)) {
      const std::optional<AckLine> ack = ParseAckLine(line);
      if (!ack.has_value()) {
        ++torn;
        continue;
      }
      EXPECT_TRUE(seen.insert(ack->sequence).second) << "sequence acknowledged twice: " << ack->sequence;
      absl::StatusOr<std::optional<std::string>> journaled = (*store)->ReadJournal(ack->sequence);
      ASSERT_TRUE(journaled.ok() && journaled->has_value()) << "acknowledged " << ack->sequence << " is lost";
      ASSERT_TRUE(wire.ParseFromString(**journaled));
      EXPECT_EQ(ToHex(std::span<const uint8_t>(
                    reinterpret_cast<const uint8_t*>(wire.signer().data()), wire.signer().size())),
                ack->signer_hex);
      EXPECT_EQ(wire.nonce(), ack->nonce);
      ++n;
    }
    EXPECT_LE(torn, max_torn);
    EXPECT_GT(n, 0u);
    std::set<std::pair<std::string, uint64_t>> commands;
    absl::StatusOr<JournalScan> scan = (*store)->ScanJournal(1, [&](uint64_t, std::string_view p) {
      EXPECT_TRUE(wire.ParseFromArray(p.data(), static_cast<int>(p.size())));
      EXPECT_TRUE(commands.emplace(wire.signer(), wire.nonce()).second) << "a command applied twice";
      return absl::OkStatus();
    });
    ASSERT_TRUE(scan.ok()) << scan.status();
  }

  void SetUp() override {
    testing::WriteWorkload(dir_ / "cmds", 77, 3000);
    replay_root_ = ToHex(testing::ReplayRoot(dir_ / "cmds"));
  }

  TempDir dir_;
  std::string replay_root_;
};

TEST(AckLineTest, WholeLinesParseAndTornOnesDoNot) {
  rules::Command a, b;
  a.signer.bytes.fill(0xab);
  a.nonce = 26;
  b.signer.bytes.fill(0x1c);
  b.nonce = 11;
  const std::string la = FormatAckLine(6410, a), lb = FormatAckLine(6411, b);
  ASSERT_TRUE(la.ends_with("\n"));
  const std::optional<AckLine> parsed = ParseAckLine(std::string_view(la).substr(0, la.size() - 1));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->sequence, 6410u);
  EXPECT_EQ(parsed->signer_hex, ToHex(a.signer.bytes));
  EXPECT_EQ(parsed->nonce, 26u);
  // What a SIGKILL left once: the start of one line, then the end of a later one.
  const std::string spliced = la.substr(0, 25) + lb.substr(lb.find(' ', 5));
  EXPECT_FALSE(ParseAckLine(std::string_view(spliced).substr(0, spliced.size() - 1)).has_value());
  for (size_t cut = 0; cut + 1 < la.size(); ++cut) {
    EXPECT_FALSE(ParseAckLine(std::string_view(la).substr(0, cut)).has_value()) << cut;
  }
  std::string flipped = la.substr(0, la.size() - 1);
  flipped[3] = flipped[3] == '0' ? '1' : '0';
  EXPECT_FALSE(ParseAckLine(flipped).has_value());
}

TEST_F(CrashTest, EveryKillPointRestartsToTheStateOfARunWithoutACrash) {
  for (const std::string tree : {"memory", "rocksdb"}) {
    const ProcessRun reference = Ingest(dir_ / ("ref-" + tree), tree);
    ASSERT_EQ(reference.exit_code, 0) << reference.out;
    ASSERT_EQ(Field(reference.out, "root"), replay_root_);
    const std::string state = Field(reference.out, "state");
    std::vector<std::string> points = {"after-apply", "after-append", "after-sync", "after-proof",
                                       "after-ack", "snapshot-write", "snapshot-rename"};
    if (tree == "rocksdb") points.push_back("tree-flush");
    for (const std::string& point : points) {
      SCOPED_TRACE(tree + " " + point);
      const std::string data = dir_ / (tree + "-" + point);
      // The third time: with some history behind it (snapshots every ~700 events).
      const ProcessRun crashed = Ingest(data, tree, point + ":3");
      ASSERT_TRUE(crashed.killed) << "exit " << crashed.exit_code << "\n" << crashed.out;
      const ProcessRun restarted = Ingest(data, tree);
      ASSERT_EQ(restarted.exit_code, 0) << restarted.out;
      EXPECT_EQ(Field(restarted.out, "root"), replay_root_);
      EXPECT_EQ(Field(restarted.out, "state"), state);
      EXPECT_EQ(Field(restarted.out, "seq"), "3000");
      EXPECT_GT(std::stoull(Field(restarted.out, "skipped")), 0u);
      CheckAcks(data, 0);  // every kill point is outside the acknowledgement's write
    }
  }
}

// The newest RocksDB write-ahead log of a data dir (where a crash leaves the journal's tail).
std::string NewestLog(const std::string& db) {
  std::string newest;
  for (const auto& e : std::filesystem::directory_iterator(db)) {
    const std::string name = e.path().filename().string();
    if (name.ends_with(".log") && (newest.empty() || name > std::filesystem::path(newest).filename().string())) {
      newest = e.path().string();
    }
  }
  return newest;
}

TEST_F(CrashTest, LogCutShortByACrashRecoversAndDamageInItsMiddleRefusesToStart) {
  for (const bool cut_tail : {true, false}) {
    SCOPED_TRACE(cut_tail ? "tail cut short" : "byte flipped in the middle");
    const std::string data = dir_ / (cut_tail ? "cut" : "flip");
    // Killed right after a sync: the journal's latest records live only in the log.
    ASSERT_TRUE(Ingest(data, "memory", "after-sync:20").killed);
    const std::string log = NewestLog(data + "/db");
    ASSERT_FALSE(log.empty());
    const auto size = std::filesystem::file_size(log);
    ASSERT_GT(size, 4096u);
    if (cut_tail) {
      std::filesystem::resize_file(log, size - 777);  // the last record, torn
    } else {
      std::fstream f(log, std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(static_cast<std::streamoff>(size / 2));
      char c = 0;
      f.read(&c, 1);
      f.seekp(static_cast<std::streamoff>(size / 2));
      c = static_cast<char>(c ^ 0x20);
      f.write(&c, 1);
    }
    const ProcessRun restarted = Ingest(data, "memory");
    if (cut_tail) {
      ASSERT_EQ(restarted.exit_code, 0) << restarted.out;
      EXPECT_EQ(Field(restarted.out, "root"), replay_root_);
      EXPECT_EQ(Field(restarted.out, "seq"), "3000");
    } else {
      EXPECT_NE(restarted.exit_code, 0) << restarted.out;
      EXPECT_EQ(Field(restarted.out, "root"), "");  // it never got to run
    }
  }
}

TEST_F(CrashTest, FiftyRandomSigkillsDuringIngestEndAtTheReplayRoot) {
  TempDir big;
  testing::WriteWorkload(big / "cmds", 78, 30000, 200, 4);
  const std::string root = ToHex(testing::ReplayRoot(big / "cmds"));
  for (uint64_t seed : pom::testing::TestSeeds({4242})) {
    SCOPED_TRACE(pom::testing::SeedBanner(seed));
    pom::testing::Rng rng(seed);
    const std::string data = big / "data";
    std::vector<std::string> args = {BinDir() + "/pom-matcher", "ingest", "--data", data,
                                     "--commands", big / "cmds", "--batch", "128",
                                     "--snapshot-interval", "3000", "--acks", data + ".acks"};
    int kills = 0, finished = 0;
    std::string last;
    while (kills < 50) {
      const std::string out = data + ".out";
      const pid_t pid = Spawn(args, "", out);
      std::this_thread::sleep_for(std::chrono::milliseconds(rng.Uniform(20, 400)));
      kill(pid, SIGKILL);
      const ProcessRun r = Wait(pid, out);
      if (r.killed) {
        ++kills;
      } else {
        ASSERT_EQ(r.exit_code, 0) << r.out;
        ++finished;
        last = r.out;
        break;  // it got to the end before the kill
      }
    }
    EXPECT_GE(kills, 50) << "the stream ended after " << kills << " kills: make it longer";
    const ProcessRun final_run = Wait(Spawn(args, "", data + ".out"), data + ".out");
    ASSERT_EQ(final_run.exit_code, 0) << final_run.out;
    EXPECT_EQ(Field(final_run.out, "root"), root);
    EXPECT_EQ(Field(final_run.out, "seq"), "30000");
    // The killed runs did the work: the last run found a good part of the stream already
    // sequenced (a few thousand on a quiet machine; 2,688 once with the other core busy, so the
    // bar is set below that).
    const uint64_t skipped = std::stoull(Field(final_run.out, "skipped"));
    EXPECT_GT(skipped, 1500u);
    std::printf("kills=%d finished_early=%d sequenced_before_the_last_run=%llu\n", kills, finished,
                static_cast<unsigned long long>(skipped));
    CheckAcks(data, static_cast<size_t>(kills));
  }
}

}  // namespace
}  // namespace pom::matcher
