#include "matcher/fast_state.h"

#include <algorithm>
#include <map>

#include "common/rules/records.h"

namespace pom::matcher {

using rules::AccountId;
using rules::MarketId;

absl::StatusOr<rules::PriceNeighbours> FastState::FindNeighbours(MarketId m, rules::Side side,
                                                                 Price price) {
  rules::PriceNeighbours n;
  Book* book = FindBookForUpdate(m);
  if (book == nullptr) return n;
  const absl::btree_set<u128>& prices = book->PricesOf(side);
  // One search: the first level at or above `price` gives both neighbours, and is where the
  // new level goes (kept as SetPage's insertion hint).
  absl::btree_set<u128>::const_iterator at = book->LowerBoundNearTop(side, price.raw());
  auto above = at != prices.end() && *at == price.raw() ? std::next(at) : at;
  const Price higher = above == prices.end() ? Price() : Price::FromRaw(*above);
  const Price lower = at == prices.begin() ? Price() : Price::FromRaw(*std::prev(at));
  book->insert_hint.Set(side, price.raw(), at, book->prices_version);
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
