// Book and balance operations over a State, shared by the command rules. A book side is a
// doubly linked list of price levels (pagelink records, best first); a level is a FIFO queue of
// orders (order records). Each operation keeps the orderbook, bestprice and orderpage leaves in
// step with the records.
// Thread-safety: as the State they are given.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/rules/records.h"
#include "common/rules/state.h"
#include "common/rules/types.h"

namespace pom::rules_internal {

using namespace ::pom::rules;  // NOLINT: internal helpers of pom::rules

// True if price `a` is nearer the top of the `side` book than `b`.
inline bool IsBetter(Side side, Price a, Price b) { return side == Side::kBuy ? a > b : a < b; }

// The exact quote amount of `amount` at `price` (exact for prices on the tick and amounts on
// the lot). Errors: OutOfRange on overflow.
absl::StatusOr<Amount> Notional(Price price, Amount amount);

// Balance moves. Errors: OutOfRange if a balance would go negative or overflow (the rules check
// what a client controls first, so this means the state is inconsistent).
absl::Status AddAvailable(State& s, const AccountId& user, Currency c, Amount amount);
absl::Status SubAvailable(State& s, const AccountId& user, Currency c, Amount amount);
absl::Status Freeze(State& s, const AccountId& user, Currency c, Amount amount);
absl::Status Unfreeze(State& s, const AccountId& user, Currency c, Amount amount);
absl::Status SubFrozen(State& s, const AccountId& user, Currency c, Amount amount);

// What a resting order keeps frozen: its unfilled base (sell) or that amount's notional (buy).
absl::StatusOr<Amount> FrozenFor(const OrderRecord& order);
Currency FrozenCurrency(MarketId market, Side side);

// Appends a new resting order to the tail of its price level, creating the level (from the
// state's neighbour hint, checked against the records) if needed.
absl::Status AppendOrder(State& s, MarketId market, OrderId id, const OrderRecord& order);

// Takes `amount` off a resting order's unfilled (a fill or an amend); removes the order when
// nothing is left. `order` is its current record.
absl::Status ReduceOrder(State& s, MarketId market, OrderId id, OrderRecord order, Amount amount);

// Removes a resting order and its unfilled volume from the book (not its frozen funds).
absl::Status RemoveOrder(State& s, MarketId market, OrderId id, const OrderRecord& order);

// Cancels a resting order: releases its frozen funds and removes it.
absl::Status CancelResting(State& s, MarketId market, OrderId id, const OrderRecord& order);

// Errors: Internal naming what is inconsistent.
absl::Status Inconsistent(std::string_view what);

}  // namespace pom::rules_internal
