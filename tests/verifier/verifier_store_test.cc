// The verifier's durable head (verifier/store.h) and `pom-verifier check --data`.
//
// Store: round trips, reopening, corrupt or missing records (DataLoss), a head of another
// genesis (FailedPrecondition), and power loss around a commit. Check: a run over the first half
// of a proof file, then one over the whole file, resumes and ends at the root of a single run;
// a file of another history is refused; a rejected proof leaves the last good head stored.
// Crash: the real pom-verifier is killed at the kill points of the commit path, and a rerun on
// the same directory resumes from the last successful commit and reaches the same root.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/options.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "bench/workload.h"
#include "proto/codec.h"
#include "proto/stream.h"
#include "tests/testing/power_loss_fs.h"
#include "tests/testing/proved_run.h"
#include "verifier/check.h"
#include "verifier/store.h"

extern char** environ;

namespace pom::verify {
namespace {

using ::testing::HasSubstr;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "pom-verifier-store-XXXXXX").string();
    const char* made = ::mkdtemp(tmpl.data());
    EXPECT_NE(made, nullptr) << "mkdtemp " << tmpl;
    path_ = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

Bytes32 Word(uint8_t fill) {
  Bytes32 b;
  b.bytes.fill(fill);
  return b;
}

rules::AccountId Account(uint8_t fill) {
  rules::AccountId a;
  a.bytes.fill(fill);
  return a;
}

// A head with a ledger of `users` chain-side entries and some custody.
VerifierHead MakeHead(uint64_t sequence, uint8_t fill, int users = 3) {
  VerifierHead head;
  head.sequence = sequence;
  head.root = Word(fill);
  for (int i = 0; i < users; ++i) {
    EXPECT_TRUE(head.ledger
                    .CreditChain(Account(static_cast<uint8_t>(i + 1)), rules::Currency{static_cast<uint32_t>(i % 2)},
                                 Amount::FromRaw(static_cast<u128>(1000 * (i + 1) + fill)))
                    .ok());
  }
  rules::Command deposit;
  deposit.signer = Account(1);
  deposit.body = rules::Deposit{rules::Currency{0}, Amount::FromRaw(7)};
  EXPECT_TRUE(head.ledger.ApplyEvent(deposit, rules::Outcome{}).ok());
  return head;
}

void ExpectSameHead(const VerifierHead& got, const VerifierHead& want) {
  EXPECT_EQ(got.sequence, want.sequence);
  EXPECT_EQ(got.root, want.root);
  EXPECT_TRUE(got.ledger == want.ledger);
}

VerifierStoreOptions StoreAt(const std::string& path, const Bytes32& genesis = Word(0xa1),
                             rocksdb::Env* env = nullptr) {
  VerifierStoreOptions o;
  o.path = path;
  o.genesis = genesis;
  o.env = env;
  return o;
}

std::unique_ptr<VerifierStore> MustOpen(const VerifierStoreOptions& options) {
  absl::StatusOr<std::unique_ptr<VerifierStore>> store = VerifierStore::Open(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

// Open then Load: the first error of either, or the loaded head.
absl::StatusOr<std::optional<VerifierHead>> OpenAndLoad(const VerifierStoreOptions& options) {
  absl::StatusOr<std::unique_ptr<VerifierStore>> store = VerifierStore::Open(options);
  if (!store.ok()) return store.status();
  return (*store)->Load();
}

// Every (key, value) in the default column family, read with RocksDB directly.
std::map<std::string, std::string> RawRecords(const std::string& path) {
  std::map<std::string, std::string> out;
  rocksdb::DB* raw = nullptr;
  rocksdb::Options options;
  const rocksdb::Status s = rocksdb::DB::Open(options, path, &raw);
  EXPECT_TRUE(s.ok()) << s.ToString();
  if (!s.ok()) return out;
  std::unique_ptr<rocksdb::DB> db(raw);
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) out[it->key().ToString()] = it->value().ToString();
  EXPECT_TRUE(it->status().ok());
  it.reset();
  EXPECT_TRUE(db->Close().ok());
  return out;
}

void RawPut(const std::string& path, const std::string& key, const std::string* value) {
  rocksdb::DB* raw = nullptr;
  rocksdb::Options options;
  ASSERT_TRUE(rocksdb::DB::Open(options, path, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions write;
  write.sync = true;
  if (value == nullptr) {
    ASSERT_TRUE(db->Delete(write, key).ok());
  } else {
    ASSERT_TRUE(db->Put(write, key, *value).ok());
  }
  ASSERT_TRUE(db->Close().ok());
}

TEST(VerifierStore, NewDirectoryHasNoHead) {
  TempDir dir;
  std::unique_ptr<VerifierStore> store = MustOpen(StoreAt(dir / "db"));
  ASSERT_NE(store, nullptr);
  absl::StatusOr<std::optional<VerifierHead>> head = store->Load();
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_FALSE(head->has_value());
}

TEST(VerifierStore, CommitThenLoadRoundTrips) {
  TempDir dir;
  std::unique_ptr<VerifierStore> store = MustOpen(StoreAt(dir / "db"));
  ASSERT_NE(store, nullptr);
  const VerifierHead first = MakeHead(1000, 0x11);
  ASSERT_TRUE(store->Commit(first).ok());
  absl::StatusOr<std::optional<VerifierHead>> loaded = store->Load();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_TRUE(loaded->has_value());
  ExpectSameHead(**loaded, first);

  // A later commit replaces every part of the head, the ledger included.
  const VerifierHead second = MakeHead(2000, 0x22, 5);
  ASSERT_FALSE(second.ledger == first.ledger);
  ASSERT_TRUE(store->Commit(second).ok());
  loaded = store->Load();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_TRUE(loaded->has_value());
  ExpectSameHead(**loaded, second);
}

TEST(VerifierStore, HeadSurvivesReopen) {
  TempDir dir;
  const VerifierHead head = MakeHead(42, 0x42);
  {
    std::unique_ptr<VerifierStore> store = MustOpen(StoreAt(dir / "db"));
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Commit(head).ok());
  }
  absl::StatusOr<std::optional<VerifierHead>> loaded = OpenAndLoad(StoreAt(dir / "db"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_TRUE(loaded->has_value());
  ExpectSameHead(**loaded, head);
}

TEST(VerifierStore, CorruptRecordIsDataLoss) {
  TempDir dir;
  {
    std::unique_ptr<VerifierStore> store = MustOpen(StoreAt(dir / "db"));
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Commit(MakeHead(7, 0x77)).ok());
  }
  const std::map<std::string, std::string> records = RawRecords(dir / "db");
  ASSERT_EQ(records.size(), 4u) << "genesis, sequence, root and ledger";
  for (const auto& [key, value] : records) {
    SCOPED_TRACE(key);
    // A flipped payload byte, a flipped checksum byte, and a value cut short.
    std::string payload_flip = value;
    payload_flip.back() = static_cast<char>(payload_flip.back() ^ 0x01);
    std::string seal_flip = value;
    seal_flip[0] = static_cast<char>(seal_flip[0] ^ 0x80);
    const std::string cut = value.substr(0, 5);
    for (const std::string& bad : {payload_flip, seal_flip, cut}) {
      RawPut(dir / "db", key, &bad);
      absl::StatusOr<std::optional<VerifierHead>> loaded = OpenAndLoad(StoreAt(dir / "db"));
      EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss) << loaded.status();
      EXPECT_THAT(std::string(loaded.status().message()), HasSubstr(key));
    }
    RawPut(dir / "db", key, &value);
  }
  absl::StatusOr<std::optional<VerifierHead>> restored = OpenAndLoad(StoreAt(dir / "db"));
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_TRUE(restored->has_value());
}

TEST(VerifierStore, MissingHeadRecordIsDataLoss) {
  TempDir dir;
  {
    std::unique_ptr<VerifierStore> store = MustOpen(StoreAt(dir / "db"));
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Commit(MakeHead(7, 0x77)).ok());
  }
  RawPut(dir / "db", "head.ledger", nullptr);
  absl::StatusOr<std::optional<VerifierHead>> loaded = OpenAndLoad(StoreAt(dir / "db"));
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss) << loaded.status();
  EXPECT_THAT(std::string(loaded.status().message()), HasSubstr("incomplete head"));
}

TEST(VerifierStore, HeadOfAnotherGenesisIsRefused) {
  TempDir dir;
  {
    std::unique_ptr<VerifierStore> store = MustOpen(StoreAt(dir / "db", Word(0xa1)));
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Commit(MakeHead(5, 0x55)).ok());
  }
  absl::StatusOr<std::unique_ptr<VerifierStore>> other = VerifierStore::Open(StoreAt(dir / "db", Word(0xb2)));
  EXPECT_EQ(other.status().code(), absl::StatusCode::kFailedPrecondition) << other.status();
  EXPECT_THAT(std::string(other.status().message()), HasSubstr("another genesis"));
  // The refusal changed nothing: the right genesis still resumes.
  absl::StatusOr<std::optional<VerifierHead>> loaded = OpenAndLoad(StoreAt(dir / "db", Word(0xa1)));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->sequence, 5u);
}

