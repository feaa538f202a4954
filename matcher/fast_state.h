// The matcher's in-memory state: every leaf kind in hash maps (O(1) access to any order, level,
// balance, nonce or market, so cancel by id is O(1)), plus an ordered index of the price
// levels of each book side (PriceIndex), which answers the rules' neighbour hint in O(1) for
// levels on the market's tick near the book, O(log levels) otherwise. Best
// price and the next level come from the bestprice leaf and the level links in O(1). Nothing
// scans a book or the accounts per event.
// Thread-safety: not thread-safe; owned by the engine thread.
#pragma once

#include <cstdint>
#include <functional>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "common/rules/state.h"
#include "common/smt/multiproof.h"
#include "matcher/cached_map.h"
#include "matcher/price_index.h"

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
  FastState() = default;
  // Copies and moves start with an empty book cache (it points into the source's books). They
  // name every member: a member added later must be added here too.
  FastState(const FastState& other) : balances_(other.balances_), nonces_(other.nonces_), books_(other.books_) {}
  FastState(FastState&& other) noexcept
      : balances_(std::move(other.balances_)), nonces_(std::move(other.nonces_)), books_(std::move(other.books_)) {
    other.cache_ = {};
  }
  FastState& operator=(const FastState& other) {
    if (this != &other) *this = FastState(other);
    return *this;
  }
  FastState& operator=(FastState&& other) noexcept {
    balances_ = std::move(other.balances_);
    nonces_ = std::move(other.nonces_);
    books_ = std::move(other.books_);
    cache_ = {};
    other.cache_ = {};
    return *this;
  }

  // The State accessors, defined below so that the rules instantiated for FastState
  // (rules::ApplyTo) inline them. None fails.
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
  // Writes of a present record without building an optional (the rules instantiated for
  // FastState pick these; a temporary optional copied the record through the stack).
  __attribute__((always_inline)) absl::Status SetOrder(rules::MarketId market, rules::OrderId id,
                                                      const rules::OrderRecord& order) {
    BookOf(market).orders.Put(id.value, order);
    return absl::OkStatus();
  }
  __attribute__((always_inline)) absl::Status SetPage(rules::MarketId market, Price price,
                                                     const rules::PageRecord& page) {
    WritePage(market, price, &page);
    return absl::OkStatus();
  }

  // In-place edits for the rules (book_ops.h's UpdatePage and UpdateOrder): the stored record,
  // or nullptr if absent. Valid until the next write to the book; an edit must not change a
  // level's side (its price index entry depends on it).
  __attribute__((always_inline)) rules::PageRecord* EditPage(rules::MarketId market, Price price) {
    Book* book = FindBookForUpdate(market);
    if (book == nullptr) return nullptr;
    Book::Level* level = book->levels.Find(price.raw());
    return level != nullptr && level->has_page ? &level->page : nullptr;
  }
  __attribute__((always_inline)) rules::OrderRecord* EditOrder(rules::MarketId market, rules::OrderId id) {
    Book* book = FindBookForUpdate(market);
    return book == nullptr ? nullptr : book->orders.Find(id.value);
  }

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
    // A price's pagelink record and orderpage volume in one entry: the rules read and write
    // both for the same price, so one probe (and the map's remembered entry) serves them.
    struct Level {
      rules::PageRecord page;
      Amount volume;
      bool has_page = false;
    };
    // An entry with neither a page nor volume is idle: a level that closed. It stays, so that
    // a level reopening at that price (prices near the book come back all the time) writes
    // into it instead of erasing and re-inserting; idle entries are swept when they outnumber
    // the live ones by kIdleSlack (SweepIdle). Readers skip them (no leaf, no level).
    static constexpr size_t kIdleSlack = 1024;
    // The most entries the level map keeps for this many pages and non-zero volumes.
    static constexpr size_t MaxLevelEntries(size_t pages, size_t volumes) {
      return kIdleSlack + 2 * (pages + volumes);
    }
    CachedMap<u128, Level, U128Hash> levels;
    size_t page_count = 0;
    size_t volume_count = 0;  // non-zero
    CachedMap<uint64_t, rules::OrderRecord> orders;

    const rules::PageRecord* FindPage(u128 price) const {
      auto it = levels.find(price);
      return it != levels.end() && it->second.has_page ? &it->second.page : nullptr;
    }
    Amount VolumeAt(u128 price) const {
      auto it = levels.find(price);
      return it == levels.end() ? Amount() : it->second.volume;
    }
    PriceIndex bid_prices;  // levels with a page, per side
    PriceIndex ask_prices;
    bool exists = false;

    PriceIndex& PricesOf(rules::Side side) { return side == rules::Side::kBuy ? bid_prices : ask_prices; }
    const PriceIndex& PricesOf(rules::Side side) const {
      return side == rules::Side::kBuy ? bid_prices : ask_prices;
    }
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

  // The book of `market`, created empty if absent (writes), or nullptr (reads). Books live in
  // a node map, so the one-entry cache of the last one used stays valid as others are added.
  // Every accessor starts here: the cached case inlines, the lookup does not.
  __attribute__((always_inline)) Book& BookOf(rules::MarketId market) {
    if (cache_.book != nullptr && cache_.market == market) [[likely]] return *cache_.book;
    return BookOfSlow(market);
  }
  __attribute__((always_inline)) Book* FindBookForUpdate(rules::MarketId market) {
    if (cache_.book != nullptr && cache_.market == market) [[likely]] return cache_.book;
    return FindBookSlow(market);
  }
  Book& BookOfSlow(rules::MarketId market);
  Book* FindBookSlow(rules::MarketId market);
  struct BookCache {
    rules::MarketId market;
    Book* book = nullptr;
  };
  void WritePage(rules::MarketId market, Price price, const rules::PageRecord* page);  // nullptr deletes
  // A level entry became idle: sweeps the book's idle entries when there are too many (each
  // sweep is O(entries) and follows at least kIdleSlack closes, so O(1) per close amortized).
  void LevelClosed(Book& book);
  static void SweepIdle(Book& book);

  CachedMap<BalanceKey, rules::Balance> balances_;
  CachedMap<rules::AccountId, uint64_t> nonces_;
  absl::node_hash_map<rules::MarketId, Book> books_;
  BookCache cache_;
};

