#include "matcher/durable_matcher.h"

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "common/checksum.h"
#include "matcher/ingest.h"
#include "matcher/state_snapshot.h"
#include "matcher/storage/store.h"
#include "tests/matcher/durability_fixture.h"

namespace pom::matcher {
namespace {

using testing::RawDb;
using testing::TempDir;

IngestOptions Options(const TempDir& dir, TreeStorage tree = TreeStorage::kMemory) {
  IngestOptions o;
  o.commands_path = dir / "cmds";
  o.matcher.data_dir = dir / "data";
  o.matcher.tree = tree;
  o.matcher.snapshot_interval = 1500;
  o.batch = 64;
  return o;
}

absl::StatusOr<std::unique_ptr<DurableMatcher>> Reopen(const IngestOptions& o) {
  DurableMatcherOptions m = o.matcher;
  m.genesis.reset();  // the data dir has it
  return DurableMatcher::Open(m);
}

class DurableMatcherTest : public ::testing::TestWithParam<TreeStorage> {};

TEST_P(DurableMatcherTest, IngestReachesReplayRootAndRecoversTheSameState) {
  TempDir dir;
  testing::WriteWorkload(dir / "cmds", 11, 6000);
  const Bytes32 replay_root = testing::ReplayRoot(dir / "cmds");
  IngestOptions o = Options(dir, GetParam());
  absl::StatusOr<IngestResult> first = Ingest(o);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->root, replay_root);
  EXPECT_EQ(first->accepted, 6000u);
  EXPECT_LT(first->syncs, first->accepted / 32);  // group commit: one sync per batch

  absl::StatusOr<std::unique_ptr<DurableMatcher>> again = Reopen(o);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->root(), replay_root);
  EXPECT_EQ((*again)->sequence(), 6000u);
  EXPECT_EQ((*again)->StateDigest(), first->state_digest);
  EXPECT_GT((*again)->recovery().snapshot_sequence, 0u);
  EXPECT_GT((*again)->recovery().replayed, 0u);
  again->reset();

  // Running ingest again recognizes every command and changes nothing.
  absl::StatusOr<IngestResult> second = Ingest(o);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->accepted, 0u);
  EXPECT_EQ(second->skipped, 6000u);
  EXPECT_EQ(second->state_digest, first->state_digest);
}

TEST_P(DurableMatcherTest, WithoutSnapshotsTheJournalAloneRecovers) {
  TempDir dir;
  testing::WriteWorkload(dir / "cmds", 12, 3000);
  IngestOptions o = Options(dir, GetParam());
  o.matcher.snapshot_interval = 0;
  absl::StatusOr<IngestResult> first = Ingest(o);
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::unique_ptr<DurableMatcher>> again = Reopen(o);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->recovery().snapshot_sequence, 0u);
  EXPECT_EQ((*again)->recovery().replayed, 3000u);
  EXPECT_EQ((*again)->StateDigest(), first->state_digest);
}

INSTANTIATE_TEST_SUITE_P(TreeStorages, DurableMatcherTest,
                         ::testing::Values(TreeStorage::kMemory, TreeStorage::kRocksDb),
                         [](const auto& info) {
                           return info.param == TreeStorage::kMemory ? "Memory" : "RocksDb";
                         });

TEST(DurableMatcher, ResubmittedCommandIsRecognizedAndAForgedOneIsRefused) {
  TempDir dir;
  const workload::Workload w = testing::WriteWorkload(dir / "cmds", 13, 500);
  IngestOptions o = Options(dir);
  ASSERT_TRUE(Ingest(o).ok());
  absl::StatusOr<std::unique_ptr<DurableMatcher>> m = Reopen(o);
  ASSERT_TRUE(m.ok()) << m.status();
  const rules::Command& original = w.commands[w.setup_commands + 3];
  std::vector<rules::Command> batch = {original};
  absl::StatusOr<std::vector<SubmitResult>> r = (*m)->SubmitBatch(batch);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(absl::IsAlreadyExists((*r)[0].status)) << (*r)[0].status;
  EXPECT_GT((*r)[0].sequence, 0u);
  // The same signer and nonce with another signature is not "already sequenced": refused.
  batch[0].signature.bytes[0] ^= 1;
  r = (*m)->SubmitBatch(batch);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE((*r)[0].status.ok());
  EXPECT_FALSE(absl::IsAlreadyExists((*r)[0].status)) << (*r)[0].status;
  EXPECT_EQ((*m)->sequence(), 500u);
}

