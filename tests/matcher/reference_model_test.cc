// Differential test (issue 3, acceptance 1 and 2): the engine and a naive reference model run
// the same generated streams, 20 seeds x 50,000 events. After every event they must agree on the
// outcome (reject code, fills with prices, amounts and fees, resting amount, cancelled orders,
// STP stop) and on the balances of every account the event involved; and after every event:
//  - the event's book is not crossed, its best prices and sizes equal the model's, and the
//    orderpage volume at every price the event touched equals the model's;
//  - per currency, the running total of all balances equals the prover's custody.
// At the end every balance is compared and the full invariant walk runs.
// Replay one seed with POM_SEED=<n>.
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "bench/workload.h"
#include "matcher/engine.h"
#include "tests/matcher/invariants.h"
#include "tests/matcher/reference_model.h"
#include "tests/testing/random.h"

namespace pom::matcher {
namespace {

using namespace ::pom::rules;  // NOLINT

constexpr uint32_t kMarkets = 3;

struct Coverage {
  std::set<size_t> kinds;
  std::set<std::pair<uint8_t, uint8_t>> type_tif;
  std::set<uint8_t> stp_stops;    // modes seen stopping a taker
  std::set<uint8_t> stp_cancels;  // modes seen cancelling a maker
  std::set<RejectCode> rejects;
  uint64_t fills = 0;
};

std::vector<Currency> AllCurrencies() {
  std::vector<Currency> out = {Currency{1}};
  for (uint32_t m = 0; m < kMarkets; ++m) out.push_back(Currency{m + 2});
  return out;
}

void RunSeed(uint64_t seed, uint64_t events, Coverage& cov) {
  workload::Options o;
  o.seed = seed;
  o.events = events;
  o.users = 50;
  o.markets = kMarkets;
  o.sign = false;
  const workload::Workload w = workload::Generate(o);
  EngineOptions eo;
  eo.prover_id = w.genesis.prover_id;
  eo.operator_account = w.genesis.operator_key;
  eo.prove = false;
  eo.check_signatures = false;
  Engine engine(eo);
  for (const auto& b : w.genesis.chain_balances) ASSERT_TRUE(engine.CreditChain(b.user, b.currency, b.amount).ok());
  testing::ReferenceModel model(w.genesis.operator_key);

  // Running per-currency totals of all balances, from the engine's own balances.
  std::map<std::pair<std::array<uint8_t, 32>, uint32_t>, u128> last;
  std::map<uint32_t, u128> total;
  auto refresh = [&](const AccountId& u, Currency c) {
    const Balance b = *const_cast<FastState&>(engine.state()).GetBalance(u, c);
    u128& prev = last[{u.bytes, c.id}];
    total[c.id] = total[c.id] - prev + b.available.raw() + b.frozen.raw();
    prev = b.available.raw() + b.frozen.raw();
    const Balance m = model.BalanceOf(u, c);
    ASSERT_EQ(b, m) << "balance of " << ToHex(u.bytes).substr(0, 8) << " in currency " << c.id;
  };

  for (size_t i = 0; i < w.commands.size(); ++i) {
    const Command& c = w.commands[i];
    absl::StatusOr<Outcome> got = engine.SubmitUnproved(c);
    ASSERT_TRUE(got.ok()) << "event " << i + 1 << ": " << got.status();
    const Outcome want = model.Apply(i + 1, c);
    ASSERT_EQ(static_cast<int>(got->reject), static_cast<int>(want.reject)) << "event " << i + 1;
    ASSERT_EQ(got->fills.size(), want.fills.size()) << "event " << i + 1;
    for (size_t f = 0; f < want.fills.size(); ++f) {
      ASSERT_TRUE(got->fills[f] == want.fills[f]) << "event " << i + 1 << " fill " << f;
    }
    ASSERT_TRUE(*got == want) << "event " << i + 1 << " outcome";

    // Accounts and prices the event involved.
    std::vector<Currency> currencies;
    std::optional<MarketId> market;
    std::vector<Price> prices;
    if (const auto* p = std::get_if<PlaceOrder>(&c.body)) {
      market = p->market;
      if (!p->price.IsZero()) prices.push_back(p->price);
      cov.type_tif.insert({static_cast<uint8_t>(p->type), static_cast<uint8_t>(p->time_in_force)});
      if (got->taker_stopped) cov.stp_stops.insert(static_cast<uint8_t>(p->stp));
      if (!got->cancelled.empty()) cov.stp_cancels.insert(static_cast<uint8_t>(p->stp));
    } else if (const auto* x = std::get_if<CancelOrder>(&c.body)) {
      market = x->market;
    } else if (const auto* a = std::get_if<AmendOrder>(&c.body)) {
      market = a->market;
    } else if (const auto* wd = std::get_if<Withdraw>(&c.body)) {
      currencies.push_back(wd->currency);
    } else if (const auto* d = std::get_if<Deposit>(&c.body)) {
      currencies.push_back(d->currency);
    }
    if (market) {
      currencies.push_back(market->base);
      currencies.push_back(market->quote);
    }
    std::vector<AccountId> accounts = {c.signer, w.genesis.operator_key};
    for (const Fill& f : got->fills) {
      accounts.push_back(f.maker);
      prices.push_back(f.price);
    }
    for (const AccountId& a : accounts) {
      for (Currency cur : currencies) {
        refresh(a, cur);
        if (::testing::Test::HasFatalFailure()) return;
      }
    }
    for (Currency cur : AllCurrencies()) {
      ASSERT_EQ(FormatDecimal(total[cur.id]), FormatDecimal(engine.ledger().Custody(cur)))
          << "event " << i + 1 << ": conservation of currency " << cur.id;
    }
    if (market && engine.state().FindBook(*market) != nullptr) {
      const FastState::Book& book = *engine.state().FindBook(*market);
      ASSERT_TRUE(book.best.bid.IsZero() || book.best.ask.IsZero() || book.best.bid < book.best.ask)
          << "event " << i + 1 << ": crossed book";
      ASSERT_TRUE(book.best == model.Best(*market)) << "event " << i + 1 << ": bestprice leaf";
      ASSERT_TRUE(book.sizes == model.Sizes(*market)) << "event " << i + 1 << ": orderbook leaf";
      for (Price p : prices) {
        const Amount engine_volume = book.VolumeAt(p.raw());
        ASSERT_EQ(engine_volume, model.VolumeAt(*market, p)) << "event " << i + 1 << ": orderpage leaf";
      }
    }
    cov.kinds.insert(c.body.index());
    cov.rejects.insert(got->reject);
    cov.fills += got->fills.size();
  }
  // Every balance, and the full walk of every book.
  engine.state().ForEachBalance([&](const AccountId& u, Currency c, const Balance& b) {
    EXPECT_TRUE(b == model.BalanceOf(u, c));
  });
  EXPECT_EQ(testing::CheckInvariants(engine.state(), engine.ledger(), AllCurrencies()), "");
  std::printf("[ reference ] %s events=%zu resting_orders=%zu\n", testing::SeedBanner(seed).c_str(),
              w.commands.size(), model.resting_orders());
}

TEST(ReferenceModel, EngineAgreesWithNaiveModelOnEveryEvent) {
  std::vector<uint64_t> seeds;
  for (uint64_t s = 1; s <= 20; ++s) seeds.push_back(1000 + s);
  Coverage cov;
  for (uint64_t seed : testing::TestSeeds(seeds)) {
    SCOPED_TRACE(testing::SeedBanner(seed));
    RunSeed(seed, 50'000, cov);
    if (::testing::Test::HasFatalFailure()) return;
  }
  // Coverage: every command kind, order type and time in force, every STP mode stopping a
  // taker or cancelling a maker, and every reject code but `overflow`, which conservation makes
  // unreachable through chain-backed deposits (RulesTest.WithdrawAndDeposit covers it).
  EXPECT_EQ(cov.kinds.size(), 8u);
  for (uint8_t tif = 0; tif < 4; ++tif) EXPECT_TRUE(cov.type_tif.contains({0, tif})) << "limit tif " << int(tif);
  EXPECT_TRUE(cov.type_tif.contains({1, 1})) << "market orders";
  EXPECT_TRUE(cov.stp_stops.contains(0) && cov.stp_stops.contains(2));
  EXPECT_TRUE(cov.stp_cancels.contains(1) && cov.stp_cancels.contains(2));
  for (RejectCode code : {RejectCode::kNone, RejectCode::kMarketNotFound, RejectCode::kBadAmount,
                          RejectCode::kBadTick, RejectCode::kBadLot, RejectCode::kBelowMinimum,
                          RejectCode::kOrderNotFound, RejectCode::kNotOrderOwner, RejectCode::kInsufficientBalance,
                          RejectCode::kPostOnlyWouldCross, RejectCode::kFokNotFillable,
                          RejectCode::kMarketNotOpen, RejectCode::kMarketClosed, RejectCode::kMarketExists,
                          RejectCode::kBadMarketParams, RejectCode::kAmendNotReduce, RejectCode::kNoLiquidity,
                          RejectCode::kBadPrice}) {
    EXPECT_TRUE(cov.rejects.contains(code)) << "reject " << RejectCodeName(code);
  }
  EXPECT_GT(cov.fills, 100'000u);
}

}  // namespace
}  // namespace pom::matcher
