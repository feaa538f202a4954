// Deposit authorizations (verifier/authorizations.h): the book's bookkeeping, their persistence
// in the verifier's store, and the verifier's rule that, with a book, a deposit must match an
// outstanding recorded authorization, which its accepted proof consumes once.
#include <filesystem>
#include <string>

#include "gtest/gtest.h"
#include "matcher/engine.h"
#include "proto/codec.h"
#include "verifier/authorizations.h"
#include "verifier/store.h"
#include "verifier/verify.h"

namespace pom::verify {
namespace {

constexpr rules::Currency kCoin{7};

KeyPair Key(uint8_t n) {
  Bytes32 seed;
  seed[0] = n;
  return KeyPairFromSeed(seed);
}

rules::Command DepositOf(const KeyPair& k, uint64_t nonce, uint64_t amount, const Bytes32& prover = Bytes32()) {
  rules::Command c;
  c.signer = k.public_key;
  c.nonce = nonce;
  c.body = rules::Deposit{kCoin, Amount::FromRaw(amount)};
  rules::SignCommand(prover, k.secret_key, c);
  return c;
}

TEST(AuthorizationBook, ReservesFindsMatchesAndConsumesOnce) {
  AuthorizationBook book;
  const KeyPair a = Key(1), b = Key(2);
  ASSERT_TRUE(book.Add(1, DepositOf(a, 10, 100)).ok());
  ASSERT_TRUE(book.Add(2, DepositOf(a, 11, 50)).ok());
  ASSERT_TRUE(book.Add(3, DepositOf(b, 10, 7)).ok());
  EXPECT_EQ(book.Reserved(a.public_key, kCoin).raw(), 150u);
  EXPECT_EQ(book.Reserved(b.public_key, kCoin).raw(), 7u);
  // Same signer and nonce again: refused, whatever the amount; a reused index too.
  EXPECT_TRUE(absl::IsAlreadyExists(book.Add(4, DepositOf(a, 10, 1))));
  EXPECT_TRUE(absl::IsInvalidArgument(book.Add(3, DepositOf(b, 12, 1))));
  rules::Command not_deposit = DepositOf(a, 12, 1);
  not_deposit.body = rules::Withdraw{kCoin, Amount::FromRaw(1)};
  EXPECT_TRUE(absl::IsInvalidArgument(book.Add(5, not_deposit)));
  // Match needs the same currency and amount.
  EXPECT_NE(book.Match(DepositOf(a, 10, 100)), nullptr);
  EXPECT_EQ(book.Match(DepositOf(a, 10, 99)), nullptr);
  EXPECT_EQ(book.Match(DepositOf(a, 12, 100)), nullptr);
  // The feed order.
  ASSERT_EQ(book.From(2, 10).size(), 2u);
  EXPECT_EQ(book.From(2, 10)[0].index, 2u);
  EXPECT_EQ(book.From(2, 1).size(), 1u);
  // Consumed once.
  EXPECT_EQ(book.Consume(a.public_key, 10), 1u);
  EXPECT_EQ(book.Consume(a.public_key, 10), 0u);
  EXPECT_EQ(book.Reserved(a.public_key, kCoin).raw(), 50u);
  EXPECT_EQ(book.size(), 2u);
  // Authorizations whose nonce an event spent are stale: released, and only the signer's.
  ASSERT_TRUE(book.Add(6, DepositOf(a, 20, 5)).ok());
  EXPECT_EQ(book.ReleaseStale(a.public_key, 15), std::vector<uint64_t>{2});
  EXPECT_EQ(book.Reserved(a.public_key, kCoin).raw(), 5u);
  EXPECT_EQ(book.ReleaseStale(a.public_key, 19), std::vector<uint64_t>{});
  EXPECT_EQ(book.ReleaseStale(a.public_key, 20), std::vector<uint64_t>{6});
  EXPECT_EQ(book.Reserved(a.public_key, kCoin).raw(), 0u);
  EXPECT_EQ(book.size(), 1u);
  EXPECT_NE(book.Find(b.public_key, 10), nullptr);
}

TEST(AuthorizationStore, AuthorizationsSurviveReopenAndConsumedOnesGoWithTheHead) {
  const std::string dir = (std::filesystem::temp_directory_path() / "pom-auth-store").string();
  std::filesystem::remove_all(dir);
  const KeyPair a = Key(3);
  auto bytes = [](const rules::Command& c) {
    v1::Command wire;
    codec::ToProto(c, &wire);
    return wire.SerializeAsString();
  };
  {
    auto store = VerifierStore::Open({dir, Bytes32()});
    ASSERT_TRUE(store.ok());
    auto empty = (*store)->LoadAuthorizations();
    ASSERT_TRUE(empty.ok());
    EXPECT_EQ(empty->next_index, 1u);
    EXPECT_TRUE(empty->outstanding.empty());
    ASSERT_TRUE((*store)->AddAuthorization(1, bytes(DepositOf(a, 1, 5))).ok());
    ASSERT_TRUE((*store)->AddAuthorization(2, bytes(DepositOf(a, 2, 6))).ok());
    ASSERT_TRUE((*store)->AddAuthorization(3, bytes(DepositOf(a, 3, 7))).ok());
  }
  {
    auto store = VerifierStore::Open({dir, Bytes32()});
    ASSERT_TRUE(store.ok());
    auto loaded = (*store)->LoadAuthorizations();
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_EQ(loaded->next_index, 4u);
    ASSERT_EQ(loaded->outstanding.size(), 3u);
    EXPECT_EQ(loaded->outstanding[1].first, 2u);
    EXPECT_EQ(loaded->outstanding[1].second, bytes(DepositOf(a, 2, 6)));
    // A head commit deletes the authorizations its proofs consumed, in the same batch.
    const uint64_t consumed[] = {1, 3};
    ASSERT_TRUE((*store)->Commit(VerifierHead{9, Bytes32(), rules::CustodyLedger()}, consumed).ok());
  }
  auto store = VerifierStore::Open({dir, Bytes32()});
  ASSERT_TRUE(store.ok());
  auto loaded = (*store)->LoadAuthorizations();
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->outstanding.size(), 1u);
  EXPECT_EQ(loaded->outstanding[0].first, 2u);
  EXPECT_EQ(loaded->next_index, 4u) << "indexes are never reused";
  std::filesystem::remove_all(dir);
}

// A matcher that sequences a deposit the chain side never recorded is caught by a verifier with
// an authorization book, even though the chain-side funds would cover it.
TEST(AuthorizedDeposits, CheatDepositWithoutRecordedAuthorizationIsRejectedAndARecordedOneIsConsumedOnce) {
  const KeyPair op = Key(9), user = Key(4);
  const Bytes32 prover;
  rules::CustodyLedger ledger;
  ASSERT_TRUE(ledger.CreditChain(user.public_key, kCoin, Amount::FromRaw(1000)).ok());
  matcher::Engine engine(matcher::EngineOptions{prover, op.public_key});
  ASSERT_TRUE(engine.CreditChain(user.public_key, kCoin, Amount::FromRaw(1000)).ok());
  const rules::Command first = DepositOf(user, 1, 300, prover);
  const rules::Command second = DepositOf(user, 2, 200, prover);
  absl::StatusOr<rules::EventProof> p1 = engine.Submit(first);
  absl::StatusOr<rules::EventProof> p2 = engine.Submit(second);
  ASSERT_TRUE(p1.ok() && p2.ok());

  AuthorizationBook book;
  ASSERT_TRUE(book.Add(1, first).ok());  // only the first one was authorized
  Verifier verifier(Config{prover, op.public_key}, ledger);
  verifier.RequireAuthorizations(&book);
  const Verdict v1 = verifier.Verify(*p1);
  ASSERT_TRUE(v1.ok()) << v1.detail;
  EXPECT_EQ(v1.consumed_authorization, 1u);
  EXPECT_EQ(book.size(), 0u);
  const Verdict v2 = verifier.Verify(*p2);
  EXPECT_EQ(v2.reason, RejectReason::kUnauthorizedDeposit) << v2.detail;
  EXPECT_EQ(verifier.sequence(), 1u);

  // Recorded with another amount: still no match.
  ASSERT_TRUE(book.Add(2, DepositOf(user, 2, 201, prover)).ok());
  EXPECT_EQ(verifier.Verify(*p2).reason, RejectReason::kUnauthorizedDeposit);
  // Without a book (pom-verifier check), the chain-side balance is the authorization.
  Verifier offline(Config{prover, op.public_key}, ledger);
  EXPECT_TRUE(offline.Verify(*p1).ok());
  EXPECT_TRUE(offline.Verify(*p2).ok());
}


// An authorization the matcher can no longer sequence (its nonce is below one the user then
// spent) is released by the verified event that spent it: its funds return to the chain side.
TEST(AuthorizedDeposits, AStaleAuthorizationIsReleasedByTheEventThatSpentItsNonce) {
  const KeyPair op = Key(9), user = Key(5);
  const Bytes32 prover;
  rules::CustodyLedger ledger;
  ASSERT_TRUE(ledger.CreditChain(user.public_key, kCoin, Amount::FromRaw(1000)).ok());
  matcher::Engine engine(matcher::EngineOptions{prover, op.public_key});
  ASSERT_TRUE(engine.CreditChain(user.public_key, kCoin, Amount::FromRaw(1000)).ok());
  const rules::Command deposit = DepositOf(user, 1, 300, prover);
  absl::StatusOr<rules::EventProof> pd = engine.Submit(deposit);
  ASSERT_TRUE(pd.ok());
  AuthorizationBook book;
  ASSERT_TRUE(book.Add(1, deposit).ok());
  ASSERT_TRUE(book.Add(2, DepositOf(user, 5, 100, prover)).ok());  // never sequenced
  Verifier verifier(Config{prover, op.public_key}, ledger);
  verifier.RequireAuthorizations(&book);
  const Verdict vd = verifier.Verify(*pd);
  ASSERT_TRUE(vd.ok()) << vd.detail;
  EXPECT_EQ(vd.consumed_authorization, 1u);
  EXPECT_TRUE(vd.released_authorizations.empty()) << "nonce 5 is still ahead";
  EXPECT_EQ(book.Reserved(user.public_key, kCoin).raw(), 100u);
  rules::Command withdraw;
  withdraw.signer = user.public_key;
  withdraw.nonce = 6;
  withdraw.body = rules::Withdraw{kCoin, Amount::FromRaw(10)};
  rules::SignCommand(prover, user.secret_key, withdraw);
  absl::StatusOr<rules::EventProof> pw = engine.Submit(withdraw);
  ASSERT_TRUE(pw.ok());
  const Verdict vw = verifier.Verify(*pw);
  ASSERT_TRUE(vw.ok()) << vw.detail;
  EXPECT_EQ(vw.released_authorizations, std::vector<uint64_t>{2});
  EXPECT_EQ(book.Reserved(user.public_key, kCoin).raw(), 0u);
  EXPECT_EQ(book.size(), 0u);
}

}  // namespace
}  // namespace pom::verify