TEST(VerifierStore, GenesisDigestCoversProverOperatorAndLedger) {
  rules::CustodyLedger ledger;
  ASSERT_TRUE(ledger.CreditChain(Account(1), rules::Currency{0}, Amount::FromRaw(100)).ok());
  const Config config{Word(1), Account(9)};
  const Bytes32 base = GenesisDigest(config, ledger);
  EXPECT_EQ(GenesisDigest(config, ledger), base);
  EXPECT_NE(GenesisDigest(Config{Word(2), Account(9)}, ledger), base);
  EXPECT_NE(GenesisDigest(Config{Word(1), Account(8)}, ledger), base);
  rules::CustodyLedger richer = ledger;
  ASSERT_TRUE(richer.CreditChain(Account(1), rules::Currency{0}, Amount::FromRaw(1)).ok());
  EXPECT_NE(GenesisDigest(config, richer), base);
}

// Power loss: a commit that returned is durable; one cut off by the power leaves the previous
// head whole (no mix of old and new records).
TEST(VerifierStore, CommitIsDurableAndAtomicAcrossPowerLoss) {
  TempDir dir;
  auto fs = std::make_shared<testing::PowerLossFileSystem>();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
  const VerifierHead first = MakeHead(100, 0x01, 4);
  const VerifierHead second = MakeHead(200, 0x02, 6);
  {
    std::unique_ptr<VerifierStore> store = MustOpen(StoreAt(dir / "db", Word(0xa1), env.get()));
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Commit(first).ok());
    fs->CutPower();
  }
  ASSERT_TRUE(fs->Restore().ok());
  absl::StatusOr<std::optional<VerifierHead>> loaded = OpenAndLoad(StoreAt(dir / "db"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_TRUE(loaded->has_value()) << "a returned commit must survive the power cut";
  ExpectSameHead(**loaded, first);

  {
    std::unique_ptr<VerifierStore> store = MustOpen(StoreAt(dir / "db", Word(0xa1), env.get()));
    ASSERT_NE(store, nullptr);
    fs->CutPower();
    EXPECT_FALSE(store->Commit(second).ok());
  }
  ASSERT_TRUE(fs->Restore().ok());
  loaded = OpenAndLoad(StoreAt(dir / "db"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_TRUE(loaded->has_value());
  ExpectSameHead(**loaded, first);
}

// ---- pom-verifier check --data ----

struct ProofFiles {
  std::unique_ptr<TempDir> dir;
  std::string genesis;      // JSON
  std::string all;          // every proof
  std::string first_half;   // proofs 1..half
  std::vector<rules::EventProof> proofs;
  uint64_t half = 0;
};

void WriteProofs(const std::string& path, const std::vector<rules::EventProof>& proofs) {
  absl::StatusOr<std::unique_ptr<codec::DelimitedWriter>> writer = codec::DelimitedWriter::Create(path);
  ASSERT_TRUE(writer.ok()) << writer.status();
  v1::Proof wire;
  for (const rules::EventProof& p : proofs) {
    codec::ToProto(p, &wire);
    ASSERT_TRUE((*writer)->Write(wire).ok());
  }
  ASSERT_TRUE((*writer)->Close().ok());
}

// A signed workload proved by the engine, written as a genesis and proof files.
ProofFiles* MakeProofFiles(uint64_t seed, uint64_t events) {
  auto* f = new ProofFiles;
  f->dir = std::make_unique<TempDir>();
  pom::testing::ProvedRun run = pom::testing::Prove(seed, events, /*sign=*/true);
  f->proofs = std::move(run.proofs);
  f->genesis = *f->dir / "genesis.json";
  std::ofstream(f->genesis) << codec::GenesisToJson(run.w.genesis);
  f->all = *f->dir / "all.proofs";
  WriteProofs(f->all, f->proofs);
  f->half = f->proofs.size() / 2;
  f->first_half = *f->dir / "half.proofs";
  WriteProofs(f->first_half, std::vector<rules::EventProof>(f->proofs.begin(), f->proofs.begin() + f->half));
  return f;
}

class CheckWithData : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { files_ = MakeProofFiles(31, 1500); }
  static void TearDownTestSuite() {
    delete files_;
    files_ = nullptr;
  }
  static CheckOptions Options(const std::string& proofs, const std::string& data_dir, uint64_t persist_every = 1000) {
    CheckOptions o;
    o.proofs_path = proofs;
    o.genesis_path = files_->genesis;
    o.threads = 2;
    o.data_dir = data_dir;
    o.persist_every = persist_every;
    return o;
  }
  static ProofFiles* files_;
};
ProofFiles* CheckWithData::files_ = nullptr;

TEST_F(CheckWithData, SecondRunResumesAndReachesTheRootOfASingleRun) {
  ASSERT_GT(files_->half, 100u);
  absl::StatusOr<CheckResult> single = Check(Options(files_->all, ""));
  ASSERT_TRUE(single.ok()) << single.status();
  ASSERT_TRUE(single->verdict.ok()) << RejectReasonName(single->verdict.reason) << " " << single->verdict.detail;
  EXPECT_EQ(single->proofs, files_->proofs.size());
  EXPECT_EQ(single->resumed_from, 0u);
  EXPECT_EQ(single->root, files_->proofs.back().new_root);

  TempDir data;
  absl::StatusOr<CheckResult> first = Check(Options(files_->first_half, data / "db", 97));
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(first->verdict.ok()) << RejectReasonName(first->verdict.reason);
  EXPECT_EQ(first->resumed_from, 0u);
  EXPECT_EQ(first->proofs, files_->half);
  EXPECT_EQ(first->root, files_->proofs[files_->half - 1].new_root);

  absl::StatusOr<CheckResult> second = Check(Options(files_->all, data / "db", 97));
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_TRUE(second->verdict.ok()) << RejectReasonName(second->verdict.reason) << " " << second->verdict.detail;
  EXPECT_EQ(second->resumed_from, files_->half);
  EXPECT_EQ(second->proofs, files_->proofs.size() - files_->half) << "the first half must be skipped";
  EXPECT_EQ(second->root, single->root);

  // Nothing left to verify: a third run only confirms the stored head.
  absl::StatusOr<CheckResult> third = Check(Options(files_->all, data / "db"));
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_EQ(third->resumed_from, files_->proofs.size());
  EXPECT_EQ(third->proofs, 0u);
  EXPECT_EQ(third->root, single->root);
}

TEST_F(CheckWithData, FileOfAnotherHistoryIsRefused) {
  TempDir data;
  absl::StatusOr<CheckResult> first = Check(Options(files_->first_half, data / "db"));
  ASSERT_TRUE(first.ok()) << first.status();
  std::vector<rules::EventProof> forged = files_->proofs;
  forged[files_->half - 1].new_root[0] ^= 0x01;
  TempDir work;
  WriteProofs(work / "forged.proofs", forged);
  absl::StatusOr<CheckResult> second = Check(Options(work / "forged.proofs", data / "db"));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition) << second.status();
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("another history"));
  // The refusal changed nothing: the honest file still resumes.
  absl::StatusOr<CheckResult> third = Check(Options(files_->all, data / "db"));
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_EQ(third->resumed_from, files_->half);
  EXPECT_EQ(third->root, files_->proofs.back().new_root);
}