__attribute__((always_inline)) inline absl::StatusOr<rules::Balance> FastState::GetBalance(const rules::AccountId& user, rules::Currency c) {
  const rules::Balance* b = balances_.Find(BalanceKey{user, c});
  return b == nullptr ? rules::Balance() : *b;
}

__attribute__((always_inline)) inline absl::Status FastState::SetBalance(const rules::AccountId& user, rules::Currency c, const rules::Balance& b) {
  if (b.available.IsZero() && b.frozen.IsZero()) {
    balances_.Erase(BalanceKey{user, c});
  } else {
    balances_.Put(BalanceKey{user, c}, b);
  }
  return absl::OkStatus();
}

__attribute__((always_inline)) inline absl::StatusOr<rules::BookSizes> FastState::GetBookSizes(rules::MarketId m) {
  const Book* book = FindBookForUpdate(m);
  return book == nullptr ? rules::BookSizes() : book->sizes;
}

__attribute__((always_inline)) inline absl::Status FastState::SetBookSizes(rules::MarketId m, const rules::BookSizes& sizes) {
  BookOf(m).sizes = sizes;
  return absl::OkStatus();
}

__attribute__((always_inline)) inline absl::StatusOr<rules::BestPrices> FastState::GetBestPrices(rules::MarketId m) {
  const Book* book = FindBookForUpdate(m);
  return book == nullptr ? rules::BestPrices() : book->best;
}

__attribute__((always_inline)) inline absl::Status FastState::SetBestPrices(rules::MarketId m, const rules::BestPrices& best) {
  BookOf(m).best = best;
  return absl::OkStatus();
}

__attribute__((always_inline)) inline absl::StatusOr<Amount> FastState::GetPageVolume(rules::MarketId m, Price price) {
  Book* book = FindBookForUpdate(m);
  if (book == nullptr) return Amount();
  const Book::Level* level = book->levels.Find(price.raw());
  return level == nullptr ? Amount() : level->volume;
}

__attribute__((always_inline)) inline absl::Status FastState::SetPageVolume(rules::MarketId m, Price price, Amount volume) {
  Book& book = BookOf(m);
  Book::Level* level = book.levels.Find(price.raw());
  if (level == nullptr) {
    if (volume.IsZero()) return absl::OkStatus();
    book.levels.Put(price.raw(), Book::Level{.volume = volume});
    ++book.volume_count;
    return absl::OkStatus();
  }
  book.volume_count += !volume.IsZero() - !level->volume.IsZero();
  level->volume = volume;
  if (volume.IsZero() && !level->has_page) LevelClosed(book);
  return absl::OkStatus();
}

