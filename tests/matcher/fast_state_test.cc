// FastState's price levels against a plain model, through the State interface the rules use:
// pages and volumes are written and cleared at random over thousands of prices, so closed
// levels leave idle entries and the idle-entry sweep runs many times. After every write the
// accessors, the in-place edit and the price index agree with the model; at checkpoints the
// state's leaves are exactly the model's and the idle entries stay within their bound.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <random>

#include "common/rules/records.h"
#include "matcher/fast_state.h"
#include "tests/testing/random.h"

namespace pom::matcher {
namespace {

using rules::PageRecord;
using rules::Side;

struct ModelLevel {
  std::optional<PageRecord> page;
  Amount volume;
};

TEST(FastState, LevelsAgreeWithAModelAcrossIdleSweeps) {
  const rules::MarketId market{rules::Currency{2}, rules::Currency{1}};
  for (uint64_t seed : testing::TestSeeds({1, 2, 3})) {
    SCOPED_TRACE(testing::SeedBanner(seed));
    std::mt19937_64 rng(seed);
    FastState state;
    rules::MarketRecord record;
    record.price_decimals = 2;
    ASSERT_TRUE(state.SetMarket(market, record).ok());
    const u128 tick = rules::TickOf(record);
    std::map<u128, ModelLevel> model;
    // Prices wander over a window that moves, so most of the ~20k prices used close for good.
    uint64_t window = 0;
    for (int step = 0; step < 60000; ++step) {
      if (step % 200 == 0) {  // the window moves on and the levels it leaves close
        window += 60;
        for (auto it = model.begin(); it != model.end() && it->first < (1000 + window) * tick;) {
          ASSERT_TRUE(state.SetPageVolume(market, Price::FromRaw(it->first), Amount()).ok());
          ASSERT_TRUE(state.SetPage(market, Price::FromRaw(it->first), std::nullopt).ok());
          it = model.erase(it);
        }
      }
      const u128 raw = (1000 + window + rng() % 400) * tick;
      const Price price = Price::FromRaw(raw);
      ModelLevel& m = model[raw];
      switch (rng() % 6) {
        case 0:
        case 1: {  // open or rewrite the level's page
          PageRecord page;
          page.side = m.page ? m.page->side : (rng() % 2 ? Side::kBuy : Side::kSell);
          page.count = static_cast<uint32_t>(rng() % 50 + 1);
          page.head = rules::OrderId{rng() % 1000 + 1};
          ASSERT_TRUE(state.SetPage(market, price, page).ok());
          m.page = page;
          break;
        }
        case 2: {  // edit in place, as the rules' neighbour updates do
          PageRecord* page = state.EditPage(market, price);
          ASSERT_EQ(page != nullptr, m.page.has_value());
          if (page != nullptr) {
            page->tail = rules::OrderId{rng() % 1000 + 1};
            m.page->tail = page->tail;
          }
          break;
        }
        case 3: {
          const Amount v = Amount::FromUnits(rng() % 1000 + 1);
          ASSERT_TRUE(state.SetPageVolume(market, price, v).ok());
          m.volume = v;
          break;
        }
        default: {  // close: volume then page, as RemoveOrder and RemoveLevel do
          ASSERT_TRUE(state.SetPageVolume(market, price, Amount()).ok());
          ASSERT_TRUE(state.SetPage(market, price, std::nullopt).ok());
          m = ModelLevel{};
        }
      }
      absl::StatusOr<std::optional<PageRecord>> got = state.GetPage(market, price);
      ASSERT_TRUE(got.ok());
      ASSERT_EQ(*got, m.page) << "step " << step;
      ASSERT_EQ(*state.GetPageVolume(market, price), m.volume) << "step " << step;

      if (step % 997 == 0 || step == 59999) {
        const FastState::Book& book = *state.FindBook(market);
        size_t pages = 0, volumes = 0, bids = 0;
        for (const auto& [p, l] : model) {
          pages += l.page.has_value();
          bids += l.page && l.page->side == Side::kBuy;
          volumes += !l.volume.IsZero();
          ASSERT_EQ(book.FindPage(p) != nullptr, l.page.has_value());
          ASSERT_EQ(book.VolumeAt(p), l.volume);
        }
        EXPECT_EQ(book.page_count, pages);
        EXPECT_EQ(book.volume_count, volumes);
        EXPECT_EQ(book.bid_prices.size(), bids);
        EXPECT_EQ(book.ask_prices.size(), pages - bids);
        // The leaves hold only live levels: one per page and one per non-zero volume, plus
        // the market's (its orderbook and bestprice leaves are zero here, so absent).
        EXPECT_EQ(StateLeaves(state).size(), 1 + pages + volumes);
        EXPECT_LE(book.levels.size(), FastState::Book::MaxLevelEntries(pages, volumes) + 1);
      }
    }
    EXPECT_GT(window, 8 * FastState::Book::kIdleSlack);  // prices closed: the sweep had work
  }
}

}  // namespace
}  // namespace pom::matcher
