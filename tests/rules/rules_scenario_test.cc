// Scenario tests of pom::rules running on the matcher's FastState: one behaviour per test, exact
// balances and fees, and after every test per-currency conservation (balances, frozen included,
// equal deposits minus withdrawals, fees sitting in the operator's account).
#include <map>

#include <gtest/gtest.h>

#include "common/rules/rules.h"
#include "matcher/fast_state.h"

namespace pom::rules {
namespace {

const Currency kBtc{1};
const Currency kUsd{2};
const MarketId kMarket{kBtc, kUsd};

Amount A(const char* s) { return *ParseAmount(s); }
Price P(const char* s) { return *ParsePrice(s); }

AccountId User(uint8_t n) {
  Bytes32 seed;
  seed[0] = n;
  return KeyPairFromSeed(seed).public_key;
}

class RulesTest : public ::testing::Test {
 protected:
  RulesTest() : op_(User(100)), alice_(User(1)), bob_(User(2)), carol_(User(3)) {
    MarketRecord m;
    m.status = MarketStatus::kOpen;
    m.price_decimals = 2;
    m.amount_decimals = 4;
    m.min_amount = A("0.001");
    m.maker_fee_ppm = 1000;  // 0.1%
    m.taker_fee_ppm = 2000;  // 0.2%
    m.max_makers = 5;
    EXPECT_EQ(Run(op_, CreateMarket{kMarket, m}).reject, RejectCode::kNone);
    for (const AccountId& u : {alice_, bob_, carol_}) {
      Fund(u, kBtc, "10");
      Fund(u, kUsd, "10000");
    }
  }

  ~RulesTest() override { ExpectConservation(); }

  absl::StatusOr<Outcome> TryRun(const AccountId& signer, CommandBody body) {
    Command c;
    c.signer = signer;
    c.nonce = ++nonces_[signer.bytes];
    c.body = std::move(body);
    Context ctx{Sequence{++sequence_}, op_};
    return Apply(state_, ctx, c);
  }

  Outcome Run(const AccountId& signer, CommandBody body) {
    absl::StatusOr<Outcome> out = TryRun(signer, std::move(body));
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? *out : Outcome();
  }

  void Fund(const AccountId& u, Currency c, const char* amount) {
    ASSERT_EQ(Run(u, Deposit{c, A(amount)}).reject, RejectCode::kNone);
    deposited_[c.id] = *CheckedAdd(deposited_[c.id], A(amount));
  }

  Outcome Place(const AccountId& u, Side side, const char* price, const char* amount,
                TimeInForce tif = TimeInForce::kGtc, StpMode stp = StpMode::kCancelTaker) {
    PlaceOrder p;
    p.market = kMarket;
    p.side = side;
    p.type = OrderType::kLimit;
    p.time_in_force = tif;
    p.stp = stp;
    p.price = P(price);
    p.amount = A(amount);
    return Run(u, p);
  }

  Outcome PlaceMarket(const AccountId& u, Side side, const char* amount) {
    PlaceOrder p;
    p.market = kMarket;
    p.side = side;
    p.type = OrderType::kMarket;
    p.time_in_force = TimeInForce::kIoc;
    p.amount = A(amount);
    return Run(u, p);
  }

  Balance Bal(const AccountId& u, Currency c) { return *state_.GetBalance(u, c); }
  std::string Avail(const AccountId& u, Currency c) { return FormatDecimal(Bal(u, c).available); }
  std::string Frozen(const AccountId& u, Currency c) { return FormatDecimal(Bal(u, c).frozen); }
  BestPrices Best() { return *state_.GetBestPrices(kMarket); }

  void ExpectConservation() {
    std::map<uint32_t, u128> total;
    state_.ForEachBalance([&](const AccountId&, Currency c, const Balance& b) {
      total[c.id] += b.available.raw() + b.frozen.raw();
    });
    for (const auto& [currency, amount] : deposited_) {
      const u128 expected = amount.raw() - withdrawn_[currency].raw();
      EXPECT_EQ(FormatDecimal(total[currency]), FormatDecimal(expected)) << "currency " << currency;
    }
  }

