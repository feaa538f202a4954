// The engine over generated streams: every command of a generated stream is admitted, every
// proof proves its old leaves against the previous root and its new leaves against the new
// root, every record matches its leaf, and the whole-state invariants hold after every event.
// Also: refusals (bad signature, replayed nonce, unauthorized deposit, admin by a user) are
// not sequenced, and the same stream gives the same roots twice (determinism).
#include <gtest/gtest.h>

#include "bench/workload.h"
#include "common/rules/proof.h"
#include "common/smt/multiproof.h"
#include "common/smt/memory_node_store.h"
#include "common/smt/tree.h"
#include "matcher/engine.h"
#include "matcher/fast_state.h"
#include "tests/matcher/invariants.h"
#include "tests/testing/random.h"

namespace pom::matcher {
namespace {

using rules::Command;

std::unique_ptr<Engine> MakeEngine(const codec::Genesis& g) {
  EngineOptions o;
  o.prover_id = g.prover_id;
  o.operator_account = g.operator_key;
  auto engine = std::make_unique<Engine>(o);
  for (const auto& b : g.chain_balances) EXPECT_TRUE(engine->CreditChain(b.user, b.currency, b.amount).ok());
  return engine;
}

// The checks a verifier makes on the Merkle side of a proof.
void CheckProofMerkle(const rules::EventProof& p) {
  std::vector<smt::SmtLeaf> old_leaves, new_leaves;
  for (const rules::TouchedLeaf& l : p.leaves) {
    const Bytes32 key = rules::TreeKey(l.key);
    old_leaves.push_back({key, l.old_value});
    new_leaves.push_back({key, l.new_value});
    const rules::LeafKind kind = l.key.kind();
    const bool has_record = kind == rules::LeafKind::kOrder || kind == rules::LeafKind::kPageLink ||
                            kind == rules::LeafKind::kMarket;
    for (const auto& [value, record] : {std::pair(l.old_value, l.old_record), std::pair(l.new_value, l.new_record)}) {
      ASSERT_EQ(has_record && !value.IsZero(), !record.empty()) << "record presence";
      if (record.empty()) continue;
      Bytes32 hash;
      switch (l.key.kind()) {
        case rules::LeafKind::kOrder: hash = rules::RecordHash(*rules::DecodeOrderRecord(record)); break;
        case rules::LeafKind::kPageLink: hash = rules::RecordHash(*rules::DecodePageRecord(record)); break;
        case rules::LeafKind::kMarket: hash = rules::RecordHash(*rules::DecodeMarketRecord(record)); break;
        default: FAIL() << "record on a plain leaf";
      }
      ASSERT_EQ(hash, value);
    }
  }
  Sha256Hasher h;
  absl::StatusOr<Bytes32> old_root = smt::ComputeMultiproofRoot(h, p.multiproof, old_leaves);
  ASSERT_TRUE(old_root.ok()) << old_root.status();
  ASSERT_EQ(*old_root, p.prev_root);
  absl::StatusOr<Bytes32> new_root = smt::ComputeMultiproofRoot(h, p.multiproof, new_leaves);
  ASSERT_TRUE(new_root.ok()) << new_root.status();
  ASSERT_EQ(*new_root, p.new_root);
}

std::vector<rules::Currency> Currencies(uint32_t markets) {
  std::vector<rules::Currency> out = {rules::Currency{1}};
  for (uint32_t m = 0; m < markets; ++m) out.push_back(rules::Currency{m + 2});
  return out;
}

// An engine for an unsigned generated stream (no signature checks), funded from its genesis.
// A generated stream without signatures, for engines built by MakeUnsignedEngine.
workload::Workload UnsignedWorkload(uint64_t seed, uint64_t events, uint32_t users) {
  workload::Options o;  // two markets
  o.seed = seed;
  o.events = events;
  o.users = users;
  o.sign = false;
  return workload::Generate(o);
}

std::unique_ptr<Engine> MakeUnsignedEngine(const codec::Genesis& g) {
  EngineOptions o;
  o.prover_id = g.prover_id;
  o.operator_account = g.operator_key;
  o.check_signatures = false;
  auto engine = std::make_unique<Engine>(o);
  for (const auto& b : g.chain_balances) EXPECT_TRUE(engine->CreditChain(b.user, b.currency, b.amount).ok());
  return engine;
}

// Every leaf of a state, in proof order (one order for any two states to be compared in).
std::vector<smt::SmtLeaf> SortedLeaves(const FastState& state) {
  std::vector<smt::SmtLeaf> leaves = StateLeaves(state);
  EXPECT_TRUE(smt::SortLeavesForProof(leaves).ok());
  return leaves;
}

void ExpectSameLeaves(const std::vector<smt::SmtLeaf>& a, const std::vector<smt::SmtLeaf>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].key, b[i].key) << i;
    ASSERT_EQ(a[i].value, b[i].value) << i;
  }
}

