// The verifier against honest and cheating provers.
//
// Honest: streams generated and proved by the engine verify proof by proof and end at the
// engine's root. Cheats: each test takes honest proofs and forges one cheat, keeping the proof
// Merkle-consistent where the cheat allows it (the new root recomputed from the forged leaves
// through the same multiproof), so the check that must catch it is the one that does; each is
// rejected with the expected reason.
#include <gtest/gtest.h>

#include "bench/workload.h"
#include "common/smt/memory_node_store.h"
#include "common/smt/multiproof.h"
#include "common/smt/tree.h"
#include "matcher/engine.h"
#include "tests/testing/proved_run.h"
#include "tests/testing/random.h"
#include "verifier/verify.h"

namespace pom::verify {
namespace {

using namespace ::pom::rules;  // NOLINT

using pom::testing::Prove;
using pom::testing::ProvedRun;

Verifier MakeVerifier(const ProvedRun& r, bool with_chain_balances = true) {
  CustodyLedger ledger;
  if (with_chain_balances) {
    for (const auto& b : r.w.genesis.chain_balances) EXPECT_TRUE(ledger.CreditChain(b.user, b.currency, b.amount).ok());
  }
  return Verifier(Config{r.w.genesis.prover_id, r.w.genesis.operator_key}, std::move(ledger));
}

// Verifies proofs [0, upto) honestly (signatures skipped for unsigned runs).
void Advance(Verifier& v, const ProvedRun& r, size_t upto, bool signed_run = false) {
  for (size_t i = 0; i < upto; ++i) {
    const Verdict verdict = v.Verify(r.proofs[i], /*signature_checked=*/!signed_run);
    ASSERT_TRUE(verdict.ok()) << "proof " << i + 1 << ": " << RejectReasonName(verdict.reason) << " " << verdict.detail;
  }
}

// Recomputes the forged proof's new root from its new leaves, so Merkle checks pass.
void Reseal(EventProof& p) {
  std::vector<smt::SmtLeaf> leaves;
  for (const TouchedLeaf& l : p.leaves) leaves.push_back({TreeKey(l.key), l.new_value});
  Sha256Hasher h;
  absl::StatusOr<Bytes32> root = smt::ComputeMultiproofRoot(h, p.multiproof, leaves);
  ASSERT_TRUE(root.ok()) << root.status();
  p.new_root = *root;
}

// The first proof at or after `from` whose command and outcome satisfy `pred`.
template <typename Pred>
size_t Find(const ProvedRun& r, size_t from, Pred pred) {
  for (size_t i = from; i < r.proofs.size(); ++i) {
    if (pred(r.proofs[i])) return i;
  }
  ADD_FAILURE() << "no such proof";
  return 0;
}

bool IsFill(const EventProof& p) { return !p.outcome.fills.empty(); }
bool IsDeposit(const EventProof& p) {
  return std::holds_alternative<Deposit>(p.command.body) && p.outcome.reject == RejectCode::kNone;
}

size_t AccountLeafOf(const EventProof& p, const AccountId& user) {
  for (size_t i = 0; i < p.leaves.size(); ++i) {
    const RawKey& k = p.leaves[i].key;
    if (k.kind() == LeafKind::kAccount && std::equal(user.bytes.begin(), user.bytes.end(), k.bytes.begin() + 1)) return i;
  }
  ADD_FAILURE() << "no account leaf";
  return 0;
}

void ExpectRejected(Verifier& v, const EventProof& forged, RejectReason want, bool signature_checked = true) {
  const uint64_t seq = v.sequence();
  const Bytes32 root = v.root();
  const Verdict verdict = v.Verify(forged, signature_checked);
  EXPECT_EQ(verdict.reason, want) << "got " << RejectReasonName(verdict.reason) << " (" << verdict.detail << ")";
  EXPECT_EQ(v.sequence(), seq) << "a rejected proof must not advance the verifier";
  EXPECT_EQ(v.root(), root);
}

TEST(Verifier, HonestSignedStreamVerifiesAndReachesTheEngineRoot) {
  const ProvedRun r = Prove(11, 3000, /*sign=*/true);
  Verifier v = MakeVerifier(r);
  for (const EventProof& p : r.proofs) {
    const Verdict verdict = v.Verify(p);
    ASSERT_TRUE(verdict.ok()) << p.sequence.value << ": " << RejectReasonName(verdict.reason) << " " << verdict.detail;
  }
  EXPECT_EQ(v.root(), r.proofs.back().new_root);
  EXPECT_EQ(v.sequence(), r.proofs.size());
}

class Cheat : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { run_ = new ProvedRun(Prove(21, 4000)); }
  static void TearDownTestSuite() { delete run_; }
  // A verifier that has verified every proof before `i`.
  Verifier At(size_t i) {
    Verifier v = MakeVerifier(*run_);
    Advance(v, *run_, i);
    return v;
  }
  static ProvedRun* run_;
};
ProvedRun* Cheat::run_ = nullptr;

TEST_F(Cheat, CheatMintingFundsOnDeposit) {
  const size_t i = Find(*run_, 20, IsDeposit);
  Verifier v = At(i);
  EventProof p = run_->proofs[i];
  TouchedLeaf& acct = p.leaves[AccountLeafOf(p, p.command.signer)];
  Balance b = BalanceFromValue(acct.new_value);
  b.available = Amount::FromRaw(b.available.raw() + 1);
  acct.new_value = BalanceValue(b);
  Reseal(p);
  ExpectRejected(v, p, RejectReason::kLeavesMismatch);
}

TEST_F(Cheat, CheatBurningAMakersProceeds) {
  const size_t i = Find(*run_, 100, IsFill);
  Verifier v = At(i);
  EventProof p = run_->proofs[i];
  TouchedLeaf& acct = p.leaves[AccountLeafOf(p, p.outcome.fills[0].maker)];
  Balance b = BalanceFromValue(acct.new_value);
  ASSERT_GT(b.available.raw(), 0u);
  b.available = Amount::FromRaw(b.available.raw() - 1);
  acct.new_value = BalanceValue(b);
  Reseal(p);
  ExpectRejected(v, p, RejectReason::kLeavesMismatch);
}

TEST_F(Cheat, CheatWrongFeeInTheOutcome) {
  const size_t i = Find(*run_, 100, IsFill);
  Verifier v = At(i);
  EventProof p = run_->proofs[i];
  p.outcome.fills[0].taker_fee = Amount::FromRaw(p.outcome.fills[0].taker_fee.raw() + 1);
  ExpectRejected(v, p, RejectReason::kOutcomeMismatch);
}

TEST_F(Cheat, CheatWrongFeeCreditedToTheOperator) {
  const size_t i = Find(*run_, 100, [](const EventProof& p) { return IsFill(p) && !p.outcome.fills[0].taker_fee.IsZero(); });
  Verifier v = At(i);
  EventProof p = run_->proofs[i];
  TouchedLeaf& op = p.leaves[AccountLeafOf(p, run_->w.genesis.operator_key)];
  Balance b = BalanceFromValue(op.new_value);
  b.available = Amount::FromRaw(b.available.raw() * 2);
  op.new_value = BalanceValue(b);
  Reseal(p);
  ExpectRejected(v, p, RejectReason::kLeavesMismatch);
}

TEST_F(Cheat, CheatChangedFillAmountInTheOutcome) {
  const size_t i = Find(*run_, 100, IsFill);
  Verifier v = At(i);
  EventProof p = run_->proofs[i];
  p.outcome.fills[0].amount = Amount::FromRaw(p.outcome.fills[0].amount.raw() + 1);
  ExpectRejected(v, p, RejectReason::kOutcomeMismatch);
}

TEST_F(Cheat, CheatWrongNewRoot) {
  Verifier v = At(50);
  EventProof p = run_->proofs[50];
  p.new_root[0] ^= 1;
  ExpectRejected(v, p, RejectReason::kWrongNewRoot);
}

TEST_F(Cheat, CheatDroppedEvent) {
  Verifier v = At(50);
  ExpectRejected(v, run_->proofs[51], RejectReason::kWrongSequence);
}

TEST_F(Cheat, CheatReorderedEvents) {
  Verifier v = At(50);
  EventProof p = run_->proofs[51];
  p.sequence = Sequence{51};  // claims to be next, but continues another root
  ExpectRejected(v, p, RejectReason::kWrongPreviousRoot);
}

TEST_F(Cheat, CheatOmittedLeafTheRulesNeed) {
  const size_t i = Find(*run_, 100, IsFill);
  Verifier v = At(i);
  EventProof p = run_->proofs[i];
  // Drop the taker's last leaf and rebuild a consistent multiproof for the rest from the
  // pruned tree of the honest proof.
  const EventProof& honest = run_->proofs[i];
  std::vector<smt::SmtLeaf> old_leaves;
  for (const TouchedLeaf& l : honest.leaves) old_leaves.push_back({TreeKey(l.key), l.old_value});
  smt::MemoryNodeStore store;
  auto tree = smt::SparseMerkleTree<Sha256Hasher>::Open(&store);
  ASSERT_TRUE(tree->ImportMultiproof(honest.multiproof, old_leaves).ok());
  p.leaves.pop_back();
  std::vector<Bytes32> keys;
  for (const TouchedLeaf& l : p.leaves) keys.push_back(TreeKey(l.key));
  p.multiproof = *tree->Multiproof(keys);
  Reseal(p);
  ExpectRejected(v, p, RejectReason::kIncompleteWitness);
}

// A key given twice is a malformed proof, in a short leaf list (compared pairwise) and in a long
// one (through a set).
TEST_F(Cheat, CheatRepeatedLeafKey) {
  const size_t i = Find(*run_, 100, IsFill);
  for (const size_t extra : {size_t{0}, size_t{40}}) {
    Verifier v = At(i);
    EventProof p = run_->proofs[i];
    // Distinct filler leaves first (nonce keys of made-up users), then a copy of leaf 0.
    for (size_t k = 0; k < extra; ++k) {
      TouchedLeaf filler = p.leaves[0];
      AccountId user;
      user.bytes[0] = static_cast<uint8_t>(k + 1);
      filler.key = NonceKey(user);
      filler.old_record.clear();
      filler.new_record.clear();
      p.leaves.push_back(filler);
    }
    p.leaves.push_back(p.leaves[0]);
    const Verdict verdict = v.Verify(p, /*signature_checked=*/true);
    EXPECT_EQ(verdict.reason, RejectReason::kMalformedLeaf) << "extra=" << extra << ": " << verdict.detail;
    EXPECT_NE(verdict.detail.find("repeated"), std::string::npos) << "extra=" << extra << ": " << verdict.detail;
  }
}

TEST_F(Cheat, CheatWrongRecordBehindARecordHash) {
  const size_t i = Find(*run_, 100, [](const EventProof& p) {
    for (const TouchedLeaf& l : p.leaves) if (!l.old_record.empty()) return true;
    return false;
  });
  Verifier v = At(i);
  EventProof p = run_->proofs[i];
  for (TouchedLeaf& l : p.leaves) {
    if (!l.old_record.empty()) {
      l.old_record[l.old_record.size() - 1] ^= 1;
      break;
    }
  }
  ExpectRejected(v, p, RejectReason::kRecordMismatch);
}

TEST_F(Cheat, CheatOldLeafValueNotInTheRoot) {
  Verifier v = At(60);
  EventProof p = run_->proofs[60];
  p.leaves[0].old_value[3] ^= 1;
  ExpectRejected(v, p, p.leaves[0].key.kind() == LeafKind::kOrder || p.leaves[0].key.kind() == LeafKind::kPageLink ||
                               p.leaves[0].key.kind() == LeafKind::kMarket
                           ? RejectReason::kRecordMismatch
                           : RejectReason::kOldLeavesNotInRoot);
}

TEST_F(Cheat, CheatUnsignedCommand) {
  const ProvedRun signed_run = Prove(31, 60, /*sign=*/true);
  Verifier v = MakeVerifier(signed_run);
  Advance(v, signed_run, 40, /*signed_run=*/true);
  EventProof p = signed_run.proofs[40];
  p.command.signature = Signature{};
  ExpectRejected(v, p, RejectReason::kBadSignature, /*signature_checked=*/false);
}

TEST_F(Cheat, CheatCommandSignedBySomeoneElse) {
  const ProvedRun signed_run = Prove(31, 60, /*sign=*/true);
  Verifier v = MakeVerifier(signed_run);
  Advance(v, signed_run, 40, /*signed_run=*/true);
  EventProof p = signed_run.proofs[40];
  const KeyPair intruder = KeyPairFromSeed(Bytes32{});
  SignCommand(signed_run.w.genesis.prover_id, intruder.secret_key, p.command);  // signer unchanged
  ExpectRejected(v, p, RejectReason::kBadSignature, /*signature_checked=*/false);
}

TEST_F(Cheat, CheatReusedNonceAndSignature) {
  // Replays an earlier signed command of the same signer inside a later proof.
  const ProvedRun signed_run = Prove(31, 200, /*sign=*/true);
  size_t later = 150;
  size_t earlier = 0;
  for (; later < signed_run.proofs.size(); ++later) {
    bool found = false;
    for (size_t j = 40; j < later; ++j) {
      if (signed_run.proofs[j].command.signer == signed_run.proofs[later].command.signer) {
        earlier = j;
        found = true;
      }
    }
    if (found) break;
  }
  ASSERT_LT(later, signed_run.proofs.size());
  Verifier v = MakeVerifier(signed_run);
  Advance(v, signed_run, later, /*signed_run=*/true);
  EventProof p = signed_run.proofs[later];
  p.command = signed_run.proofs[earlier].command;
  ExpectRejected(v, p, RejectReason::kStaleNonce, /*signature_checked=*/false);
}

TEST_F(Cheat, CheatDepositWithoutAuthorization) {
  const size_t i = Find(*run_, 20, IsDeposit);
  // A verifier whose ledger has no chain-side balances: nobody authorized anything.
  Verifier v = MakeVerifier(*run_, /*with_chain_balances=*/false);
  const Verdict first = v.Verify(run_->proofs[0], true);  // market creation needs no funds
  ASSERT_TRUE(first.ok());
  for (size_t k = 1; k < i; ++k) {
    const Verdict verdict = v.Verify(run_->proofs[k], true);
    if (!verdict.ok()) {
      EXPECT_EQ(verdict.reason, RejectReason::kUnauthorizedDeposit);
      return;
    }
  }
  ExpectRejected(v, run_->proofs[i], RejectReason::kUnauthorizedDeposit);
}

TEST_F(Cheat, CheatMarketAdminByAUser) {
  const size_t i = Find(*run_, 0, [&](const EventProof& p) { return p.command.IsAdmin(); });
  Verifier v = At(i);
  EventProof p = run_->proofs[i];
  p.command.signer = run_->proofs[i + 5].command.signer;
  ExpectRejected(v, p, RejectReason::kNotOperator);
}

// Mutation sweep: every field of a sample of proofs of every event kind, changed one at a time.
TEST(VerifierMutation, EverySingleFieldChangeIsRejected) {
  const ProvedRun r = Prove(41, 1500);
  testing::Rng rng(41);
  Verifier v = MakeVerifier(r);
  uint64_t mutations = 0;
  std::map<size_t, int> kinds;
  for (size_t i = 0; i < r.proofs.size(); ++i) {
    const EventProof& honest = r.proofs[i];
    if (i % 5 == 0 || honest.command.IsAdmin()) {
      auto check = [&](const EventProof& forged, const char* what) {
        Verifier copy = v;
        const Verdict verdict = copy.Verify(forged, true);
        ASSERT_FALSE(verdict.ok()) << "accepted a changed " << what << " in proof " << i + 1;
        ++mutations;
      };
      for (size_t l = 0; l < honest.leaves.size(); ++l) {
        EventProof f = honest;
        f.leaves[l].new_value[rng.Uniform(0, 31)] ^= static_cast<uint8_t>(rng.Uniform(1, 255));
        check(f, "new leaf value");
        if (::testing::Test::HasFatalFailure()) return;
        f = honest;
        f.leaves[l].old_value[rng.Uniform(0, 31)] ^= static_cast<uint8_t>(rng.Uniform(1, 255));
        check(f, "old leaf value");
        if (!honest.leaves[l].new_record.empty()) {
          f = honest;
          f.leaves[l].new_record[rng.Uniform(0, f.leaves[l].new_record.size() - 1)] ^= 1;
          check(f, "new record");
        }
      }
      for (size_t b = 0; b < honest.multiproof.size(); b += 1 + rng.Uniform(0, 7)) {
        EventProof f = honest;
        f.multiproof[b] ^= static_cast<uint8_t>(rng.Uniform(1, 255));
        check(f, "multiproof byte");
      }
      for (int b = 0; b < 32; b += 5) {
        EventProof f = honest;
        f.new_root[b] ^= 1;
        check(f, "new root");
        f = honest;
        f.prev_root[b] ^= 1;
        check(f, "previous root");
      }
      EventProof f = honest;
      f.outcome.reject = honest.outcome.reject == RejectCode::kNone ? RejectCode::kBadLot : RejectCode::kNone;
      check(f, "reject code");
      f = honest;
      f.command.nonce += 1;
      check(f, "nonce");
      f = honest;
      f.sequence.value += 1;
      check(f, "sequence");
      ++kinds[honest.command.body.index()];
    }
    const Verdict ok = v.Verify(honest, true);
    ASSERT_TRUE(ok.ok()) << RejectReasonName(ok.reason);
  }
  EXPECT_GT(mutations, 10'000u);
  EXPECT_EQ(kinds.size(), 8u);
  std::printf("[ mutation ] %llu mutations over %zu event kinds, none accepted\n",
              static_cast<unsigned long long>(mutations), kinds.size());
}

}  // namespace
}  // namespace pom::verify
