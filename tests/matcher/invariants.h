// Whole-state invariants of the matcher, checked by tests after events:
//  - no book is crossed (best bid < best ask);
//  - the orderbook, bestprice and orderpage leaves equal what the order records hold, and the
//    level links are a sorted list from the best price;
//  - per currency, all balances (fees included) equal the prover's custody
//    (deposits minus withdrawals).
// Returns an empty string when all hold, else what is wrong.
#pragma once

#include <map>
#include <string>

#include "common/rules/ledger.h"
#include "matcher/fast_state.h"

namespace pom::testing {

inline std::string CheckInvariants(const matcher::FastState& state, const rules::CustodyLedger& ledger,
                                   const std::vector<rules::Currency>& currencies) {
  std::string problems;
  auto fail = [&](const std::string& what) { problems += what + "\n"; };
  state.ForEachMarket([&](rules::MarketId id, const matcher::FastState::Book& book) {
    const std::string name = std::to_string(id.base.id) + "/" + std::to_string(id.quote.id);
    u128 bid = 0, ask = 0;
    std::map<u128, u128> volume;
    for (const auto& [order_id, o] : book.orders) {
      (o.side == rules::Side::kBuy ? bid : ask) += o.unfilled.raw();
      volume[o.price.raw()] += o.unfilled.raw();
      if (o.unfilled.IsZero()) fail(name + ": a resting order with nothing unfilled");
    }
    if (book.sizes.bid.raw() != bid || book.sizes.ask.raw() != ask) fail(name + ": orderbook leaf != orders");
    if (volume.size() != book.page_count) fail(name + ": levels != pages");
    for (const auto& [price, v] : volume) {
      if (book.VolumeAt(price).raw() != v) fail(name + ": orderpage leaf != orders");
    }
    if (book.volume_count != volume.size()) fail(name + ": stray orderpage leaves");
    size_t pages = 0, volumes = 0;  // the counts are what the entries hold
    for (const auto& [price, level] : book.levels) {
      pages += level.has_page;
      volumes += !level.volume.IsZero();
    }
    if (pages != book.page_count || volumes != book.volume_count) fail(name + ": level counts");
    // Idle entries (closed levels) are swept before they outnumber live ones by the slack.
    if (book.levels.size() > matcher::FastState::Book::MaxLevelEntries(pages, volumes)) {
      fail(name + ": idle level entries not swept");
    }
    const u128 best_bid = book.bid_prices.Max();
    const u128 best_ask = book.ask_prices.Min();
    if (book.best.bid.raw() != best_bid || book.best.ask.raw() != best_ask) fail(name + ": bestprice leaf != levels");
    if (best_bid != 0 && best_ask != 0 && best_bid >= best_ask) fail(name + ": crossed book");
    // Walk each side's links from the best level: sorted, complete, counts right.
    for (rules::Side side : {rules::Side::kBuy, rules::Side::kSell}) {
      const auto& prices = side == rules::Side::kBuy ? book.bid_prices : book.ask_prices;
      u128 at = side == rules::Side::kBuy ? best_bid : best_ask;
      u128 better = 0;
      size_t levels = 0;
      while (at != 0) {
        const rules::PageRecord* page = book.FindPage(at);
        if (page == nullptr || page->side != side || page->better.raw() != better) {
          fail(name + ": broken level links");
          break;
        }
        uint32_t count = 0;
        for (rules::OrderId o = page->head; !o.IsNone(); ++count) {
          auto order = book.orders.find(o.value);
          if (order == book.orders.end() || order->second.price.raw() != at) {
            fail(name + ": broken order queue");
            break;
          }
          o = order->second.next;
        }
        if (count != page->count) fail(name + ": level count != queue");
        ++levels;
        better = at;
        at = page->worse.raw();
        if (at != 0 && (side == rules::Side::kBuy ? at >= better : at <= better)) fail(name + ": levels out of order");
      }
      if (levels != prices.size()) fail(name + ": levels not all linked");
    }
  });
  std::map<uint32_t, u128> held;
  state.ForEachBalance([&](const rules::AccountId&, rules::Currency c, const rules::Balance& b) {
    held[c.id] += b.available.raw() + b.frozen.raw();
  });
  for (rules::Currency c : currencies) {
    if (held[c.id] != ledger.Custody(c).raw()) {
      fail("currency " + std::to_string(c.id) + ": balances " + FormatDecimal(held[c.id]) +
           " != custody " + FormatDecimal(ledger.Custody(c)));
    }
  }
  return problems;
}

}  // namespace pom::testing