TEST_F(CheckWithData, DataDirectoryOfAnotherGenesisIsRefused) {
  TempDir data;
  ASSERT_TRUE(Check(Options(files_->first_half, data / "db")).ok());
  TempDir work;
  workload::Options o;
  o.seed = 32;
  o.events = 10;
  o.users = 12;
  std::ofstream(work / "other.json") << codec::GenesisToJson(workload::Generate(o).genesis);
  CheckOptions options = Options(files_->all, data / "db");
  options.genesis_path = work / "other.json";
  absl::StatusOr<CheckResult> r = Check(options);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
}

TEST_F(CheckWithData, RejectedProofLeavesTheLastGoodHeadStored) {
  const uint64_t bad = files_->half + 13;  // not on a persist boundary
  std::vector<rules::EventProof> forged = files_->proofs;
  forged[bad - 1].new_root[0] ^= 0x01;
  TempDir work;
  WriteProofs(work / "forged.proofs", forged);
  TempDir data;
  absl::StatusOr<CheckResult> r = Check(Options(work / "forged.proofs", data / "db", 100));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->verdict.reason, RejectReason::kWrongNewRoot) << RejectReasonName(r->verdict.reason);
  EXPECT_EQ(r->failed_sequence, bad);
  EXPECT_EQ(r->proofs, bad - 1);

  // The head before the rejected proof was committed, so the honest file resumes right there.
  absl::StatusOr<CheckResult> resumed = Check(Options(files_->all, data / "db", 100));
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  ASSERT_TRUE(resumed->verdict.ok()) << RejectReasonName(resumed->verdict.reason);
  EXPECT_EQ(resumed->resumed_from, bad - 1);
  EXPECT_EQ(resumed->root, files_->proofs.back().new_root);
}

