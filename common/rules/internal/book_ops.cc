#include "common/rules/internal/book_ops.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace pom::rules_internal {
namespace {

absl::StatusOr<PageRecord> LoadPage(State& s, MarketId market, Price price) {
  POM_ASSIGN_OR_RETURN(std::optional<PageRecord> page, s.GetPage(market, price));
  if (!page) return Inconsistent("a linked price level is missing");
  return *page;
}

absl::StatusOr<OrderRecord> LoadOrder(State& s, MarketId market, OrderId id) {
  POM_ASSIGN_OR_RETURN(std::optional<OrderRecord> order, s.GetOrder(market, id));
  if (!order) return Inconsistent("a linked order is missing");
  return *order;
}

absl::Status SetTop(State& s, MarketId market, Side side, Price price) {
  POM_ASSIGN_OR_RETURN(BestPrices best, s.GetBestPrices(market));
  (side == Side::kBuy ? best.bid : best.ask) = price;
  return s.SetBestPrices(market, best);
}

absl::Status AddVolume(State& s, MarketId market, Side side, Price price, Amount amount,
                       bool add) {
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
absl::StatusOr<PageRecord> InsertLevel(State& s, MarketId market, Side side, Price price) {
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
    POM_ASSIGN_OR_RETURN(PageRecord better, LoadPage(s, market, hint.better));
    if (better.side != side || better.worse != hint.worse || !IsBetter(side, hint.better, price)) {
      return Inconsistent("price level hint: better neighbour is not adjacent");
    }
    better.worse = price;
    POM_RETURN_IF_ERROR(s.SetPage(market, hint.better, better));
  }
  if (!hint.worse.IsZero()) {
    POM_ASSIGN_OR_RETURN(PageRecord worse, LoadPage(s, market, hint.worse));
    if (worse.side != side || worse.better != hint.better || !IsBetter(side, price, hint.worse)) {
      return Inconsistent("price level hint: worse neighbour is not adjacent");
    }
    worse.better = price;
    POM_RETURN_IF_ERROR(s.SetPage(market, hint.worse, worse));
  }
  return page;
}

absl::Status RemoveLevel(State& s, MarketId market, Price price, const PageRecord& page) {
  if (page.better.IsZero()) {
    POM_RETURN_IF_ERROR(SetTop(s, market, page.side, page.worse));
  } else {
    POM_ASSIGN_OR_RETURN(PageRecord better, LoadPage(s, market, page.better));
    better.worse = page.worse;
    POM_RETURN_IF_ERROR(s.SetPage(market, page.better, better));
  }
  if (!page.worse.IsZero()) {
    POM_ASSIGN_OR_RETURN(PageRecord worse, LoadPage(s, market, page.worse));
    worse.better = page.better;
    POM_RETURN_IF_ERROR(s.SetPage(market, page.worse, worse));
  }
  POM_ASSIGN_OR_RETURN(Amount volume, s.GetPageVolume(market, price));
  if (!volume.IsZero()) return Inconsistent("an empty price level has volume");
  return s.SetPage(market, price, std::nullopt);
}

}  // namespace

absl::Status Inconsistent(std::string_view what) {
  return absl::InternalError(absl::StrCat("inconsistent state: ", std::string(what)));
}

absl::StatusOr<Amount> Notional(Price price, Amount amount) {
  std::optional<Amount> q = NotionalFloor(price, amount);
  if (!q) return absl::OutOfRangeError("notional overflows 128 bits");
  return *q;
}

namespace {

// available += available_in - available_out; frozen += frozen_in - frozen_out; checked.
struct BalanceDelta {
  Amount available_in, available_out, frozen_in, frozen_out;
};

absl::Status ChangeBalance(State& s, const AccountId& user, Currency c, const BalanceDelta& d,
                           std::string_view what) {
  POM_ASSIGN_OR_RETURN(Balance b, s.GetBalance(user, c));
  std::optional<Amount> available = CheckedAdd(b.available, d.available_in);
  available = available ? CheckedSub(*available, d.available_out) : std::nullopt;
  std::optional<Amount> frozen = CheckedAdd(b.frozen, d.frozen_in);
  frozen = frozen ? CheckedSub(*frozen, d.frozen_out) : std::nullopt;
  if (!available || !frozen || !CheckedAdd(*available, *frozen)) {
    return absl::OutOfRangeError(absl::StrCat("balance out of range: ", std::string(what)));
  }
  b.available = *available;
  b.frozen = *frozen;
  return s.SetBalance(user, c, b);
}

}  // namespace

