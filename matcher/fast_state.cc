#include "matcher/fast_state.h"

#include <algorithm>
#include <map>

#include "common/rules/records.h"

namespace pom::matcher {

using rules::AccountId;
using rules::MarketId;

absl::StatusOr<rules::Balance> FastState::GetBalance(const AccountId& user, rules::Currency c) {
  auto it = balances_.find(BalanceKey{user, c});
  return it == balances_.end() ? rules::Balance() : it->second;
}

absl::Status FastState::SetBalance(const AccountId& user, rules::Currency c, const rules::Balance& b) {
  if (b.available.IsZero() && b.frozen.IsZero()) {
    balances_.erase(BalanceKey{user, c});
  } else {
    balances_.insert_or_assign(BalanceKey{user, c}, b);
  }
  return absl::OkStatus();
}

absl::StatusOr<rules::BookSizes> FastState::GetBookSizes(MarketId m) {
  auto it = books_.find(m);
  return it == books_.end() ? rules::BookSizes() : it->second.sizes;
}

absl::Status FastState::SetBookSizes(MarketId m, const rules::BookSizes& sizes) {
  BookOf(m).sizes = sizes;
  return absl::OkStatus();
}

absl::StatusOr<rules::BestPrices> FastState::GetBestPrices(MarketId m) {
  auto it = books_.find(m);
  return it == books_.end() ? rules::BestPrices() : it->second.best;
}

absl::Status FastState::SetBestPrices(MarketId m, const rules::BestPrices& best) {
  BookOf(m).best = best;
  return absl::OkStatus();
}

absl::StatusOr<Amount> FastState::GetPageVolume(MarketId m, Price price) {
  auto it = books_.find(m);
  if (it == books_.end()) return Amount();
  auto v = it->second.volumes.find(price.raw());
  return v == it->second.volumes.end() ? Amount() : v->second;
}

absl::Status FastState::SetPageVolume(MarketId m, Price price, Amount volume) {
  Book& book = BookOf(m);
  if (volume.IsZero()) {
    book.volumes.erase(price.raw());
  } else {
    book.volumes.insert_or_assign(price.raw(), volume);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<rules::OrderRecord>> FastState::GetOrder(MarketId m, rules::OrderId id) {
  auto it = books_.find(m);
  if (it == books_.end()) return std::nullopt;
  auto o = it->second.orders.find(id.value);
  if (o == it->second.orders.end()) return std::nullopt;
  return o->second;
}

absl::Status FastState::SetOrder(MarketId m, rules::OrderId id,
                                 const std::optional<rules::OrderRecord>& order) {
  Book& book = BookOf(m);
  if (order) {
    book.orders.insert_or_assign(id.value, *order);
  } else {
    book.orders.erase(id.value);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<rules::PageRecord>> FastState::GetPage(MarketId m, Price price) {
  auto it = books_.find(m);
  if (it == books_.end()) return std::nullopt;
  auto p = it->second.pages.find(price.raw());
  if (p == it->second.pages.end()) return std::nullopt;
  return p->second;
}

absl::Status FastState::SetPage(MarketId m, Price price, const std::optional<rules::PageRecord>& page) {
  Book& book = BookOf(m);
  auto it = book.pages.find(price.raw());
  // The price sets change only when a level appears, disappears or changes side; most calls
  // update the record of a level that stays.
  const bool listed = it != book.pages.end() && page && page->side == it->second.side;
  if (it != book.pages.end() && !listed) {
    (it->second.side == rules::Side::kBuy ? book.bid_prices : book.ask_prices).erase(price.raw());
  }
  if (page) {
    if (!listed) (page->side == rules::Side::kBuy ? book.bid_prices : book.ask_prices).insert(price.raw());
    if (it != book.pages.end()) {
      it->second = *page;
    } else {
      book.pages.emplace(price.raw(), *page);
    }
  } else if (it != book.pages.end()) {
    book.pages.erase(it);
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> FastState::GetNonce(const AccountId& user) {
  auto it = nonces_.find(user);
  return it == nonces_.end() ? 0 : it->second;
}

absl::Status FastState::SetNonce(const AccountId& user, uint64_t nonce) {
  nonces_.insert_or_assign(user, nonce);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<rules::MarketRecord>> FastState::GetMarket(MarketId m) {
  auto it = books_.find(m);
  if (it == books_.end() || !it->second.exists) return std::nullopt;
  return it->second.record;
}

absl::Status FastState::SetMarket(MarketId m, const rules::MarketRecord& record) {
  Book& book = BookOf(m);
  book.record = record;
  book.exists = true;
  return absl::OkStatus();
}

absl::StatusOr<rules::PriceNeighbours> FastState::FindNeighbours(MarketId m, rules::Side side,
                                                                 Price price) {
  rules::PriceNeighbours n;
  auto it = books_.find(m);
  if (it == books_.end()) return n;
  const absl::btree_set<u128>& prices =
      side == rules::Side::kBuy ? it->second.bid_prices : it->second.ask_prices;
  auto above = prices.upper_bound(price.raw());
  const Price higher = above == prices.end() ? Price() : Price::FromRaw(*above);
  auto below = prices.lower_bound(price.raw());
  const Price lower = below == prices.begin() ? Price() : Price::FromRaw(*std::prev(below));
  // Bids: higher is better. Asks: lower is better.
  if (side == rules::Side::kBuy) {
    n.better = higher;
    n.worse = lower;
  } else {
    n.better = lower;
    n.worse = higher;
  }
  return n;
}

void FastState::ForEachBalance(
    const std::function<void(const AccountId&, rules::Currency, const rules::Balance&)>& f) const {
  for (const auto& [key, balance] : balances_) f(key.user, key.currency, balance);
}

const FastState::Book* FastState::FindBook(MarketId m) const {
  auto it = books_.find(m);
  return it == books_.end() ? nullptr : &it->second;
}

void FastState::ForEachMarket(const std::function<void(MarketId, const Book&)>& f) const {
  // Deterministic order for callers that print or hash.
  std::map<MarketId, const Book*> sorted;
  for (const auto& [id, book] : books_) sorted.emplace(id, &book);
  for (const auto& [id, book] : sorted) f(id, *book);
}

std::vector<smt::SmtLeaf> StateLeaves(const FastState& state) {
  std::vector<smt::SmtLeaf> leaves;
  leaves.reserve(state.balance_count() * 2);
  auto add = [&leaves](const rules::RawKey& key, const Bytes32& value) {
    if (value != Bytes32()) leaves.push_back({rules::TreeKey(key), value});
  };
  state.ForEachBalance([&](const rules::AccountId& user, rules::Currency c, const rules::Balance& b) {
    add(rules::AccountKey(user, c), rules::BalanceValue(b));
  });
  state.ForEachNonce([&](const rules::AccountId& user, uint64_t nonce) {
    add(rules::NonceKey(user), rules::NonceValue(nonce));
  });
  state.ForEachMarket([&](rules::MarketId m, const FastState::Book& book) {
    if (book.exists) add(rules::MarketKey(m), rules::RecordHash(book.record));
    add(rules::OrderbookKey(m), rules::BookSizesValue(book.sizes));
    add(rules::BestPriceKey(m), rules::BestPricesValue(book.best));
    for (const auto& [price, volume] : book.volumes) {
      add(rules::OrderPageKey(m, Price::FromRaw(price)), rules::PageVolumeValue(volume));
    }
    for (const auto& [price, page] : book.pages) {
      add(rules::PageLinkKey(m, Price::FromRaw(price)), rules::RecordHash(page));
    }
    for (const auto& [id, order] : book.orders) {
      add(rules::OrderKey(m, rules::OrderId{id}), rules::RecordHash(order));
    }
  });
  return leaves;
}

}  // namespace pom::matcher