__attribute__((always_inline)) inline absl::StatusOr<std::optional<rules::OrderRecord>> FastState::GetOrder(rules::MarketId m, rules::OrderId id) {
  Book* book = FindBookForUpdate(m);
  if (book == nullptr) return std::nullopt;
  const rules::OrderRecord* o = book->orders.Find(id.value);
  if (o == nullptr) return std::nullopt;
  return *o;
}

__attribute__((always_inline)) inline absl::Status FastState::SetOrder(rules::MarketId m, rules::OrderId id,
                                 const std::optional<rules::OrderRecord>& order) {
  Book& book = BookOf(m);
  if (order) {
    book.orders.Put(id.value, *order);
  } else {
    book.orders.Erase(id.value);
  }
  return absl::OkStatus();
}

__attribute__((always_inline)) inline absl::StatusOr<std::optional<rules::PageRecord>> FastState::GetPage(rules::MarketId m, Price price) {
  Book* book = FindBookForUpdate(m);
  if (book == nullptr) return std::nullopt;
  const Book::Level* level = book->levels.Find(price.raw());
  if (level == nullptr || !level->has_page) return std::nullopt;
  return level->page;
}

__attribute__((always_inline)) inline absl::Status FastState::SetPage(rules::MarketId m, Price price, const std::optional<rules::PageRecord>& page) {
  WritePage(m, price, page ? &*page : nullptr);
  return absl::OkStatus();
}

inline void FastState::WritePage(rules::MarketId m, Price price, const rules::PageRecord* page) {
  Book& book = BookOf(m);
  if (page != nullptr) {
    // One probe finds the level or makes its entry.
    Book::Level* level = book.levels.FindOrInsert(price.raw()).first;
    // The price sets change only when a level appears, disappears or changes side; most calls
    // update the record of a level that stays.
    if (!level->has_page) {
      book.PricesOf(page->side).Insert(price.raw());
      ++book.page_count;
    } else if (level->page.side != page->side) {
      book.PricesOf(level->page.side).Erase(price.raw());
      book.PricesOf(page->side).Insert(price.raw());
    }
    level->page = *page;
    level->has_page = true;
    return;
  }
  Book::Level* level = book.levels.Find(price.raw());
  if (level == nullptr || !level->has_page) return;
  book.PricesOf(level->page.side).Erase(price.raw());
  --book.page_count;
  level->has_page = false;
  if (level->volume.IsZero()) LevelClosed(book);
}

inline void FastState::LevelClosed(Book& book) {
  if (book.levels.size() > Book::MaxLevelEntries(book.page_count, book.volume_count)) [[unlikely]] {
    SweepIdle(book);
  }
}

__attribute__((always_inline)) inline absl::StatusOr<uint64_t> FastState::GetNonce(const rules::AccountId& user) {
  const uint64_t* n = nonces_.Find(user);
  return n == nullptr ? 0 : *n;
}

__attribute__((always_inline)) inline absl::Status FastState::SetNonce(const rules::AccountId& user, uint64_t nonce) {
  nonces_.Put(user, nonce);
  return absl::OkStatus();
}

__attribute__((always_inline)) inline absl::StatusOr<std::optional<rules::MarketRecord>> FastState::GetMarket(rules::MarketId m) {
  const Book* book = FindBookForUpdate(m);
  if (book == nullptr || !book->exists) return std::nullopt;
  return book->record;
}

inline absl::Status FastState::SetMarket(rules::MarketId m, const rules::MarketRecord& record) {
  Book& book = BookOf(m);
  book.record = record;
  book.exists = true;
  // Levels on this market's tick take the price index's fast path. (A market's tick is fixed at
  // creation; were it to change, the new one would apply when a side's grid next anchors.)
  book.bid_prices.SetUnit(rules::TickOf(record));
  book.ask_prices.SetUnit(rules::TickOf(record));
  return absl::OkStatus();
}

inline absl::StatusOr<rules::PriceNeighbours> FastState::FindNeighbours(rules::MarketId m, rules::Side side,
                                                                        Price price) {
  rules::PriceNeighbours n;
  Book* book = FindBookForUpdate(m);
  if (book == nullptr) return n;
  u128 lower_raw, higher_raw;
  book->PricesOf(side).Neighbours(price.raw(), &lower_raw, &higher_raw);
  const Price higher = Price::FromRaw(higher_raw);
  const Price lower = Price::FromRaw(lower_raw);
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

// Every non-zero tree leaf (key and value) that `state` implies, in no particular order: building
// a tree from them gives the root of the state.
std::vector<smt::SmtLeaf> StateLeaves(const FastState& state);

}  // namespace pom::matcher
