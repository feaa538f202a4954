// Book and balance operations over a state, shared by the command rules. A book side is a
// doubly linked list of price levels (pagelink records, best first); a level is a FIFO queue of
// orders (order records). Each operation keeps the orderbook, bestprice and orderpage leaves in
// step with the records.
//
// Templates over the state type S: S is rules::State (a witness or a recording wrapper, through
// virtual calls) or a final implementation of it (the matcher's FastState, whose accessors then
// inline). One text of the rules either way (docs/decisions.md, "Rules as templates").
// Thread-safety: as the state they are given.
#pragma once

#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/rules/records.h"
#include "common/rules/state.h"
#include "common/rules/types.h"
#include "common/status_macros.h"

namespace pom::rules_internal {

using namespace ::pom::rules;  // NOLINT: internal helpers of pom::rules

// True if price `a` is nearer the top of the `side` book than `b`.
inline bool IsBetter(Side side, Price a, Price b) { return side == Side::kBuy ? a > b : a < b; }

// Errors: Internal naming what is inconsistent.
absl::Status Inconsistent(std::string_view what);
// Errors: OutOfRange naming the balance move that failed.
absl::Status BalanceOutOfRange(std::string_view what);

// The exact quote amount of `amount` at `price` (exact for prices on the tick and amounts on
// the lot). Errors: OutOfRange on overflow.
absl::StatusOr<Amount> Notional(Price price, Amount amount);

// What a resting order keeps frozen: its unfilled base (sell) or that amount's notional (buy).
absl::StatusOr<Amount> FrozenFor(const OrderRecord& order);
Currency FrozenCurrency(MarketId market, Side side);

template <class S>
__attribute__((always_inline)) inline absl::StatusOr<PageRecord> LoadPage(S& s, MarketId market, Price price) {
  POM_ASSIGN_OR_RETURN(std::optional<PageRecord> page, s.GetPage(market, price));
  if (!page) return Inconsistent("a linked price level is missing");
  return *page;
}

template <class S>
__attribute__((always_inline)) inline absl::StatusOr<OrderRecord> LoadOrder(S& s, MarketId market, OrderId id) {
  POM_ASSIGN_OR_RETURN(std::optional<OrderRecord> order, s.GetOrder(market, id));
  if (!order) return Inconsistent("a linked order is missing");
  return *order;
}

// Applies `edit` (PageRecord& -> absl::Status) to the existing level at `price` and saves the
// result; `edit` checks before it changes anything and never changes the side. A state that
// offers `EditPage` (the matcher's FastState: a pointer to the stored record, or nullptr) is
// edited in place, one lookup and no copies; any other state (the witness, the recording
// wrapper) through GetPage and SetPage. Both run the same `edit`, so the rule is one text.
template <class S, class Edit>
__attribute__((always_inline)) inline absl::Status UpdatePage(S& s, MarketId market, Price price, Edit&& edit) {
  if constexpr (requires { s.EditPage(market, price); }) {
    PageRecord* page = s.EditPage(market, price);
    if (page == nullptr) return Inconsistent("a linked price level is missing");
    const Side side = page->side;
    POM_RETURN_IF_ERROR(edit(*page));
    if (page->side != side) return Inconsistent("a level edit changed its side");
    return absl::OkStatus();
  } else {
    POM_ASSIGN_OR_RETURN(PageRecord page, LoadPage(s, market, price));
    POM_RETURN_IF_ERROR(edit(page));
    return s.SetPage(market, price, page);
  }
}

// As UpdatePage, for the existing order `id` (`EditOrder` on the state, or GetOrder and SetOrder).
template <class S, class Edit>
__attribute__((always_inline)) inline absl::Status UpdateOrder(S& s, MarketId market, OrderId id, Edit&& edit) {
  if constexpr (requires { s.EditOrder(market, id); }) {
    OrderRecord* order = s.EditOrder(market, id);
    if (order == nullptr) return Inconsistent("a linked order is missing");
    return edit(*order);
  } else {
    POM_ASSIGN_OR_RETURN(OrderRecord order, LoadOrder(s, market, id));
    POM_RETURN_IF_ERROR(edit(order));
    return s.SetOrder(market, id, order);
  }
}

// ---- Balance moves ----
// Errors: OutOfRange if a balance would go negative or overflow (the rules check what a client
// controls first, so this means the state is inconsistent).

// available += available_in - available_out; frozen += frozen_in - frozen_out; checked.
struct BalanceDelta {
  Amount available_in, available_out, frozen_in, frozen_out;
};

template <class S>
__attribute__((always_inline)) inline absl::Status ChangeBalance(S& s, const AccountId& user, Currency c, const BalanceDelta& d,
                           std::string_view what) {
  POM_ASSIGN_OR_RETURN(Balance b, s.GetBalance(user, c));
  std::optional<Amount> available = CheckedAdd(b.available, d.available_in);
  available = available ? CheckedSub(*available, d.available_out) : std::nullopt;
  std::optional<Amount> frozen = CheckedAdd(b.frozen, d.frozen_in);
  frozen = frozen ? CheckedSub(*frozen, d.frozen_out) : std::nullopt;
  if (!available || !frozen || !CheckedAdd(*available, *frozen)) return BalanceOutOfRange(what);
  b.available = *available;
  b.frozen = *frozen;
  return s.SetBalance(user, c, b);
}

template <class S>
absl::Status AddAvailable(S& s, const AccountId& user, Currency c, Amount amount) {
  if (amount.IsZero()) return absl::OkStatus();
  return ChangeBalance(s, user, c, {.available_in = amount}, "credit overflows 128 bits");
}

template <class S>
absl::Status SubAvailable(S& s, const AccountId& user, Currency c, Amount amount) {
  if (amount.IsZero()) return absl::OkStatus();
  return ChangeBalance(s, user, c, {.available_out = amount}, "available would go negative");
}

template <class S>
absl::Status Freeze(S& s, const AccountId& user, Currency c, Amount amount) {
  if (amount.IsZero()) return absl::OkStatus();
  return ChangeBalance(s, user, c, {.available_out = amount, .frozen_in = amount},
                       "cannot freeze more than is available");
}

template <class S>
absl::Status Unfreeze(S& s, const AccountId& user, Currency c, Amount amount) {
  if (amount.IsZero()) return absl::OkStatus();
  return ChangeBalance(s, user, c, {.available_in = amount, .frozen_out = amount},
                       "cannot release more than is frozen");
}

template <class S>
absl::Status SubFrozen(S& s, const AccountId& user, Currency c, Amount amount) {
  if (amount.IsZero()) return absl::OkStatus();
  return ChangeBalance(s, user, c, {.frozen_out = amount}, "frozen would go negative");
}

// ---- Levels ----

template <class S>
__attribute__((always_inline)) inline absl::Status SetTop(S& s, MarketId market, Side side, Price price) {
  POM_ASSIGN_OR_RETURN(BestPrices best, s.GetBestPrices(market));
  (side == Side::kBuy ? best.bid : best.ask) = price;
  return s.SetBestPrices(market, best);
}

template <class S>
__attribute__((always_inline)) inline absl::Status AddVolume(S& s, MarketId market, Side side, Price price, Amount amount, bool add) {
  if (amount.IsZero()) return absl::OkStatus();
  POM_ASSIGN_OR_RETURN(Amount volume, s.GetPageVolume(market, price));
  POM_ASSIGN_OR_RETURN(BookSizes sizes, s.GetBookSizes(market));
  Amount& size = side == Side::kBuy ? sizes.bid : sizes.ask;
  std::optional<Amount> new_volume = add ? CheckedAdd(volume, amount) : CheckedSub(volume, amount);
  std::optional<Amount> new_size = add ? CheckedAdd(size, amount) : CheckedSub(size, amount);
  if (!new_volume || !new_size) return Inconsistent("book volume out of range");
  size = *new_size;
  POM_RETURN_IF_ERROR(s.SetPageVolume(market, price, *new_volume));
  return s.SetBookSizes(market, sizes);
}

// Links a new, empty level at `price` into the `side` list and returns its record (not saved).
template <class S>
absl::StatusOr<PageRecord> InsertLevel(S& s, MarketId market, Side side, Price price) {
  POM_ASSIGN_OR_RETURN(BestPrices best, s.GetBestPrices(market));
  const Price top = side == Side::kBuy ? best.bid : best.ask;
  POM_ASSIGN_OR_RETURN(PriceNeighbours hint, s.FindNeighbours(market, side, price));
  PageRecord page;
  page.side = side;
  page.better = hint.better;
  page.worse = hint.worse;
  if (hint.better.IsZero()) {
    if (hint.worse != top || (!top.IsZero() && !IsBetter(side, price, top))) {
      return Inconsistent("new best level does not match the best price");
    }
    (side == Side::kBuy ? best.bid : best.ask) = price;
    POM_RETURN_IF_ERROR(s.SetBestPrices(market, best));
  } else {
    POM_RETURN_IF_ERROR(UpdatePage(s, market, hint.better, [&](PageRecord& better) {
      if (better.side != side || better.worse != hint.worse || !IsBetter(side, hint.better, price)) {
        return Inconsistent("price level hint: better neighbour is not adjacent");
      }
      better.worse = price;
      return absl::OkStatus();
    }));
  }
  if (!hint.worse.IsZero()) {
    POM_RETURN_IF_ERROR(UpdatePage(s, market, hint.worse, [&](PageRecord& worse) {
      if (worse.side != side || worse.better != hint.better || !IsBetter(side, price, hint.worse)) {
        return Inconsistent("price level hint: worse neighbour is not adjacent");
      }
      worse.better = price;
      return absl::OkStatus();
    }));
  }
  return page;
}

template <class S>
absl::Status RemoveLevel(S& s, MarketId market, Price price, const PageRecord& page) {
  if (page.better.IsZero()) {
    POM_RETURN_IF_ERROR(SetTop(s, market, page.side, page.worse));
  } else {
    POM_RETURN_IF_ERROR(UpdatePage(s, market, page.better, [&](PageRecord& better) {
      better.worse = page.worse;
      return absl::OkStatus();
    }));
  }
  if (!page.worse.IsZero()) {
    POM_RETURN_IF_ERROR(UpdatePage(s, market, page.worse, [&](PageRecord& worse) {
      worse.better = page.better;
      return absl::OkStatus();
    }));
  }
  POM_ASSIGN_OR_RETURN(Amount volume, s.GetPageVolume(market, price));
  if (!volume.IsZero()) return Inconsistent("an empty price level has volume");
  return s.SetPage(market, price, std::nullopt);
}

// ---- Orders ----

// Appends a new resting order to the tail of its price level, creating the level (from the
// state's neighbour hint, checked against the records) if needed.
template <class S>
absl::Status AppendOrder(S& s, MarketId market, OrderId id, const OrderRecord& order) {
  POM_ASSIGN_OR_RETURN(std::optional<PageRecord> existing, s.GetPage(market, order.price));
  PageRecord page;
  if (existing) {
    if (existing->side != order.side) return Inconsistent("resting order would cross its level");
    page = *existing;
  } else {
    POM_ASSIGN_OR_RETURN(page, InsertLevel(s, market, order.side, order.price));
  }
  OrderRecord record = order;
  record.prev = page.tail;
  record.next = OrderId{};
  if (!page.tail.IsNone()) {
    POM_RETURN_IF_ERROR(UpdateOrder(s, market, page.tail, [&](OrderRecord& tail) {
      tail.next = id;
      return absl::OkStatus();
    }));
  } else {
    page.head = id;
  }
  page.tail = id;
  ++page.count;
  POM_RETURN_IF_ERROR(s.SetPage(market, order.price, page));
  POM_RETURN_IF_ERROR(s.SetOrder(market, id, record));
  return AddVolume(s, market, order.side, order.price, order.unfilled, /*add=*/true);
}

// Removes a resting order and its unfilled volume from the book (not its frozen funds).
template <class S>
absl::Status RemoveOrder(S& s, MarketId market, OrderId id, const OrderRecord& order) {
  if (!order.prev.IsNone()) {
    POM_RETURN_IF_ERROR(UpdateOrder(s, market, order.prev, [&](OrderRecord& prev) {
      prev.next = order.next;
      return absl::OkStatus();
    }));
  }
  if (!order.next.IsNone()) {
    POM_RETURN_IF_ERROR(UpdateOrder(s, market, order.next, [&](OrderRecord& next) {
      next.prev = order.prev;
      return absl::OkStatus();
    }));
  }
  POM_ASSIGN_OR_RETURN(PageRecord page, LoadPage(s, market, order.price));
  if (page.count == 0) return Inconsistent("order in an empty level");
  if (page.head == id) page.head = order.next;
  if (page.tail == id) page.tail = order.prev;
  --page.count;
  POM_RETURN_IF_ERROR(s.SetOrder(market, id, std::nullopt));
  POM_RETURN_IF_ERROR(AddVolume(s, market, order.side, order.price, order.unfilled, /*add=*/false));
  if (page.count == 0) return RemoveLevel(s, market, order.price, page);
  return s.SetPage(market, order.price, page);
}

// Takes `amount` off a resting order's unfilled (a fill or an amend); removes the order when
// nothing is left. `order` is its current record.
template <class S>
absl::Status ReduceOrder(S& s, MarketId market, OrderId id, OrderRecord order, Amount amount) {
  std::optional<Amount> left = CheckedSub(order.unfilled, amount);
  if (!left) return Inconsistent("reduction beyond an order's unfilled amount");
  POM_RETURN_IF_ERROR(AddVolume(s, market, order.side, order.price, amount, /*add=*/false));
  order.unfilled = *left;
  if (left->IsZero()) return RemoveOrder(s, market, id, order);
  return s.SetOrder(market, id, order);
}

// Cancels a resting order: releases its frozen funds and removes it.
template <class S>
absl::Status CancelResting(S& s, MarketId market, OrderId id, const OrderRecord& order) {
  POM_ASSIGN_OR_RETURN(Amount frozen, FrozenFor(order));
  POM_RETURN_IF_ERROR(Unfreeze(s, order.owner, FrozenCurrency(market, order.side), frozen));
  return RemoveOrder(s, market, id, order);
}

}  // namespace pom::rules_internal
