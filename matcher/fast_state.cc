#include "matcher/fast_state.h"

#include <algorithm>
#include <map>

#include "common/rules/records.h"

namespace pom::matcher {

using rules::AccountId;
using rules::MarketId;

void FastState::ForEachBalance(
    const std::function<void(const AccountId&, rules::Currency, const rules::Balance&)>& f) const {
  for (const auto& [key, balance] : balances_) f(key.user, key.currency, balance);
}

FastState::Book& FastState::BookOfSlow(MarketId market) {
  Book& book = books_[market];
  cache_ = {market, &book};
  return book;
}

FastState::Book* FastState::FindBookSlow(MarketId market) {
  auto it = books_.find(market);
  if (it == books_.end()) return nullptr;
  cache_ = {market, &it->second};
  return &it->second;
}

void FastState::SweepIdle(Book& book) {
  book.levels.EraseIf([](u128, const Book::Level& level) { return !level.has_page && level.volume.IsZero(); });
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
    for (const auto& [price, level] : book.levels) {
      if (!level.volume.IsZero()) add(rules::OrderPageKey(m, Price::FromRaw(price)), rules::PageVolumeValue(level.volume));
      if (level.has_page) add(rules::PageLinkKey(m, Price::FromRaw(price)), rules::RecordHash(level.page));
    }
    for (const auto& [id, order] : book.orders) {
      add(rules::OrderKey(m, rules::OrderId{id}), rules::RecordHash(order));
    }
  });
  return leaves;
}

}  // namespace pom::matcher