  // A snapshot of everything observable, to show a reject changed nothing but the nonce.
  std::string Snapshot() {
    std::string s;
    std::map<std::string, std::string> lines;
    state_.ForEachBalance([&](const AccountId& u, Currency c, const Balance& b) {
      lines[ToHex(u.bytes) + "/" + std::to_string(c.id)] =
          FormatDecimal(b.available) + "/" + FormatDecimal(b.frozen);
    });
    for (const auto& [k, v] : lines) s += k + "=" + v + "\n";
    const matcher::FastState::Book* book = state_.FindBook(kMarket);
    if (book != nullptr) {
      s += "best=" + FormatDecimal(book->best.ask) + "/" + FormatDecimal(book->best.bid);
      s += " sizes=" + FormatDecimal(book->sizes.ask) + "/" + FormatDecimal(book->sizes.bid);
      s += " orders=" + std::to_string(book->orders.size()) + " pages=" +
           std::to_string(book->page_count);
    }
    return s;
  }

  matcher::FastState state_;
  AccountId op_, alice_, bob_, carol_;
  uint64_t sequence_ = 0;
  std::map<std::array<uint8_t, 32>, uint64_t> nonces_;
  std::map<uint32_t, Amount> deposited_, withdrawn_;
};

TEST_F(RulesTest, LimitOrdersRestAndTheBookTracksThem) {
  const Outcome a = Place(alice_, Side::kSell, "101", "1");
  EXPECT_EQ(a.resting, A("1"));
  Place(alice_, Side::kSell, "102", "2");
  Place(bob_, Side::kBuy, "99", "1");
  EXPECT_EQ(Best().ask, P("101"));
  EXPECT_EQ(Best().bid, P("99"));
  EXPECT_EQ(*state_.GetBookSizes(kMarket), (BookSizes{A("3"), A("1")}));
  EXPECT_EQ(*state_.GetPageVolume(kMarket, P("102")), A("2"));
  EXPECT_EQ(Frozen(alice_, kBtc), "3");
  EXPECT_EQ(Frozen(bob_, kUsd), "99");
  const PageRecord best_ask = **state_.GetPage(kMarket, P("101"));
  EXPECT_EQ(best_ask.side, Side::kSell);
  EXPECT_TRUE(best_ask.better.IsZero());
  EXPECT_EQ(best_ask.worse, P("102"));
  EXPECT_EQ(best_ask.head, a.order);
  // A new ask between the two levels is linked by the neighbour hint.
  Place(carol_, Side::kSell, "101.5", "1");
  EXPECT_EQ((*state_.GetPage(kMarket, P("101")))->worse, P("101.5"));
  EXPECT_EQ((*state_.GetPage(kMarket, P("102")))->better, P("101.5"));
  // A better bid becomes best.
  Place(carol_, Side::kBuy, "100", "1");
  EXPECT_EQ(Best().bid, P("100"));
  EXPECT_EQ((*state_.GetPage(kMarket, P("99")))->better, P("100"));
}

TEST_F(RulesTest, FillsAtMakerPricesInPriceTimeOrderWithFees) {
  const Outcome first = Place(alice_, Side::kSell, "100", "1");
  const Outcome second = Place(carol_, Side::kSell, "100", "1");
  Place(alice_, Side::kSell, "101", "1");
  const Outcome taker = Place(bob_, Side::kBuy, "101", "1.5");
  ASSERT_EQ(taker.fills.size(), 2u);
  EXPECT_EQ(taker.fills[0].maker_order, first.order);
  EXPECT_EQ(taker.fills[0].amount, A("1"));
  EXPECT_EQ(taker.fills[0].price, P("100"));
  EXPECT_EQ(taker.fills[1].maker_order, second.order);
  EXPECT_EQ(taker.fills[1].amount, A("0.5"));
  EXPECT_TRUE(taker.resting.IsZero());
  // Bob paid 150 USD (not 151.5: the better price is his) and got 1.5 BTC less 0.2% taker fee.
  EXPECT_EQ(Avail(bob_, kUsd), "9850");
  EXPECT_EQ(Avail(bob_, kBtc), "11.497");
  EXPECT_EQ(Frozen(bob_, kUsd), "0");
  // Alice received 100 USD less 0.1% maker fee; Carol 50 USD less 0.1%.
  EXPECT_EQ(Avail(alice_, kUsd), "10099.9");
  EXPECT_EQ(Avail(carol_, kUsd), "10049.95");
  EXPECT_EQ(Frozen(carol_, kBtc), "0.5");
  // Fees: 0.003 BTC from the taker, 0.15 USD from the makers.
  EXPECT_EQ(Avail(op_, kBtc), "0.003");
  EXPECT_EQ(Avail(op_, kUsd), "0.15");
  EXPECT_EQ(Best().ask, P("100"));
  EXPECT_EQ((*state_.GetPage(kMarket, P("100")))->head, second.order);
}

TEST_F(RulesTest, SellTakerWalksBidLevelsBestFirst) {
  Place(alice_, Side::kBuy, "99", "1");
  Place(carol_, Side::kBuy, "100", "1");
  const Outcome taker = Place(bob_, Side::kSell, "99", "3");
  ASSERT_EQ(taker.fills.size(), 2u);
  EXPECT_EQ(taker.fills[0].price, P("100"));
  EXPECT_EQ(taker.fills[1].price, P("99"));
  EXPECT_EQ(taker.resting, A("1"));
  EXPECT_EQ(Best().ask, P("99"));
  EXPECT_TRUE(Best().bid.IsZero());
}

TEST_F(RulesTest, IocReleasesTheRemainder) {
  Place(alice_, Side::kSell, "100", "1");
  const Outcome ioc = Place(bob_, Side::kBuy, "100", "3", TimeInForce::kIoc);
  EXPECT_EQ(ioc.fills.size(), 1u);
  EXPECT_TRUE(ioc.resting.IsZero());
  EXPECT_EQ(Frozen(bob_, kUsd), "0");
  EXPECT_TRUE(Best().bid.IsZero());
}

TEST_F(RulesTest, FokFillsCompletelyOrIsRejectedWithoutChange) {
  Place(alice_, Side::kSell, "100", "1");
  Place(carol_, Side::kSell, "101", "1");
  const std::string before = Snapshot();
  EXPECT_EQ(Place(bob_, Side::kBuy, "101", "2.5", TimeInForce::kFok).reject,
            RejectCode::kFokNotFillable);
  EXPECT_EQ(Snapshot(), before);
  const Outcome fok = Place(bob_, Side::kBuy, "101", "2", TimeInForce::kFok);
  EXPECT_EQ(fok.reject, RejectCode::kNone);
  EXPECT_EQ(fok.fills.size(), 2u);
}

TEST_F(RulesTest, PostOnlyThatWouldCrossIsRejected) {
  Place(alice_, Side::kSell, "100", "1");
  EXPECT_EQ(Place(bob_, Side::kBuy, "100", "1", TimeInForce::kPostOnly).reject,
            RejectCode::kPostOnlyWouldCross);
  EXPECT_EQ(Place(bob_, Side::kBuy, "99.99", "1", TimeInForce::kPostOnly).resting, A("1"));
}

TEST_F(RulesTest, MarketOrdersTakeLiquidityWithinTheBudget) {
  EXPECT_EQ(PlaceMarket(bob_, Side::kBuy, "1").reject, RejectCode::kNoLiquidity);
  Place(alice_, Side::kSell, "4000", "2");
  Place(alice_, Side::kSell, "5000", "2");
  // 10000 USD buys 2 at 4000 and 0.4 at 5000; the rest of the order is released.
  const Outcome buy = PlaceMarket(bob_, Side::kBuy, "3");
  ASSERT_EQ(buy.fills.size(), 2u);
  EXPECT_EQ(buy.fills[1].amount, A("0.4"));
  EXPECT_EQ(Avail(bob_, kUsd), "0");
  const Outcome sell = PlaceMarket(carol_, Side::kSell, "5");
  EXPECT_TRUE(sell.fills.empty());  // no bids
  EXPECT_EQ(sell.reject, RejectCode::kNoLiquidity);
}

TEST_F(RulesTest, SelfTradePreventionModes) {
  const Outcome own = Place(alice_, Side::kSell, "100", "1");
  const Outcome other = Place(carol_, Side::kSell, "100", "1");
  // Cancel-taker (default): the taker stops at its own order; the book is untouched.
  const Outcome t1 = Place(alice_, Side::kBuy, "100", "1", TimeInForce::kGtc, StpMode::kCancelTaker);
  EXPECT_TRUE(t1.taker_stopped);
  EXPECT_TRUE(t1.fills.empty());
  EXPECT_TRUE(t1.resting.IsZero());
  EXPECT_TRUE((*state_.GetOrder(kMarket, own.order)).has_value());
  // Cancel-maker: its own order is cancelled and matching goes on to Carol's.
  const Outcome t2 = Place(alice_, Side::kBuy, "100", "1", TimeInForce::kGtc, StpMode::kCancelMaker);
  EXPECT_EQ(t2.cancelled, std::vector<OrderId>{own.order});
  ASSERT_EQ(t2.fills.size(), 1u);
  EXPECT_EQ(t2.fills[0].maker_order, other.order);
  // Cancel-both: maker cancelled, taker stopped.
  const Outcome own2 = Place(alice_, Side::kSell, "100", "1");
  const Outcome t3 = Place(alice_, Side::kBuy, "100", "1", TimeInForce::kGtc, StpMode::kCancelBoth);
  EXPECT_EQ(t3.cancelled, std::vector<OrderId>{own2.order});
  EXPECT_TRUE(t3.taker_stopped);
  EXPECT_TRUE(Best().ask.IsZero());
  EXPECT_TRUE(Best().bid.IsZero());
  EXPECT_EQ(Frozen(alice_, kUsd), "0");
  EXPECT_EQ(Frozen(alice_, kBtc), "0");
}

TEST_F(RulesTest, MaxMakersStopsTheTakerAndReleasesTheRest) {
  for (int i = 0; i < 7; ++i) Place(i % 2 ? alice_ : carol_, Side::kSell, "100", "0.1");
  const Outcome taker = Place(bob_, Side::kBuy, "100", "1");
  EXPECT_EQ(taker.fills.size(), 5u);
  EXPECT_TRUE(taker.taker_stopped);
  EXPECT_TRUE(taker.resting.IsZero());  // resting it would cross the two asks left
  EXPECT_EQ(Frozen(bob_, kUsd), "0");
  EXPECT_EQ(*state_.GetPageVolume(kMarket, P("100")), A("0.2"));
}

TEST_F(RulesTest, CancelIsOwnerOnlyAndReleasesFunds) {
  const Outcome o = Place(bob_, Side::kBuy, "100", "2");
  EXPECT_EQ(Frozen(bob_, kUsd), "200");
  EXPECT_EQ(Run(alice_, CancelOrder{kMarket, o.order}).reject, RejectCode::kNotOrderOwner);
  EXPECT_EQ(Run(bob_, CancelOrder{kMarket, OrderId{999}}).reject, RejectCode::kOrderNotFound);
  const Outcome c = Run(bob_, CancelOrder{kMarket, o.order});
  EXPECT_EQ(c.cancelled, std::vector<OrderId>{o.order});
  EXPECT_EQ(Frozen(bob_, kUsd), "0");
  EXPECT_TRUE(Best().bid.IsZero());
  EXPECT_FALSE((*state_.GetPage(kMarket, P("100"))).has_value());
  EXPECT_TRUE(state_.GetPageVolume(kMarket, P("100"))->IsZero());
}

TEST_F(RulesTest, AmendReducesAndKeepsQueuePosition) {
  const Outcome first = Place(alice_, Side::kSell, "100", "1");
  const Outcome second = Place(carol_, Side::kSell, "100", "1");
  EXPECT_EQ(Run(alice_, AmendOrder{kMarket, first.order, A("1")}).reject, RejectCode::kAmendNotReduce);
  EXPECT_EQ(Run(carol_, AmendOrder{kMarket, first.order, A("0.5")}).reject, RejectCode::kNotOrderOwner);
  EXPECT_EQ(Run(alice_, AmendOrder{kMarket, first.order, A("0.5")}).reject, RejectCode::kNone);
  EXPECT_EQ(Frozen(alice_, kBtc), "0.5");
  const Outcome taker = Place(bob_, Side::kBuy, "100", "0.7");
  ASSERT_EQ(taker.fills.size(), 2u);
  EXPECT_EQ(taker.fills[0].maker_order, first.order);
  EXPECT_EQ(taker.fills[0].amount, A("0.5"));
  EXPECT_EQ(taker.fills[1].maker_order, second.order);
  EXPECT_EQ(taker.fills[1].amount, A("0.2"));
}

TEST_F(RulesTest, WithdrawAndDeposit) {
  EXPECT_EQ(Run(bob_, Withdraw{kUsd, A("10000.01")}).reject, RejectCode::kInsufficientBalance);
  EXPECT_EQ(Run(bob_, Withdraw{kUsd, A("0")}).reject, RejectCode::kBadAmount);
  EXPECT_EQ(Run(bob_, Withdraw{kUsd, A("0.5")}).reject, RejectCode::kNone);
  withdrawn_[kUsd.id] = A("0.5");
  EXPECT_EQ(Avail(bob_, kUsd), "9999.5");
  EXPECT_EQ(Run(bob_, Deposit{kUsd, Amount::FromRaw(kU128Max)}).reject, RejectCode::kOverflow);
}

TEST_F(RulesTest, BusinessRejectsFollowPrecedenceAndChangeOnlyTheNonce) {
  struct Case {
    const char* price;
    const char* amount;
    RejectCode want;
  };
  const Case cases[] = {
      {"0", "1", RejectCode::kBadPrice},
      {"100", "0", RejectCode::kBadAmount},
      {"100.001", "0.00001", RejectCode::kBadTick},  // bad tick reported before bad lot
      {"100", "0.00001", RejectCode::kBadLot},
      {"100", "0.0005", RejectCode::kBelowMinimum},
      {"100", "1000", RejectCode::kInsufficientBalance},
  };
  const std::string before = Snapshot();
  for (const Case& c : cases) {
    const uint64_t nonce_before = *state_.GetNonce(bob_);
    EXPECT_EQ(Place(bob_, Side::kBuy, c.price, c.amount).reject, c.want) << c.price << " " << c.amount;
    EXPECT_EQ(*state_.GetNonce(bob_), nonce_before + 1);
  }
  PlaceOrder wrong_market;
  wrong_market.market = MarketId{kUsd, kBtc};
  wrong_market.price = P("1");
  wrong_market.amount = A("1");
  EXPECT_EQ(Run(bob_, wrong_market).reject, RejectCode::kMarketNotFound);
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(RulesTest, HaltedAndClosedMarkets) {
  const Outcome resting = Place(alice_, Side::kSell, "100", "1");
  EXPECT_EQ(Run(op_, SetMarketStatus{kMarket, MarketStatus::kHalted}).reject, RejectCode::kNone);
  EXPECT_EQ(Place(bob_, Side::kBuy, "100", "1").reject, RejectCode::kMarketNotOpen);
  // Cancels still work while halted.
  EXPECT_EQ(Run(alice_, CancelOrder{kMarket, resting.order}).reject, RejectCode::kNone);
  EXPECT_EQ(Run(op_, SetMarketStatus{kMarket, MarketStatus::kClosed}).reject, RejectCode::kNone);
  EXPECT_EQ(Place(bob_, Side::kBuy, "100", "1").reject, RejectCode::kMarketClosed);
  EXPECT_EQ(Run(op_, SetMarketStatus{kMarket, MarketStatus::kOpen}).reject, RejectCode::kMarketClosed);
}

TEST_F(RulesTest, MarketAdminIsValidatedAndOperatorOnly) {
  MarketRecord m;
  m.status = MarketStatus::kOpen;
  m.price_decimals = 10;
  m.amount_decimals = 9;  // 19 > 18
  m.max_makers = 1;
  EXPECT_EQ(Run(op_, CreateMarket{MarketId{Currency{3}, kUsd}, m}).reject, RejectCode::kBadMarketParams);
  m.amount_decimals = 8;
  EXPECT_EQ(Run(op_, CreateMarket{MarketId{Currency{3}, kUsd}, m}).reject, RejectCode::kNone);
  EXPECT_EQ(Run(op_, CreateMarket{MarketId{Currency{3}, kUsd}, m}).reject, RejectCode::kMarketExists);
  EXPECT_EQ(Run(op_, CreateMarket{MarketId{kUsd, kUsd}, m}).reject, RejectCode::kBadMarketParams);
  EXPECT_EQ(TryRun(bob_, CreateMarket{MarketId{Currency{4}, kUsd}, m}).status().code(),
            absl::StatusCode::kPermissionDenied);
  UpdateMarket u{kMarket, A("0.01"), 0, 0, 0};
  EXPECT_EQ(Run(op_, u).reject, RejectCode::kBadMarketParams);  // max_makers 0
  u.max_makers = 3;
  EXPECT_EQ(Run(op_, u).reject, RejectCode::kNone);
  EXPECT_EQ((*state_.GetMarket(kMarket))->max_makers, 3u);
}

TEST_F(RulesTest, StaleNonceIsAnErrorNotAnEvent) {
  Command c;
  c.signer = bob_;
  c.nonce = *state_.GetNonce(bob_);  // reused
  c.body = Withdraw{kUsd, A("1")};
  absl::StatusOr<Outcome> out = Apply(state_, Context{Sequence{1000}, op_}, c);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Avail(bob_, kUsd), "10000");
}

}  // namespace
}  // namespace pom::rules