// A client order id is used once per account: a new order (new nonce, new signature) that
// reuses one gets the original order's sequence and is not sequenced, also after a restart;
// another account may use the same id; a forged reuse is refused as unsigned.
TEST(DurableMatcher, AClientOrderIdIsUsedOncePerAccountAcrossRestarts) {
  TempDir dir;
  const workload::Workload w = testing::WriteWorkload(dir / "cmds", 15, 300);
  IngestOptions o = Options(dir);
  ASSERT_TRUE(Ingest(o).ok());
  const KeyPair alice = workload::UserKey(15, 0), bob = workload::UserKey(15, 1);
  const Bytes32 prover = workload::ProverId(15);
  auto order = [&](const KeyPair& key, uint64_t nonce, uint64_t coid) {
    rules::Command c;
    c.signer = key.public_key;
    c.nonce = nonce;
    const auto* create = std::get_if<rules::CreateMarket>(&w.commands[0].body);
    EXPECT_NE(create, nullptr);
    rules::PlaceOrder p;
    p.market = create->market;
    p.side = rules::Side::kBuy;
    p.type = rules::OrderType::kMarket;
    p.time_in_force = rules::TimeInForce::kIoc;
    p.amount = Amount::FromRaw(static_cast<u128>(1) << 70);
    p.client_order_id = coid;
    c.body = p;
    rules::SignCommand(prover, key.secret_key, c);
    return c;
  };
  constexpr uint64_t kNonce = uint64_t{1} << 60;  // above every generated nonce
  uint64_t first = 0;
  {
    absl::StatusOr<std::unique_ptr<DurableMatcher>> m = Reopen(o);
    ASSERT_TRUE(m.ok()) << m.status();
    // Two orders with the same id in one batch: the second is the first's duplicate.
    std::vector<rules::Command> batch = {order(alice, kNonce, 777), order(alice, kNonce + 1, 777)};
    absl::StatusOr<std::vector<SubmitResult>> r = (*m)->SubmitBatch(batch);
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE((*r)[0].status.ok()) << (*r)[0].status;
    first = (*r)[0].sequence;
    EXPECT_TRUE(absl::IsAlreadyExists((*r)[1].status)) << (*r)[1].status;
    EXPECT_EQ((*r)[1].sequence, first);
    EXPECT_EQ((*m)->sequence(), first);
  }
  absl::StatusOr<std::unique_ptr<DurableMatcher>> m = Reopen(o);
  ASSERT_TRUE(m.ok()) << m.status();
  rules::Command forged = order(alice, kNonce + 3, 777);
  forged.signature.bytes[5] ^= 1;
  std::vector<rules::Command> batch = {order(alice, kNonce + 2, 777), order(bob, kNonce, 777), forged,
                                       order(alice, kNonce + 4, 778)};
  absl::StatusOr<std::vector<SubmitResult>> r = (*m)->SubmitBatch(batch);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(absl::IsAlreadyExists((*r)[0].status)) << (*r)[0].status;
  EXPECT_EQ((*r)[0].sequence, first);
  EXPECT_TRUE((*r)[1].status.ok()) << (*r)[1].status;
  EXPECT_TRUE(absl::IsUnauthenticated((*r)[2].status)) << (*r)[2].status;
  EXPECT_TRUE((*r)[3].status.ok()) << (*r)[3].status;
  EXPECT_EQ((*m)->sequence(), first + 2);
}

TEST(DurableMatcher, CorruptJournalRecordInTheMiddleRefusesToStartNamingTheSequence) {
  TempDir dir;
  testing::WriteWorkload(dir / "cmds", 14, 800);
  IngestOptions o = Options(dir);
  o.matcher.snapshot_interval = 0;
  ASSERT_TRUE(Ingest(o).ok());
  {
    RawDb raw(dir / "data/db");
    std::string value = raw.Get("journal", SequenceKey(377));
    value[value.size() / 2] ^= 0x10;  // a flipped bit inside the command; the seal is unchanged
    raw.Put("journal", SequenceKey(377), value);
  }
  absl::StatusOr<std::unique_ptr<DurableMatcher>> m = Reopen(o);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(m.status().message().find("sequence 377"), std::string::npos) << m.status();
}

