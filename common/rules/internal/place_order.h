// The PlaceOrder rule: validation, price-time matching against the opposite side, settlement
// with fees, self-trade prevention, and resting or releasing the remainder. A template over the
// state type, like book_ops.h.
// Thread-safety: as the state it is given.
#pragma once

#include <algorithm>

#include "absl/status/statusor.h"
#include "common/rules/commands.h"
#include "common/rules/internal/book_ops.h"
#include "common/rules/rules.h"
#include "common/rules/state.h"
#include "common/status_macros.h"

namespace pom::rules_internal {

inline constexpr u128 kPpm = 1'000'000;

inline Outcome Rejected(RejectCode code) {
  Outcome out;
  out.reject = code;
  return out;
}

// Fee = ceil(received * ppm / 10^6).
inline Amount FeeOf(Amount received, uint32_t ppm) {
  return Amount::FromRaw(*MulDivCeil(received.raw(), ppm, kPpm));
}

// One taker against the book. Run first as a dry run (FOK: nothing is written) and then for real;
// both walk the same levels and orders in the same order.
template <class S>
class Matching {
 public:
  Matching(S& s, const Context& ctx, const AccountId& taker, const PlaceOrder& c,
           const MarketRecord& market)
      : s_(s), ctx_(ctx), taker_(taker), c_(c), market_(market) {}

  struct Result {
    Amount filled;
    bool stopped = false;  // by self-trade prevention or max_makers, with crossing liquidity left
  };

  // REQUIRES (for real runs): the taker's funds are frozen (limit) or available (market buy).
  absl::StatusOr<Result> Run(bool dry_run, Outcome* out) {
    Result result;
    Amount remaining = c_.amount;
    uint32_t makers = 0;
    Amount budget;  // market buy: quote the taker can still spend
    if (IsMarketBuy()) {
      POM_ASSIGN_OR_RETURN(Balance b, s_.GetBalance(taker_, c_.market.quote));
      budget = b.available;
    }
    POM_ASSIGN_OR_RETURN(BestPrices best, s_.GetBestPrices(c_.market));
    Price level = c_.side == Side::kBuy ? best.ask : best.bid;
    const Side maker_side = Opposite(c_.side);
    while (!remaining.IsZero() && !level.IsZero() && Crosses(level)) {
      POM_ASSIGN_OR_RETURN(std::optional<PageRecord> page, s_.GetPage(c_.market, level));
      if (!page || page->side != maker_side || page->head.IsNone()) {
        return Inconsistent("best price level is missing or empty");
      }
      const Price worse = page->worse;
      OrderId id = page->head;
      while (!id.IsNone() && !remaining.IsZero()) {
        if (makers >= market_.max_makers) {
          result.stopped = true;
          return Finish(result, remaining);
        }
        POM_ASSIGN_OR_RETURN(std::optional<OrderRecord> maker, s_.GetOrder(c_.market, id));
        if (!maker || maker->side != maker_side || maker->price != level) {
          return Inconsistent("a queued order is missing or misplaced");
        }
        const OrderId next = maker->next;
        ++makers;
        if (maker->owner == taker_) {
          if (c_.stp != StpMode::kCancelTaker && !dry_run) {
            POM_RETURN_IF_ERROR(CancelResting(s_, c_.market, id, *maker));
            out->cancelled.push_back(id);
          }
          if (c_.stp != StpMode::kCancelMaker) {
            result.stopped = true;
            return Finish(result, remaining);
          }
          id = next;
          continue;
        }
        Amount fill = std::min(remaining, maker->unfilled);
        if (IsMarketBuy()) {
          // As much as the budget buys at this price, on the lot.
          const u128 lot = LotOf(market_);
          const u128 affordable = *MulDivFloor(budget.raw(), kScale, level.raw());
          fill = std::min(fill, Amount::FromRaw(affordable - Remainder(affordable, lot)));
          if (fill.IsZero()) return Finish(result, remaining);
        }
        POM_ASSIGN_OR_RETURN(Amount quote, Notional(level, fill));
        if (!dry_run) POM_RETURN_IF_ERROR(Settle(id, *maker, level, fill, quote, out));
        if (IsMarketBuy()) budget = *CheckedSub(budget, quote);
        remaining = *CheckedSub(remaining, fill);
        id = next;
      }
      if (!remaining.IsZero()) level = worse;
    }
    return Finish(result, remaining);
  }

