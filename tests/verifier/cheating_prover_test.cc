// Cheats a matcher can commit, each forged by the CheatingProver as consistently as possible
// (true old leaves, forged new leaves, a valid multiproof and new root), each caught by the
// verifier with the expected reason. Without padding, a cheat that hides state lacks the leaves
// the honest rules need (incomplete_witness); padded with every leaf the honest rules read, it is
// caught because the leaves are not what the rules produce (leaves_mismatch).
#include <gtest/gtest.h>

#include "common/rules/internal/book_ops.h"
#include "tests/verifier/cheating_prover.h"
#include "verifier/verify.h"

namespace pom::verify {
namespace {

using namespace ::pom::rules;  // NOLINT

const MarketId kMarket{Currency{2}, Currency{1}};

AccountId Key(uint8_t n) {
  AccountId a;
  a.bytes[0] = n;
  a.bytes[31] = 0x5a;
  return a;
}

class CheatingProverTest : public ::testing::Test {
 protected:
  CheatingProverTest() : prover_(op_), verifier_(Config{Bytes32(), op_}, Ledger()) {
    MarketRecord m;
    m.status = MarketStatus::kOpen;
    m.price_decimals = 2;
    m.amount_decimals = 2;
    m.min_amount = Amount::FromRaw(kScale / 100);
    m.maker_fee_ppm = 1000;
    m.taker_fee_ppm = 2000;
    m.max_makers = 10;
    Honest(op_, CreateMarket{kMarket, m});
    for (const AccountId& u : {a_, b_, t_, x_}) {
      Honest(u, Deposit{kMarket.base, Amount::FromUnits(100)});
      Honest(u, Deposit{kMarket.quote, Amount::FromUnits(100'000)});
    }
  }

  CustodyLedger Ledger() {
    CustodyLedger l;
    for (const AccountId& u : {a_, b_, t_, x_}) {
      EXPECT_TRUE(l.CreditChain(u, kMarket.base, Amount::FromUnits(1000)).ok());
      EXPECT_TRUE(l.CreditChain(u, kMarket.quote, Amount::FromUnits(1'000'000)).ok());
    }
    return l;
  }

  Command Cmd(const AccountId& who, CommandBody body) {
    Command c;
    c.signer = who;
    c.nonce = ++nonces_[who.bytes[0]];
    c.body = std::move(body);
    return c;
  }

  EventProof Honest(const AccountId& who, CommandBody body) {
    EventProof p = prover_.Honest(Cmd(who, std::move(body)));
    const Verdict v = verifier_.Verify(p, /*signature_checked=*/true);
    EXPECT_TRUE(v.ok()) << RejectReasonName(v.reason) << " " << v.detail;
    return p;
  }

  static PlaceOrder Limit(Side side, uint64_t price, uint64_t amount, TimeInForce tif = TimeInForce::kGtc) {
    PlaceOrder p;
    p.market = kMarket;
    p.side = side;
    p.time_in_force = tif;
    p.price = Price::FromUnits(price);
    p.amount = Amount::FromUnits(amount);
    return p;
  }

  void ExpectCaught(const EventProof& forged, RejectReason want) {
    const uint64_t seq = verifier_.sequence();
    const Verdict v = verifier_.Verify(forged, /*signature_checked=*/true);
    EXPECT_EQ(v.reason, want) << "got " << RejectReasonName(v.reason) << " (" << v.detail << ")";
    EXPECT_EQ(verifier_.sequence(), seq);
  }

  // Silently removes a resting order from a state (a lie about the book).
  static void Hide(matcher::FastState& s, OrderId id) {
    const OrderRecord o = s.FindBook(kMarket)->orders.at(id.value);
    POM_CHECK_OK(rules_internal::CancelResting(s, kMarket, id, o));
  }

  const AccountId op_ = Key(1), a_ = Key(2), b_ = Key(3), t_ = Key(4), x_ = Key(5);
  testing::CheatingProver prover_;
  Verifier verifier_;
  std::map<uint8_t, uint64_t> nonces_;
};

TEST_F(CheatingProverTest, CheatSkippedPriceLevel) {
  const OrderId best = Honest(a_, Limit(Side::kSell, 100, 1)).outcome.order;
  Honest(b_, Limit(Side::kSell, 101, 1));
  // Fills the taker at 101 as if the level at 100 were not there.
  const EventProof forged = prover_.Forge(Cmd(t_, Limit(Side::kBuy, 101, 1)), {.lie = [&](matcher::FastState& s) { Hide(s, best); }});
  ExpectCaught(forged, RejectReason::kIncompleteWitness);
}

TEST_F(CheatingProverTest, CheatSkippedPriceLevelWithEveryLeafShown) {
  const OrderId best = Honest(a_, Limit(Side::kSell, 100, 1)).outcome.order;
  Honest(b_, Limit(Side::kSell, 101, 1));
  const EventProof forged = prover_.Forge(Cmd(t_, Limit(Side::kBuy, 101, 1)),
                                          {.lie = [&](matcher::FastState& s) { Hide(s, best); }, .pad_with_honest_leaves = true});
  ExpectCaught(forged, RejectReason::kLeavesMismatch);
}

TEST_F(CheatingProverTest, CheatSkippedEarlierOrderAtTheSamePrice) {
  const OrderId first = Honest(a_, Limit(Side::kSell, 100, 1)).outcome.order;
  Honest(b_, Limit(Side::kSell, 100, 1));
  const EventProof forged = prover_.Forge(Cmd(t_, Limit(Side::kBuy, 100, 1)),
                                          {.lie = [&](matcher::FastState& s) { Hide(s, first); }, .pad_with_honest_leaves = true});
  ExpectCaught(forged, RejectReason::kLeavesMismatch);
}

TEST_F(CheatingProverTest, CheatInventedMakerAndMakerOrder) {
  // No asks at all; the prover invents a seller with an order and funds and fills against it.
  const AccountId ghost = Key(77);
  const EventProof forged = prover_.Forge(Cmd(t_, Limit(Side::kBuy, 100, 1)), {.lie = [&](matcher::FastState& s) {
    POM_CHECK_OK(s.SetBalance(ghost, kMarket.base, Balance{Amount(), Amount::FromUnits(1)}));
    OrderRecord o;
    o.owner = ghost;
    o.side = Side::kSell;
    o.price = Price::FromUnits(100);
    o.amount = o.unfilled = Amount::FromUnits(1);
    POM_CHECK_OK(rules_internal::AppendOrder(s, kMarket, OrderId{999'999}, o));
  }, .pad_with_honest_leaves = true});
  ExpectCaught(forged, RejectReason::kLeavesMismatch);
}

TEST_F(CheatingProverTest, CheatChangedMakerAmount) {
  const OrderId maker = Honest(a_, Limit(Side::kSell, 100, 3)).outcome.order;
  const EventProof forged = prover_.Forge(Cmd(t_, Limit(Side::kBuy, 100, 1)), {.tamper = [&](std::vector<TouchedLeaf>& leaves, Outcome&) {
    for (TouchedLeaf& l : leaves) {
      if (l.key == OrderKey(kMarket, maker)) {
        OrderRecord r = *DecodeOrderRecord(l.new_record);
        r.unfilled = Amount::FromUnits(2) == r.unfilled ? Amount::FromUnits(1) : r.unfilled;  // the maker loses a unit
        const auto bytes = Encode(r);
        l.new_record.assign(bytes.begin(), bytes.end());
        l.new_value = RecordHash(r);
      }
    }
  }});
  ExpectCaught(forged, RejectReason::kLeavesMismatch);
}

TEST_F(CheatingProverTest, CheatChangedTakerAmount) {
  Honest(a_, Limit(Side::kSell, 100, 5));
  // The taker signed for 1; the prover fills 3.
  const EventProof forged = prover_.Forge(Cmd(t_, Limit(Side::kBuy, 100, 1)), {.run_command = Cmd(t_, Limit(Side::kBuy, 100, 3))});
  ExpectCaught(forged, RejectReason::kLeavesMismatch);
}

TEST_F(CheatingProverTest, CheatFillBeyondTheTakersLimit) {
  Honest(a_, Limit(Side::kSell, 101, 1));
  // The taker's limit is 100; the prover fills it at 101.
  // (Padded: without the level at 100, which the honest run would create, the verifier would
  // stop earlier with incomplete_witness.)
  const EventProof forged = prover_.Forge(Cmd(t_, Limit(Side::kBuy, 100, 1)),
                                          {.run_command = Cmd(t_, Limit(Side::kBuy, 101, 1)), .pad_with_honest_leaves = true});
  ExpectCaught(forged, RejectReason::kLeavesMismatch);
}

TEST_F(CheatingProverTest, CheatRestingACrossingOrder) {
  const OrderId ask = Honest(a_, Limit(Side::kSell, 100, 1)).outcome.order;
  // The buy at 100 should fill; the prover rests it instead, crossing the ask.
  const EventProof forged = prover_.Forge(Cmd(t_, Limit(Side::kBuy, 100, 1)),
                                          {.lie = [&](matcher::FastState& s) { Hide(s, ask); }, .pad_with_honest_leaves = true});
  ExpectCaught(forged, RejectReason::kLeavesMismatch);
}

TEST_F(CheatingProverTest, CheatCancelByANonOwner) {
  const OrderId order = Honest(a_, Limit(Side::kSell, 100, 1)).outcome.order;
  // X cancels A's order; the prover pretends X owns it (A's funds go to X).
  const EventProof forged = prover_.Forge(Cmd(x_, CancelOrder{kMarket, order}), {.lie = [&](matcher::FastState& s) {
    OrderRecord o = s.FindBook(kMarket)->orders.at(order.value);
    POM_CHECK_OK(rules_internal::CancelResting(s, kMarket, order, o));  // A's funds released...
    o.owner = x_;                                                         // ...and the order re-made as X's
    POM_CHECK_OK(s.SetBalance(x_, kMarket.base, Balance{Amount::FromUnits(99), Amount::FromUnits(1)}));
    POM_CHECK_OK(rules_internal::AppendOrder(s, kMarket, order, o));
  }});
  ExpectCaught(forged, RejectReason::kLeavesMismatch);
}

TEST_F(CheatingProverTest, CheatWithdrawalBeyondTheBalance) {
  const EventProof forged = prover_.Forge(Cmd(x_, Withdraw{kMarket.quote, Amount::FromUnits(500'000)}), {.lie = [&](matcher::FastState& s) {
    POM_CHECK_OK(s.SetBalance(x_, kMarket.quote, Balance{Amount::FromUnits(1'000'000), Amount()}));
  }});
  ExpectCaught(forged, RejectReason::kLeavesMismatch);
}

TEST_F(CheatingProverTest, CheatExtraLeafMintingForSomeoneElse) {
  const EventProof forged = prover_.Forge(Cmd(x_, Withdraw{kMarket.quote, Amount::FromUnits(1)}), {.tamper = [&](std::vector<TouchedLeaf>& leaves, Outcome&) {
    TouchedLeaf extra;
    extra.key = AccountKey(b_, kMarket.quote);
    extra.new_value = BalanceValue(Balance{Amount::FromUnits(200'000), Amount()});
    leaves.push_back(extra);
  }});
  ExpectCaught(forged, RejectReason::kLeavesMismatch);
}

TEST_F(CheatingProverTest, CheatExtraUnchangedLeaf) {
  const EventProof forged = prover_.Forge(Cmd(x_, Withdraw{kMarket.quote, Amount::FromUnits(1)}), {.tamper = [&](std::vector<TouchedLeaf>& leaves, Outcome&) {
    TouchedLeaf extra;
    extra.key = AccountKey(b_, kMarket.quote);
    extra.new_value = BalanceValue(Balance{Amount::FromUnits(100'000), Amount()});  // what it already is
    leaves.push_back(extra);
  }});
  ExpectCaught(forged, RejectReason::kLeavesMismatch);
}

TEST_F(CheatingProverTest, HonestEventsFromTheSameProverVerify) {
  Honest(a_, Limit(Side::kSell, 100, 2));
  Honest(t_, Limit(Side::kBuy, 100, 1));
  Honest(a_, CancelOrder{kMarket, OrderId{10}});
  EXPECT_GT(verifier_.sequence(), 9u);
}

}  // namespace
}  // namespace pom::verify