TEST(DurableMatcher, JournalGapRefusesToStart) {
  TempDir dir;
  testing::WriteWorkload(dir / "cmds", 15, 300);
  IngestOptions o = Options(dir);
  o.matcher.snapshot_interval = 0;
  ASSERT_TRUE(Ingest(o).ok());
  RawDb(dir / "data/db").Delete("journal", SequenceKey(120));
  absl::StatusOr<std::unique_ptr<DurableMatcher>> m = Reopen(o);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("expected sequence 120"), std::string::npos) << m.status();
}

TEST(DurableMatcher, TornTailIsTruncatedAndTheCommandIsSequencedAgain) {
  TempDir dir;
  testing::WriteWorkload(dir / "cmds", 16, 700);
  const Bytes32 replay_root = testing::ReplayRoot(dir / "cmds");
  IngestOptions o = Options(dir);
  o.matcher.snapshot_interval = 0;
  ASSERT_TRUE(Ingest(o).ok());
  {
    RawDb raw(dir / "data/db");
    const std::string value = raw.Get("journal", SequenceKey(700));
    raw.Put("journal", SequenceKey(700), value.substr(0, value.size() / 3));  // cut short
  }
  {
    absl::StatusOr<std::unique_ptr<DurableMatcher>> m = Reopen(o);
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ((*m)->recovery().truncated_tail, 700u);
    EXPECT_EQ((*m)->sequence(), 699u);
  }
  absl::StatusOr<IngestResult> again = Ingest(o);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->accepted, 1u);
  EXPECT_EQ(again->root, replay_root);
}

TEST(DurableMatcher, CorruptSnapshotRefusesToStart) {
  TempDir dir;
  testing::WriteWorkload(dir / "cmds", 17, 2000);
  IngestOptions o = Options(dir);
  ASSERT_TRUE(Ingest(o).ok());
  absl::StatusOr<std::vector<uint64_t>> snapshots = ListSnapshots(dir / "data/snapshots");
  ASSERT_TRUE(snapshots.ok() && !snapshots->empty());
  const std::string path = SnapshotPath(dir / "data/snapshots", snapshots->front());
  std::string bytes = *ReadSnapshotFile(dir / "data/snapshots", snapshots->front());
  bytes[bytes.size() / 2] ^= 0x01;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  absl::StatusOr<std::unique_ptr<DurableMatcher>> m = Reopen(o);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(m.status().message().find("checksum"), std::string::npos) << m.status();
}

TEST(DurableMatcher, SnapshotWhoseRootDoesNotMatchItsStateRefusesToStart) {
  TempDir dir;
  testing::WriteWorkload(dir / "cmds", 18, 2000);
  IngestOptions o = Options(dir);
  ASSERT_TRUE(Ingest(o).ok());
  const std::string snaps = dir / "data/snapshots";
  const uint64_t seq = ListSnapshots(snaps)->front();
  absl::StatusOr<Snapshot> s = DecodeSnapshot(*ReadSnapshotFile(snaps, seq));
  ASSERT_TRUE(s.ok()) << s.status();
  Bytes32 wrong = s->root;
  wrong[5] ^= 0x40;
  // Well-formed (every checksum right) but recording another root than its state gives.
  std::ofstream(SnapshotPath(snaps, seq), std::ios::binary | std::ios::trunc)
      << EncodeSnapshot(seq, wrong, s->state, s->ledger);
  absl::StatusOr<std::unique_ptr<DurableMatcher>> m = Reopen(o);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("records root"), std::string::npos) << m.status();
}

TEST(DurableMatcher, SnapshotRoundTripsByteForByte) {
  TempDir dir;
  testing::WriteWorkload(dir / "cmds", 19, 2000);
  IngestOptions o = Options(dir);
  ASSERT_TRUE(Ingest(o).ok());
  const std::string snaps = dir / "data/snapshots";
  const uint64_t seq = ListSnapshots(snaps)->front();
  const std::string bytes = *ReadSnapshotFile(snaps, seq);
  absl::StatusOr<Snapshot> s = DecodeSnapshot(bytes);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(EncodeSnapshot(s->sequence, s->root, s->state, s->ledger), bytes);
  // Every truncation is caught.
  for (size_t cut : {size_t{0}, size_t{7}, size_t{100}, bytes.size() / 2, bytes.size() - 1}) {
    EXPECT_EQ(DecodeSnapshot(std::string_view(bytes).substr(0, cut)).status().code(),
              absl::StatusCode::kDataLoss)
        << cut;
  }
}