// The signature pipeline (a helper reads and checks batch k+1 while this thread verifies batch
// k, then joins in): a forged signature past the first batch is caught at its own sequence,
// whatever the thread count, and an honest file verifies in full on 1 to 4 threads.
TEST(CheckSignaturePipeline, ForgedSignatureInALaterBatchIsNamedOnAnyThreadCount) {
  std::unique_ptr<ProofFiles> files(MakeProofFiles(37, 5000));
  // Three read batches of 2,048 with helpers; the 65th batch of 64 on one thread.
  const uint64_t bad = 4100;
  ASSERT_GT(files->proofs.size(), bad + 100);
  std::vector<rules::EventProof> forged = files->proofs;
  forged[bad - 1].command.signature.bytes[5] ^= 0x20;
  TempDir work;
  WriteProofs(work / "forged.proofs", forged);
  for (int threads : {1, 2, 3, 4}) {
    SCOPED_TRACE(absl::StrCat("threads=", threads));
    CheckOptions o;
    o.genesis_path = files->genesis;
    o.threads = threads;
    o.proofs_path = work / "forged.proofs";
    absl::StatusOr<CheckResult> r = Check(o);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->verdict.reason, RejectReason::kBadSignature) << RejectReasonName(r->verdict.reason);
    EXPECT_EQ(r->failed_sequence, bad);
    EXPECT_EQ(r->proofs, bad - 1);

    o.proofs_path = files->all;
    absl::StatusOr<CheckResult> honest = Check(o);
    ASSERT_TRUE(honest.ok()) << honest.status();
    ASSERT_TRUE(honest->verdict.ok()) << RejectReasonName(honest->verdict.reason);
    EXPECT_EQ(honest->proofs, files->proofs.size());
    EXPECT_EQ(honest->root, files->proofs.back().new_root);
  }
}