 private:
  bool IsMarketBuy() const { return c_.type == OrderType::kMarket && c_.side == Side::kBuy; }

  bool Crosses(Price level) const {
    if (c_.type == OrderType::kMarket) return true;
    return c_.side == Side::kBuy ? level <= c_.price : level >= c_.price;
  }

  Result Finish(Result r, Amount remaining) const {
    r.filled = *CheckedSub(c_.amount, remaining);
    return r;
  }

  absl::Status Settle(OrderId maker_id, const OrderRecord& maker, Price price, Amount fill,
                      Amount quote, Outcome* out) {
    const Currency base = c_.market.base, quote_currency = c_.market.quote;
    Fill f;
    f.maker_order = maker_id;
    f.maker = maker.owner;
    f.price = price;
    f.amount = fill;
    f.quote = quote;
    if (c_.side == Side::kSell) {
      // Taker gives base, receives quote; the maker (a buyer) receives base.
      f.taker_fee = FeeOf(quote, market_.taker_fee_ppm);
      f.maker_fee = FeeOf(fill, market_.maker_fee_ppm);
      POM_RETURN_IF_ERROR(SubFrozen(s_, taker_, base, fill));
      POM_RETURN_IF_ERROR(AddAvailable(s_, taker_, quote_currency, *CheckedSub(quote, f.taker_fee)));
      POM_RETURN_IF_ERROR(SubFrozen(s_, maker.owner, quote_currency, quote));
      POM_RETURN_IF_ERROR(AddAvailable(s_, maker.owner, base, *CheckedSub(fill, f.maker_fee)));
      POM_RETURN_IF_ERROR(AddAvailable(s_, ctx_.operator_account, quote_currency, f.taker_fee));
      POM_RETURN_IF_ERROR(AddAvailable(s_, ctx_.operator_account, base, f.maker_fee));
    } else {
      // Taker gives quote, receives base; the maker (a seller) receives quote.
      f.taker_fee = FeeOf(fill, market_.taker_fee_ppm);
      f.maker_fee = FeeOf(quote, market_.maker_fee_ppm);
      if (c_.type == OrderType::kLimit) {
        // The taker froze at its limit; it pays the maker's price and gets the difference back.
        POM_ASSIGN_OR_RETURN(Amount reserved, Notional(c_.price, fill));
        POM_RETURN_IF_ERROR(SubFrozen(s_, taker_, quote_currency, reserved));
        POM_RETURN_IF_ERROR(AddAvailable(s_, taker_, quote_currency, *CheckedSub(reserved, quote)));
      } else {
        POM_RETURN_IF_ERROR(SubAvailable(s_, taker_, quote_currency, quote));
      }
      POM_RETURN_IF_ERROR(AddAvailable(s_, taker_, base, *CheckedSub(fill, f.taker_fee)));
      POM_RETURN_IF_ERROR(SubFrozen(s_, maker.owner, base, fill));
      POM_RETURN_IF_ERROR(AddAvailable(s_, maker.owner, quote_currency, *CheckedSub(quote, f.maker_fee)));
      POM_RETURN_IF_ERROR(AddAvailable(s_, ctx_.operator_account, base, f.taker_fee));
      POM_RETURN_IF_ERROR(AddAvailable(s_, ctx_.operator_account, quote_currency, f.maker_fee));
    }
    POM_RETURN_IF_ERROR(ReduceOrder(s_, c_.market, maker_id, maker, fill));
    out->fills.push_back(f);
    return absl::OkStatus();
  }