TEST(DurableMatcher, ProofStoreServesAnySequenceWithinRetention) {
  TempDir dir;
  testing::WriteWorkload(dir / "cmds", 20, 3000);
  IngestOptions o = Options(dir);
  o.matcher.proof_retention = 1000;
  ASSERT_TRUE(Ingest(o).ok());
  absl::StatusOr<std::unique_ptr<DurableMatcher>> m = Reopen(o);
  ASSERT_TRUE(m.ok()) << m.status();
  Store& store = (*m)->store();
  const uint64_t first = store.first_retained_proof();
  EXPECT_GT(first, 1u);
  EXPECT_LE(first, 3000u - 1000u + 1u);
  EXPECT_EQ(store.ReadProof(1).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(store.ScanProofs(first - 1, [](uint64_t, std::string_view) { return absl::OkStatus(); }).code(),
            absl::StatusCode::kOutOfRange);
  uint64_t expect = 2990;
  v1::Proof proof;
  ASSERT_TRUE(store.ScanProofs(2990, [&](uint64_t seq, std::string_view bytes) {
    EXPECT_EQ(seq, expect++);
    EXPECT_TRUE(proof.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
    EXPECT_EQ(proof.sequence(), seq);
    return absl::OkStatus();
  }).ok());
  EXPECT_EQ(expect, 3001u);
}

TEST(DurableMatcher, ProofsMissingAfterACrashAreRebuiltIdentically) {
  TempDir dir;
  testing::WriteWorkload(dir / "cmds", 21, 1200);
  IngestOptions o = Options(dir);
  o.matcher.snapshot_interval = 0;
  ASSERT_TRUE(Ingest(o).ok());
  std::vector<std::string> originals;
  {
    RawDb raw(dir / "data/db");
    for (uint64_t seq = 1101; seq <= 1200; ++seq) {
      originals.push_back(raw.Get("proofs", SequenceKey(seq)));
      raw.Delete("proofs", SequenceKey(seq));  // as if the process died after the journal sync
    }
  }
  {
    absl::StatusOr<std::unique_ptr<DurableMatcher>> m = Reopen(o);
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ((*m)->recovery().proofs_restored, 100u);
  }
  RawDb raw(dir / "data/db");
  for (uint64_t seq = 1101; seq <= 1200; ++seq) {
    EXPECT_EQ(raw.Get("proofs", SequenceKey(seq)), originals[seq - 1101]) << seq;
  }
}

TEST(DurableMatcher, StoredProofThatDisagreesWithTheJournalRefusesToStart) {
  TempDir dir;
  testing::WriteWorkload(dir / "cmds", 22, 400);
  IngestOptions o = Options(dir);
  o.matcher.snapshot_interval = 0;
  ASSERT_TRUE(Ingest(o).ok());
  {
    RawDb raw(dir / "data/db");
    // A well-sealed proof of sequence 250 that claims another root.
    const std::string key = SequenceKey(250);
    const std::string sealed = raw.Get("proofs", key);
    absl::StatusOr<std::string_view> payload = UnsealRecord(key, sealed);
    ASSERT_TRUE(payload.ok());
    v1::Proof proof;
    ASSERT_TRUE(proof.ParseFromArray(payload->data(), static_cast<int>(payload->size())));
    std::string root = proof.new_root();
    root[0] ^= 1;
    proof.set_new_root(root);
    raw.Put("proofs", key, SealRecord(key, proof.SerializeAsString()));
  }
  absl::StatusOr<std::unique_ptr<DurableMatcher>> m = Reopen(o);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("sequence 250"), std::string::npos) << m.status();
}

TEST(DurableMatcher, AnotherGenesisOrNoneIsRefused) {
  TempDir dir;
  const workload::Workload w = testing::WriteWorkload(dir / "cmds", 23, 100);
  DurableMatcherOptions m;
  m.data_dir = dir / "data";
  EXPECT_EQ(DurableMatcher::Open(m).status().code(), absl::StatusCode::kFailedPrecondition);
  m.genesis = w.genesis;
  ASSERT_TRUE(DurableMatcher::Open(m).ok());
  m.genesis->prover_id[0] ^= 1;
  EXPECT_EQ(DurableMatcher::Open(m).status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace pom::matcher
