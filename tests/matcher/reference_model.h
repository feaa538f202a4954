// A naive model of pom's rules for differential testing, written apart from the engine: plain
// std::map books (price -> FIFO vector), balances in a std::map, matching by walking sorted
// levels. It knows nothing of leaves, links or hints. It shares only the arithmetic helpers of
// common/money.h (tested on their own against a big-integer reference).
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <vector>

#include "common/rules/commands.h"
#include "common/rules/rules.h"

namespace pom::testing {

class ReferenceModel {
 public:
  explicit ReferenceModel(rules::AccountId op) : op_(op) {}

  rules::Outcome Apply(uint64_t sequence, const rules::Command& c);

  rules::Balance BalanceOf(const rules::AccountId& user, rules::Currency c) const {
    auto it = balances_.find({user.bytes, c.id});
    if (it == balances_.end()) return {};
    return {Amount::FromRaw(it->second.first), Amount::FromRaw(it->second.second)};
  }
  size_t resting_orders() const;

  // The model's view of a market's book: best prices, sizes, and the volume at one price.
  rules::BestPrices Best(rules::MarketId m) const;
  rules::BookSizes Sizes(rules::MarketId m) const;
  Amount VolumeAt(rules::MarketId m, Price price) const;

 private:
  struct Order {
    uint64_t id;
    rules::AccountId owner;
    rules::Side side;
    u128 price, amount, unfilled;
  };
  struct Book {
    rules::MarketRecord record;
    std::map<u128, std::deque<Order>> bids, asks;  // price -> FIFO
  };
  using Key = std::pair<std::array<uint8_t, 32>, uint32_t>;

  u128& Avail(const rules::AccountId& u, uint32_t c) { return balances_[{u.bytes, c}].first; }
  u128& Frozen(const rules::AccountId& u, uint32_t c) { return balances_[{u.bytes, c}].second; }
  Order* FindOrder(Book& b, uint64_t id, std::map<u128, std::deque<Order>>** side);
  void Erase(std::map<u128, std::deque<Order>>& side, u128 price, uint64_t id);
  rules::Outcome Place(uint64_t seq, const rules::AccountId& taker, const rules::PlaceOrder& p);

  rules::AccountId op_;
  std::map<Key, std::pair<u128, u128>> balances_;
  std::map<std::pair<uint32_t, uint32_t>, Book> books_;
};

}  // namespace pom::testing
