// The gateway's market data, derived only from proofs, must equal the engine's own books and
// orders after every event of generated streams; each book message advances its market's
// sequence by exactly 1; the checksum follows docs/websocket-api.md.
#include "matcher/gateway/market_data.h"

#include <map>

#include "bench/workload.h"
#include "gtest/gtest.h"
#include "matcher/engine.h"

namespace pom::gateway {
namespace {

TEST(MarketData, ChecksumOfTheDocumentedExample) {
  BookTop top;
  top.bids.push_back({static_cast<u128>(1005) * 100'000'000'000'000'000ull, static_cast<u128>(2) * 1'000'000'000'000'000'000ull});
  top.asks.push_back({static_cast<u128>(101) * 1'000'000'000'000'000'000ull, 1'000'000'000'000'000'000ull});
  EXPECT_EQ(MarketData::ChecksumInput(top), "b100.5:2;a101:1;");
  EXPECT_EQ(MarketData::Checksum(top), 3521007854u);  // zlib.crc32(b"b100.5:2;a101:1;")
  EXPECT_EQ(MarketData::Checksum(BookTop()), 0u);
}

// The engine's book of `market`, all levels, as BookTop.
BookTop EngineBook(const matcher::FastState& state, rules::MarketId market) {
  BookTop top;
  const matcher::FastState::Book* book = state.FindBook(market);
  if (book == nullptr) return top;
  book->bid_prices.ForEachDescending([&](u128 p) {
    top.bids.push_back({p, book->VolumeAt(p).raw()});
    return true;
  });
  book->ask_prices.ForEachAscending([&](u128 p) {
    top.asks.push_back({p, book->VolumeAt(p).raw()});
    return true;
  });
  return top;
}

TEST(MarketData, FollowsTheEnginesBooksAndOrdersFromProofsAlone) {
  for (uint64_t seed : {3, 4}) {
    workload::Options o;
    o.seed = seed;
    o.events = 4000;
    o.users = 12;
    o.markets = 2;
    o.sign = false;
    const workload::Workload w = workload::Generate(o);
    matcher::EngineOptions eo;
    eo.prover_id = w.genesis.prover_id;
    eo.operator_account = w.genesis.operator_key;
    eo.check_signatures = false;
    matcher::Engine engine(eo);
    for (const auto& b : w.genesis.chain_balances) ASSERT_TRUE(engine.CreditChain(b.user, b.currency, b.amount).ok());
    MarketData data;
    // Start part-way, from the engine's state, as the gateway does at start-up.
    size_t i = 0;
    for (; i < w.commands.size() / 3; ++i) ASSERT_TRUE(engine.Submit(w.commands[i]).ok());
    data.Load(engine.state(), engine.sequence());
    std::map<rules::MarketId, uint64_t> sequences;
    uint64_t trades = 0, deltas = 0;
    for (; i < w.commands.size(); ++i) {
      absl::StatusOr<rules::EventProof> p = engine.Submit(w.commands[i]);
      ASSERT_TRUE(p.ok());
      const Published pub = data.Apply(*p);
      trades += pub.trades.size();
      ASSERT_EQ(pub.trades.size(), p->outcome.fills.size());
      ASSERT_FALSE(pub.executions.empty());
      EXPECT_EQ(pub.executions[0].account, p->command.signer);
      for (const BookDelta& d : pub.books) {
        ++deltas;
        EXPECT_EQ(d.market_sequence, ++sequences[d.market]) << "event " << p->sequence.value;
        EXPECT_EQ(d.checksum, MarketData::Checksum(data.Top(d.market, 10)));
      }
      for (rules::MarketId market : data.Markets()) {
        const BookTop mine = data.Top(market, 1'000'000), theirs = EngineBook(engine.state(), market);
        ASSERT_EQ(mine.bids, theirs.bids) << "event " << p->sequence.value;
        ASSERT_EQ(mine.asks, theirs.asks) << "event " << p->sequence.value;
      }
    }
    EXPECT_GT(trades, 100u);
    EXPECT_GT(deltas, 1000u);
    // Open orders per account equal the engine's resting orders.
    std::map<std::pair<std::string, uint64_t>, u128> engine_orders, my_orders;
    engine.state().ForEachMarket([&](rules::MarketId, const matcher::FastState::Book& book) {
      for (const auto& [id, order] : book.orders) engine_orders[{ToHex(order.owner.bytes), id}] = order.unfilled.raw();
    });
    for (const auto& user : w.genesis.chain_balances) {
      for (const MarketData::OpenOrder& order : data.OpenOrders(user.user)) {
        my_orders[{ToHex(user.user.bytes), order.id}] = order.record.unfilled.raw();
      }
    }
    EXPECT_EQ(my_orders, engine_orders);
    EXPECT_FALSE(engine_orders.empty());
  }
}

}  // namespace
}  // namespace pom::gateway
