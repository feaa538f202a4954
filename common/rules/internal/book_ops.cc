#include "common/rules/internal/book_ops.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace pom::rules_internal {

absl::Status Inconsistent(std::string_view what) {
  return absl::InternalError(absl::StrCat("inconsistent state: ", std::string(what)));
}

absl::Status BalanceOutOfRange(std::string_view what) {
  return absl::OutOfRangeError(absl::StrCat("balance out of range: ", std::string(what)));
}

absl::StatusOr<Amount> Notional(Price price, Amount amount) {
  std::optional<Amount> q = NotionalFloor(price, amount);
  if (!q) return absl::OutOfRangeError("notional overflows 128 bits");
  return *q;
}

Currency FrozenCurrency(MarketId market, Side side) {
  return side == Side::kBuy ? market.quote : market.base;
}

absl::StatusOr<Amount> FrozenFor(const OrderRecord& order) {
  if (order.side == Side::kSell) return order.unfilled;
  return Notional(order.price, order.unfilled);
}

}  // namespace pom::rules_internal