TEST(Engine, GeneratedStreamsProveEveryEventAndKeepInvariants) {
  for (uint64_t seed : testing::TestSeeds({1, 2, 3})) {
    SCOPED_TRACE(testing::SeedBanner(seed));
    workload::Options o;
    o.seed = seed;
    o.events = 6000;
    o.users = 20;
    o.markets = 2;
    const workload::Workload w = workload::Generate(o);
    auto engine = MakeEngine(w.genesis);
    std::map<rules::RejectCode, int> rejects;
    std::map<size_t, int> kinds;
    int fills = 0, resting = 0;
    Bytes32 root;
    for (size_t i = 0; i < w.commands.size(); ++i) {
      absl::StatusOr<rules::EventProof> proof = engine->Submit(w.commands[i]);
      ASSERT_TRUE(proof.ok()) << "command " << i << ": " << proof.status();
      ASSERT_EQ(proof->sequence.value, i + 1);
      ASSERT_EQ(proof->prev_root, root);
      CheckProofMerkle(*proof);
      if (::testing::Test::HasFatalFailure()) return;
      root = proof->new_root;
      ++rejects[proof->outcome.reject];
      ++kinds[w.commands[i].body.index()];
      fills += static_cast<int>(proof->outcome.fills.size());
      resting += proof->outcome.resting.IsZero() ? 0 : 1;
      const std::string problems = testing::CheckInvariants(engine->state(), engine->ledger(), Currencies(o.markets));
      ASSERT_EQ(problems, "") << "after event " << i + 1;
    }
    EXPECT_EQ(engine->root(), root);
    EXPECT_EQ(kinds.size(), 8u) << "every command kind occurs";
    EXPECT_GT(fills, 500);
    EXPECT_GT(resting, 500);
    for (auto code : {rules::RejectCode::kNone, rules::RejectCode::kBadTick, rules::RejectCode::kBadLot,
                      rules::RejectCode::kBelowMinimum, rules::RejectCode::kInsufficientBalance,
                      rules::RejectCode::kMarketNotFound, rules::RejectCode::kNotOrderOwner,
                      rules::RejectCode::kOrderNotFound, rules::RejectCode::kFokNotFillable,
                      rules::RejectCode::kPostOnlyWouldCross, rules::RejectCode::kBadAmount}) {
      EXPECT_GT(rejects[code], 0) << "reject code " << static_cast<int>(code) << " occurs";
    }
  }
}

TEST(Engine, SameStreamSameRoots) {
  const workload::Workload w = UnsignedWorkload(77, 3000, 10);
  std::vector<Bytes32> roots[2];
  for (auto& run : roots) {
    auto engine = MakeUnsignedEngine(w.genesis);
    for (const Command& c : w.commands) {
      absl::StatusOr<rules::EventProof> p = engine->Submit(c);
      ASSERT_TRUE(p.ok()) << p.status();
      run.push_back(p->new_root);
    }
  }
  EXPECT_EQ(roots[0], roots[1]);
}