absl::Status AddAvailable(State& s, const AccountId& user, Currency c, Amount amount) {
  if (amount.IsZero()) return absl::OkStatus();
  return ChangeBalance(s, user, c, {.available_in = amount}, "credit overflows 128 bits");
}

absl::Status SubAvailable(State& s, const AccountId& user, Currency c, Amount amount) {
  if (amount.IsZero()) return absl::OkStatus();
  return ChangeBalance(s, user, c, {.available_out = amount}, "available would go negative");
}

absl::Status Freeze(State& s, const AccountId& user, Currency c, Amount amount) {
  if (amount.IsZero()) return absl::OkStatus();
  return ChangeBalance(s, user, c, {.available_out = amount, .frozen_in = amount},
                       "cannot freeze more than is available");
}

absl::Status Unfreeze(State& s, const AccountId& user, Currency c, Amount amount) {
  if (amount.IsZero()) return absl::OkStatus();
  return ChangeBalance(s, user, c, {.available_in = amount, .frozen_out = amount},
                       "cannot release more than is frozen");
}

absl::Status SubFrozen(State& s, const AccountId& user, Currency c, Amount amount) {
  if (amount.IsZero()) return absl::OkStatus();
  return ChangeBalance(s, user, c, {.frozen_out = amount}, "frozen would go negative");
}

Currency FrozenCurrency(MarketId market, Side side) {
  return side == Side::kBuy ? market.quote : market.base;
}

absl::StatusOr<Amount> FrozenFor(const OrderRecord& order) {
  if (order.side == Side::kSell) return order.unfilled;
  return Notional(order.price, order.unfilled);
}

absl::Status AppendOrder(State& s, MarketId market, OrderId id, const OrderRecord& order) {
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
    POM_ASSIGN_OR_RETURN(OrderRecord tail, LoadOrder(s, market, page.tail));
    tail.next = id;
    POM_RETURN_IF_ERROR(s.SetOrder(market, page.tail, tail));
  } else {
    page.head = id;
  }
  page.tail = id;
  ++page.count;
  POM_RETURN_IF_ERROR(s.SetPage(market, order.price, page));
  POM_RETURN_IF_ERROR(s.SetOrder(market, id, record));
  return AddVolume(s, market, order.side, order.price, order.unfilled, /*add=*/true);
}

absl::Status ReduceOrder(State& s, MarketId market, OrderId id, OrderRecord order, Amount amount) {
  std::optional<Amount> left = CheckedSub(order.unfilled, amount);
  if (!left) return Inconsistent("reduction beyond an order's unfilled amount");
  POM_RETURN_IF_ERROR(AddVolume(s, market, order.side, order.price, amount, /*add=*/false));
  order.unfilled = *left;
  if (left->IsZero()) return RemoveOrder(s, market, id, order);
  return s.SetOrder(market, id, order);
}

absl::Status RemoveOrder(State& s, MarketId market, OrderId id, const OrderRecord& order) {
  if (!order.prev.IsNone()) {
    POM_ASSIGN_OR_RETURN(OrderRecord prev, LoadOrder(s, market, order.prev));
    prev.next = order.next;
    POM_RETURN_IF_ERROR(s.SetOrder(market, order.prev, prev));
  }
  if (!order.next.IsNone()) {
    POM_ASSIGN_OR_RETURN(OrderRecord next, LoadOrder(s, market, order.next));
    next.prev = order.prev;
    POM_RETURN_IF_ERROR(s.SetOrder(market, order.next, next));
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

absl::Status CancelResting(State& s, MarketId market, OrderId id, const OrderRecord& order) {
  POM_ASSIGN_OR_RETURN(Amount frozen, FrozenFor(order));
  POM_RETURN_IF_ERROR(Unfreeze(s, order.owner, FrozenCurrency(market, order.side), frozen));
  return RemoveOrder(s, market, id, order);
}

}  // namespace pom::rules_internal