// ---- The real binary, killed at the commit's kill points ----

struct RunResult {
  int status = 0;  // as from waitpid
  std::map<std::string, std::string> lines;  // key=value lines of stdout
  std::string out;
  std::string err;
  std::string Line(const std::string& key) const {
    auto it = lines.find(key);
    return it == lines.end() ? "<missing " + key + ">" : it->second;
  }
};

std::string BinDir() {
  if (const char* env = std::getenv("POM_BIN_DIR"); env != nullptr && *env != '\0') return env;
  // Tests live in <build>/tests, binaries in <build>/bin.
  return (std::filesystem::read_symlink("/proc/self/exe").parent_path().parent_path() / "bin").string();
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs `argv` with stdout and stderr to files in `dir`, POM_KILL_AT set to `kill_at` (or removed).
RunResult RunProcess(const std::vector<std::string>& argv, const std::string& kill_at, const TempDir& dir) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::string_view(*e).starts_with("POM_KILL_AT=")) continue;
    env_strings.emplace_back(*e);
  }
  if (!kill_at.empty()) env_strings.push_back("POM_KILL_AT=" + kill_at);
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> argp;
  for (std::string& s : args) argp.push_back(s.data());
  argp.push_back(nullptr);

  const std::string out_path = dir / "stdout";
  const std::string err_path = dir / "stderr";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  RunResult r;
  const int rc = posix_spawn(&pid, argp[0], &actions, nullptr, argp.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  EXPECT_EQ(rc, 0) << "posix_spawn " << argv[0];
  if (rc != 0) return r;
  EXPECT_EQ(waitpid(pid, &r.status, 0), pid);
  r.out = Slurp(out_path);
  r.err = Slurp(err_path);
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    const size_t eq = line.find('=');
    if (eq != std::string::npos) r.lines[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return r;
}

bool ExitedWith(const RunResult& r, int code) { return WIFEXITED(r.status) && WEXITSTATUS(r.status) == code; }

class VerifierCrash : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { files_ = MakeProofFiles(41, 900); }
  static void TearDownTestSuite() {
    delete files_;
    files_ = nullptr;
  }
  static std::vector<std::string> Args(const std::string& data_dir) {
    std::vector<std::string> a = {BinDir() + "/pom-verifier", "check", "--proofs", files_->all,
                                  "--genesis", files_->genesis, "--threads", "2"};
    if (!data_dir.empty()) {
      for (const char* s : {"--data", data_dir.c_str(), "--persist-every", "100"}) a.emplace_back(s);
    }
    return a;
  }
  static ProofFiles* files_;
};
ProofFiles* VerifierCrash::files_ = nullptr;