TEST(Engine, RefusedCommandsAreNotSequenced) {
  workload::Options o;
  o.seed = 5;
  o.events = 40;
  o.users = 3;
  const workload::Workload w = workload::Generate(o);
  auto engine = MakeEngine(w.genesis);
  for (const Command& c : w.commands) ASSERT_TRUE(engine->Submit(c).ok());
  const uint64_t seq = engine->sequence();
  const Bytes32 root = engine->root();

  Command replayed = w.commands.back();  // same nonce again
  EXPECT_EQ(engine->Submit(replayed).status().code(), absl::StatusCode::kFailedPrecondition);

  Command forged = w.commands.back();
  forged.nonce += 1000;  // signature no longer matches
  EXPECT_EQ(engine->Submit(forged).status().code(), absl::StatusCode::kUnauthenticated);

  const KeyPair user = workload::UserKey(5, 0);
  Command deposit;
  deposit.signer = user.public_key;
  deposit.nonce = 1'000'000;
  deposit.body = rules::Deposit{rules::Currency{1}, Amount::FromUnits(1'000'000'000)};
  rules::SignCommand(w.genesis.prover_id, user.secret_key, deposit);
  EXPECT_EQ(engine->Submit(deposit).status().code(), absl::StatusCode::kFailedPrecondition);

  Command admin;
  admin.signer = user.public_key;
  admin.nonce = 1'000'001;
  admin.body = rules::SetMarketStatus{rules::MarketId{rules::Currency{2}, rules::Currency{1}}, rules::MarketStatus::kClosed};
  rules::SignCommand(w.genesis.prover_id, user.secret_key, admin);
  EXPECT_EQ(engine->Submit(admin).status().code(), absl::StatusCode::kPermissionDenied);

  // The unproved path applies without repeating the rules' signer and nonce checks
  // (ApplyAdmitted): admission alone must refuse the same commands and consume no nonce.
  const uint64_t user_nonce = engine->state().NonceOf(user.public_key);
  const uint64_t replayed_nonce = engine->state().NonceOf(replayed.signer);
  EXPECT_EQ(engine->SubmitUnproved(replayed).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(engine->SubmitUnproved(forged).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(engine->SubmitUnproved(admin).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(engine->state().NonceOf(user.public_key), user_nonce);
  EXPECT_EQ(engine->state().NonceOf(replayed.signer), replayed_nonce);

  EXPECT_EQ(engine->sequence(), seq);
  EXPECT_EQ(engine->root(), root);
}

// The engine runs the rules twice over: instantiated for FastState (SubmitUnproved, where the
// state's accessors inline) and for the virtual State behind the recording wrapper (Submit).
// Both must give the same outcome for every event and the same state, whose tree root is the
// proved one.
TEST(Engine, ProvedAndUnprovedRunsAgree) {
  for (uint64_t seed : testing::TestSeeds({11, 12})) {
    SCOPED_TRACE(testing::SeedBanner(seed));
    const workload::Workload w = UnsignedWorkload(seed, 8000, 16);
    auto proved = MakeUnsignedEngine(w.genesis), unproved = MakeUnsignedEngine(w.genesis);
    for (size_t i = 0; i < w.commands.size(); ++i) {
      absl::StatusOr<rules::EventProof> p = proved->Submit(w.commands[i]);
      absl::StatusOr<rules::Outcome> u = unproved->SubmitUnproved(w.commands[i]);
      ASSERT_EQ(p.ok(), u.ok()) << "event " << i;
      if (!p.ok()) continue;
      ASSERT_EQ(p->outcome, *u) << "event " << i;
    }
    const std::vector<smt::SmtLeaf> b = SortedLeaves(unproved->state());
    ExpectSameLeaves(SortedLeaves(proved->state()), b);
    smt::MemoryNodeStore store;
    auto tree = smt::SparseMerkleTree<Sha256Hasher>::Open(&store);
    ASSERT_TRUE(tree.ok());
    ASSERT_TRUE(tree->BuildFromLeaves(b).ok());
    EXPECT_EQ(tree->root(), proved->root());
  }
}

// A copy of the state is independent of its source: the per-map caches and the book cache
// point into the source, so a copy must start without them.
TEST(Engine, CopiedStateIsIndependent) {
  const workload::Workload w = UnsignedWorkload(21, 3000, 8);
  auto owned = MakeUnsignedEngine(w.genesis);
  Engine& engine = *owned;
  const size_t half = w.commands.size() / 2;
  for (size_t i = 0; i < half; ++i) ASSERT_TRUE(engine.SubmitUnproved(w.commands[i]).ok());
  FastState copy = engine.state();
  // Writes through the copy to what the source touched last (the keys its caches hold) reach
  // the copy only.
  const rules::AccountId last_signer = w.commands[half - 1].signer;
  const uint64_t source_nonce = engine.state().NonceOf(last_signer);
  ASSERT_TRUE(copy.SetNonce(last_signer, 999'999'999).ok());
  EXPECT_EQ(copy.NonceOf(last_signer), 999'999'999u);
  EXPECT_EQ(engine.state().NonceOf(last_signer), source_nonce);
  std::vector<rules::MarketId> markets;
  engine.state().ForEachMarket([&](rules::MarketId m, const FastState::Book&) { markets.push_back(m); });
  ASSERT_FALSE(markets.empty());
  for (rules::MarketId market : markets) {  // one of them is the source's cached book
    const rules::BookSizes source_sizes = engine.state().FindBook(market)->sizes;
    const rules::BookSizes odd{Amount::FromUnits(123), Amount::FromUnits(456)};
    ASSERT_TRUE(copy.SetBookSizes(market, odd).ok());
    EXPECT_EQ(copy.FindBook(market)->sizes, odd);
    EXPECT_EQ(engine.state().FindBook(market)->sizes, source_sizes);
  }

  // The source goes on; the copy sees none of it.
  const std::vector<smt::SmtLeaf> before = SortedLeaves(copy);
  for (size_t i = half; i < w.commands.size(); ++i) ASSERT_TRUE(engine.SubmitUnproved(w.commands[i]).ok());
  ExpectSameLeaves(before, SortedLeaves(copy));
}

}  // namespace
}  // namespace pom::matcher
