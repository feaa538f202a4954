// The matcher's in-memory state: every leaf kind in hash maps (O(1) access to any order, level,
// balance, nonce or market, so cancel by id is O(1)), plus an ordered index of the price
// levels of each book side, which answers the rules' neighbour hint in O(log levels). Best
// price and the next level come from the bestprice leaf and the level links in O(1). Nothing
// scans a book or the accounts per event.
// Thread-safety: not thread-safe; owned by the engine thread.
#pragma once

#include <cstdint>
#include <functional>

#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "common/rules/state.h"
#include "common/smt/multiproof.h"

namespace pom::matcher {

// absl::Hash has no unsigned __int128 in strict C++20 mode.
struct U128Hash {
  size_t operator()(u128 v) const {
    return absl::Hash<std::pair<uint64_t, uint64_t>>()(
        {static_cast<uint64_t>(v), static_cast<uint64_t>(v >> 64)});
  }
};

class FastState final : public rules::State {
 public:
  absl::StatusOr<rules::Balance> GetBalance(const rules::AccountId& user,
                                            rules::Currency currency) override;
  absl::Status SetBalance(const rules::AccountId& user, rules::Currency currency,
                          const rules::Balance& b) override;
  absl::StatusOr<rules::BookSizes> GetBookSizes(rules::MarketId market) override;
  absl::Status SetBookSizes(rules::MarketId market, const rules::BookSizes& sizes) override;
  absl::StatusOr<rules::BestPrices> GetBestPrices(rules::MarketId market) override;
  absl::Status SetBestPrices(rules::MarketId market, const rules::BestPrices& best) override;
  absl::StatusOr<Amount> GetPageVolume(rules::MarketId market, Price price) override;
  absl::Status SetPageVolume(rules::MarketId market, Price price, Amount volume) override;
  absl::StatusOr<std::optional<rules::OrderRecord>> GetOrder(rules::MarketId market,
                                                             rules::OrderId id) override;
  absl::Status SetOrder(rules::MarketId market, rules::OrderId id,
                        const std::optional<rules::OrderRecord>& order) override;
  absl::StatusOr<std::optional<rules::PageRecord>> GetPage(rules::MarketId market,
                                                           Price price) override;
  absl::Status SetPage(rules::MarketId market, Price price,
                       const std::optional<rules::PageRecord>& page) override;
  absl::StatusOr<uint64_t> GetNonce(const rules::AccountId& user) override;
  absl::Status SetNonce(const rules::AccountId& user, uint64_t nonce) override;
  absl::StatusOr<std::optional<rules::MarketRecord>> GetMarket(rules::MarketId market) override;
  absl::Status SetMarket(rules::MarketId market, const rules::MarketRecord& record) override;
  absl::StatusOr<rules::PriceNeighbours> FindNeighbours(rules::MarketId market, rules::Side side,
                                                        Price price) override;

  // The last nonce `user` used (0: none), without the State interface's status.
  uint64_t NonceOf(const rules::AccountId& user) const {
    auto it = nonces_.find(user);
    return it == nonces_.end() ? 0 : it->second;
  }
  void ForEachNonce(const std::function<void(const rules::AccountId&, uint64_t)>& f) const {
    for (const auto& [user, nonce] : nonces_) f(user, nonce);
  }
  size_t balance_count() const { return balances_.size(); }

  // For tests and tools: every non-zero balance, and a market's book.
  void ForEachBalance(
      const std::function<void(const rules::AccountId&, rules::Currency, const rules::Balance&)>& f)
      const;
  struct Book {
    rules::MarketRecord record;
    rules::BookSizes sizes;
    rules::BestPrices best;
    absl::flat_hash_map<u128, rules::PageRecord, U128Hash> pages;
    absl::flat_hash_map<u128, Amount, U128Hash> volumes;
    absl::flat_hash_map<uint64_t, rules::OrderRecord> orders;
    absl::btree_set<u128> bid_prices;  // levels with a page, per side
    absl::btree_set<u128> ask_prices;
    bool exists = false;
  };
  const Book* FindBook(rules::MarketId market) const;
  void ForEachMarket(const std::function<void(rules::MarketId, const Book&)>& f) const;

 private:
  struct BalanceKey {
    rules::AccountId user;
    rules::Currency currency;
    friend bool operator==(const BalanceKey&, const BalanceKey&) = default;
    template <typename H>
    friend H AbslHashValue(H h, const BalanceKey& k) {
      return H::combine(std::move(h), k.user, k.currency);
    }
  };

  Book& BookOf(rules::MarketId market) { return books_[market]; }

  absl::flat_hash_map<BalanceKey, rules::Balance> balances_;
  absl::flat_hash_map<rules::AccountId, uint64_t> nonces_;
  absl::flat_hash_map<rules::MarketId, Book> books_;
};

// Every non-zero tree leaf (key and value) that `state` implies, in no particular order: building
// a tree from them gives the root of the state.
std::vector<smt::SmtLeaf> StateLeaves(const FastState& state);

}  // namespace pom::matcher