  S& s_;
  const Context& ctx_;
  const AccountId& taker_;
  const PlaceOrder& c_;
  const MarketRecord& market_;
};

template <class S>
absl::StatusOr<Outcome> PlaceOrderRules(S& s, const Context& ctx, const AccountId& taker,
                                        const PlaceOrder& c) {
  // Validation, in RejectCode precedence order; nothing is written before it passes.
  POM_ASSIGN_OR_RETURN(std::optional<MarketRecord> market, s.GetMarket(c.market));
  if (!market) return Rejected(RejectCode::kMarketNotFound);
  if (market->status == MarketStatus::kHalted) return Rejected(RejectCode::kMarketNotOpen);
  if (market->status == MarketStatus::kClosed) return Rejected(RejectCode::kMarketClosed);
  const bool limit = c.type == OrderType::kLimit;
  if (limit == c.price.IsZero() || (!limit && c.time_in_force == TimeInForce::kPostOnly)) {
    return Rejected(RejectCode::kBadPrice);
  }
  if (c.amount.IsZero()) return Rejected(RejectCode::kBadAmount);
  if (limit && Remainder(c.price.raw(), TickOf(*market)) != 0) return Rejected(RejectCode::kBadTick);
  if (Remainder(c.amount.raw(), LotOf(*market)) != 0) return Rejected(RejectCode::kBadLot);
  if (c.amount < market->min_amount) return Rejected(RejectCode::kBelowMinimum);

  const Currency pay = c.side == Side::kBuy ? c.market.quote : c.market.base;
  POM_ASSIGN_OR_RETURN(Balance funds, s.GetBalance(taker, pay));
  Amount reserve;  // what the taker freezes up front
  if (c.side == Side::kSell) {
    reserve = c.amount;
  } else if (limit) {
    std::optional<Amount> notional = NotionalFloor(c.price, c.amount);
    if (!notional) return Rejected(RejectCode::kInsufficientBalance);
    reserve = *notional;
  }
  if (funds.available < reserve || (!limit && c.side == Side::kBuy && funds.available.IsZero())) {
    return Rejected(RejectCode::kInsufficientBalance);
  }
  POM_ASSIGN_OR_RETURN(BestPrices best, s.GetBestPrices(c.market));
  const Price opposite = c.side == Side::kBuy ? best.ask : best.bid;
  if (c.time_in_force == TimeInForce::kPostOnly && !opposite.IsZero() &&
      (c.side == Side::kBuy ? opposite <= c.price : opposite >= c.price)) {
    return Rejected(RejectCode::kPostOnlyWouldCross);
  }
  Matching<S> matching(s, ctx, taker, c, *market);
  Outcome out;
  out.order = OrderId{ctx.sequence.value};
  if (c.time_in_force == TimeInForce::kFok) {
    POM_ASSIGN_OR_RETURN(typename Matching<S>::Result dry, matching.Run(/*dry_run=*/true, &out));
    if (dry.filled != c.amount) return Rejected(RejectCode::kFokNotFillable);
  }
  if (!limit && opposite.IsZero()) return Rejected(RejectCode::kNoLiquidity);

  // Execution.
  POM_RETURN_IF_ERROR(Freeze(s, taker, pay, reserve));
  POM_ASSIGN_OR_RETURN(typename Matching<S>::Result result, matching.Run(/*dry_run=*/false, &out));
  out.taker_stopped = result.stopped;
  const Amount remaining = *CheckedSub(c.amount, result.filled);
  if (remaining.IsZero()) return out;
  const bool rests = limit && !result.stopped &&
                     (c.time_in_force == TimeInForce::kGtc ||
                      c.time_in_force == TimeInForce::kPostOnly);
  if (rests) {
    OrderRecord order;
    order.owner = taker;
    order.side = c.side;
    order.price = c.price;
    order.amount = c.amount;
    order.unfilled = remaining;
    order.client_order_id = c.client_order_id;
    POM_RETURN_IF_ERROR(AppendOrder(s, c.market, out.order, order));
    out.resting = remaining;
    return out;
  }
  if (c.side == Side::kSell) {
    POM_RETURN_IF_ERROR(Unfreeze(s, taker, pay, remaining));
  } else if (limit) {
    POM_ASSIGN_OR_RETURN(Amount unused, Notional(c.price, remaining));
    POM_RETURN_IF_ERROR(Unfreeze(s, taker, pay, unused));
  }
  return out;
}

}  // namespace pom::rules_internal