TEST_F(VerifierCrash, KilledDuringCommitResumesFromTheLastCommittedHead) {
  ASSERT_TRUE(std::filesystem::exists(BinDir() + "/pom-verifier")) << "no pom-verifier in " << BinDir();
  const uint64_t n = files_->proofs.size();
  ASSERT_GT(n, 300u);
  TempDir work;
  const RunResult clean = RunProcess(Args(""), "", work);
  ASSERT_TRUE(ExitedWith(clean, 0)) << clean.out << clean.err;
  const std::string want_root = clean.Line("root");
  EXPECT_EQ(want_root, ToHex(files_->proofs.back().new_root));
  EXPECT_EQ(clean.Line("resumed_from"), "0");

  // The second commit (at 200 proofs) dies before its write, or right after it.
  const std::vector<std::pair<std::string, uint64_t>> cases = {{"verifier-persist:2", 100},
                                                               {"verifier-persisted:2", 200}};
  for (const auto& [kill_at, last_commit] : cases) {
    SCOPED_TRACE(kill_at);
    TempDir data;
    const RunResult killed = RunProcess(Args(data / "db"), kill_at, work);
    ASSERT_TRUE(WIFSIGNALED(killed.status)) << "status " << killed.status << "\n" << killed.out << killed.err;
    EXPECT_EQ(WTERMSIG(killed.status), SIGKILL);
    EXPECT_THAT(killed.err, HasSubstr("kill point reached"));

    const RunResult rerun = RunProcess(Args(data / "db"), "", work);
    ASSERT_TRUE(ExitedWith(rerun, 0)) << rerun.out << rerun.err;
    EXPECT_EQ(rerun.Line("resumed_from"), std::to_string(last_commit));
    EXPECT_EQ(rerun.Line("proofs"), std::to_string(n - last_commit));
    EXPECT_EQ(rerun.Line("root"), want_root);
  }
}

}  // namespace
}  // namespace pom::verify
