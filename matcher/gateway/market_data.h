// What the WebSocket gateway publishes, derived only from the events' proven leaves and
// outcomes (never from the engine's private state after start-up): per market the price levels
// (orderpage leaves give each level's volume, pagelink records its side), a per-market sequence
// that grows by exactly 1 with every message that changes the book, the CRC32 of the top 10
// levels (docs/websocket-api.md "Book checksum"), trades (the fills), every account's open
// orders (order leaves and their records) and each account's executions.
// Thread-safety: not thread-safe; the gateway's strand owns it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "common/rules/proof.h"
#include "matcher/fast_state.h"

namespace pom::gateway {

struct Level {
  u128 price = 0;
  u128 amount = 0;  // 0 in a delta: the level is gone
  friend bool operator==(const Level&, const Level&) = default;
};

struct BookTop {
  std::vector<Level> bids;  // best (highest) first
  std::vector<Level> asks;  // best (lowest) first
};

// One book message: the levels that changed in one event, in the order bids then asks.
struct BookDelta {
  rules::MarketId market;
  uint64_t market_sequence = 0;  // previous + 1
  uint64_t event = 0;            // the event's sequence
  std::vector<Level> bids;
  std::vector<Level> asks;
  uint32_t checksum = 0;  // of the top 10 levels after the change
};

struct Trade {
  rules::MarketId market;
  uint64_t event = 0;
  u128 price = 0;
  u128 amount = 0;
  rules::Side taker_side = rules::Side::kBuy;
  uint64_t maker_order = 0;
  uint64_t taker_order = 0;
};

// One private execution report: to `account`, about one event.
struct Execution {
  rules::AccountId account;
  uint64_t event = 0;
  Bytes32 root;            // the root after the event
  std::string kind;        // "order", "fill", "cancel", "amend", "deposit", "withdraw", "market"
  uint32_t reject = 0;     // RejectCode of the event (0: accepted)
  rules::MarketId market;
  uint64_t order = 0;
  uint64_t client_order_id = 0;
  std::vector<rules::Fill> fills;  // "order": the taker's fills; "fill": this maker's fill
  u128 resting = 0;
  std::vector<uint64_t> cancelled;
};

struct Published {
  std::vector<BookDelta> books;
  std::vector<Trade> trades;
  std::vector<Execution> executions;
};

class MarketData {
 public:
  // The books and open orders of `state` (the engine's, read on its thread at `sequence`).
  void Load(const matcher::FastState& state, uint64_t sequence);

  // Applies one event (in sequence order) and returns what to publish.
  Published Apply(const rules::EventProof& event);

  BookTop Top(rules::MarketId market, size_t depth) const;
  uint64_t MarketSequence(rules::MarketId market) const;
  uint64_t last_event() const { return last_event_; }
  bool HasMarket(rules::MarketId market) const { return books_.contains(market); }
  std::vector<rules::MarketId> Markets() const;

  struct OpenOrder {
    rules::MarketId market;
    uint64_t id = 0;
    rules::OrderRecord record;
  };
  // `account`'s resting orders, by id.
  std::vector<OpenOrder> OpenOrders(const rules::AccountId& account) const;

  // The checksum input of docs/websocket-api.md, and its CRC32.
  static std::string ChecksumInput(const BookTop& top10);
  static uint32_t Checksum(const BookTop& top10);

 private:
  struct Book {
    absl::btree_map<u128, u128, std::greater<u128>> bids;  // price -> amount, best first
    absl::btree_map<u128, u128> asks;
    absl::flat_hash_map<u128, rules::Side, matcher::U128Hash> side_of;  // every known level
    uint64_t sequence = 0;
  };
  using OrderKey = std::pair<rules::MarketId, uint64_t>;
  struct OrderKeyHash {
    size_t operator()(const OrderKey& k) const {
      return absl::Hash<std::tuple<uint32_t, uint32_t, uint64_t>>()({k.first.base.id, k.first.quote.id, k.second});
    }
  };

  static BookTop TopOf(const Book& book, size_t depth);
  void SetOrder(rules::MarketId market, uint64_t id, const rules::OrderRecord& record);
  void RemoveOrder(const rules::AccountId& owner, rules::MarketId market, uint64_t id);

  absl::flat_hash_map<rules::MarketId, Book> books_;
  absl::flat_hash_map<rules::AccountId, absl::flat_hash_map<OrderKey, rules::OrderRecord, OrderKeyHash>> open_;
  uint64_t last_event_ = 0;
};

}  // namespace pom::gateway
