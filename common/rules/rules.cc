#include "common/rules/rules.h"

#include "absl/strings/str_cat.h"
#include "common/rules/internal/book_ops.h"
#include "common/rules/internal/place_order.h"
#include "common/status_macros.h"

namespace pom::rules {
namespace {

using namespace ::pom::rules_internal;  // NOLINT

constexpr uint32_t kFeePpmMax = 1'000'000;
constexpr uint32_t kMaxMakersLimit = 10'000;

Outcome Rejected(RejectCode code) {
  Outcome out;
  out.reject = code;
  return out;
}

bool ValidTradingParams(const MarketRecord& m) {
  return m.maker_fee_ppm <= kFeePpmMax && m.taker_fee_ppm <= kFeePpmMax && m.max_makers >= 1 &&
         m.max_makers <= kMaxMakersLimit && m.min_amount.raw() % LotOf(m) == 0;
}

absl::StatusOr<Outcome> DoCancel(State& s, const AccountId& signer, const CancelOrder& c) {
  POM_ASSIGN_OR_RETURN(std::optional<MarketRecord> market, s.GetMarket(c.market));
  if (!market) return Rejected(RejectCode::kMarketNotFound);
  POM_ASSIGN_OR_RETURN(std::optional<OrderRecord> order, s.GetOrder(c.market, c.order));
  if (!order) return Rejected(RejectCode::kOrderNotFound);
  if (order->owner != signer) return Rejected(RejectCode::kNotOrderOwner);
  POM_RETURN_IF_ERROR(CancelResting(s, c.market, c.order, *order));
  Outcome out;
  out.cancelled.push_back(c.order);
  return out;
}

absl::StatusOr<Outcome> DoAmend(State& s, const AccountId& signer, const AmendOrder& c) {
  POM_ASSIGN_OR_RETURN(std::optional<MarketRecord> market, s.GetMarket(c.market));
  if (!market) return Rejected(RejectCode::kMarketNotFound);
  if (c.new_unfilled.IsZero()) return Rejected(RejectCode::kBadAmount);
  if (c.new_unfilled.raw() % LotOf(*market) != 0) return Rejected(RejectCode::kBadLot);
  POM_ASSIGN_OR_RETURN(std::optional<OrderRecord> order, s.GetOrder(c.market, c.order));
  if (!order) return Rejected(RejectCode::kOrderNotFound);
  if (order->owner != signer) return Rejected(RejectCode::kNotOrderOwner);
  if (c.new_unfilled >= order->unfilled) return Rejected(RejectCode::kAmendNotReduce);
  const Amount cut = *CheckedSub(order->unfilled, c.new_unfilled);
  // Release exactly what the order stops needing frozen.
  POM_ASSIGN_OR_RETURN(Amount frozen_before, FrozenFor(*order));
  OrderRecord after = *order;
  after.unfilled = c.new_unfilled;
  POM_ASSIGN_OR_RETURN(Amount frozen_after, FrozenFor(after));
  POM_RETURN_IF_ERROR(Unfreeze(s, signer, FrozenCurrency(c.market, order->side),
                               *CheckedSub(frozen_before, frozen_after)));
  OrderRecord reduced = *order;
  reduced.amount = *CheckedSub(order->amount, cut);
  POM_RETURN_IF_ERROR(ReduceOrder(s, c.market, c.order, reduced, cut));
  return Outcome();
}

absl::StatusOr<Outcome> DoWithdraw(State& s, const AccountId& signer, const Withdraw& c) {
  if (c.amount.IsZero()) return Rejected(RejectCode::kBadAmount);
  POM_ASSIGN_OR_RETURN(Balance b, s.GetBalance(signer, c.currency));
  if (b.available < c.amount) return Rejected(RejectCode::kInsufficientBalance);
  b.available = *CheckedSub(b.available, c.amount);
  POM_RETURN_IF_ERROR(s.SetBalance(signer, c.currency, b));
  return Outcome();
}

absl::StatusOr<Outcome> DoDeposit(State& s, const AccountId& signer, const Deposit& c) {
  if (c.amount.IsZero()) return Rejected(RejectCode::kBadAmount);
  POM_ASSIGN_OR_RETURN(Balance b, s.GetBalance(signer, c.currency));
  std::optional<Amount> available = CheckedAdd(b.available, c.amount);
  if (!available || !CheckedAdd(*available, b.frozen)) return Rejected(RejectCode::kOverflow);
  b.available = *available;
  POM_RETURN_IF_ERROR(s.SetBalance(signer, c.currency, b));
  return Outcome();
}

absl::StatusOr<Outcome> DoCreateMarket(State& s, const CreateMarket& c) {
  POM_ASSIGN_OR_RETURN(std::optional<MarketRecord> existing, s.GetMarket(c.market));
  if (existing) return Rejected(RejectCode::kMarketExists);
  const MarketRecord& m = c.params;
  if (c.market.base == c.market.quote || m.price_decimals + m.amount_decimals > kScaleDecimals ||
      !ValidTradingParams(m)) {
    return Rejected(RejectCode::kBadMarketParams);
  }
  POM_RETURN_IF_ERROR(s.SetMarket(c.market, m));
  return Outcome();
}

absl::StatusOr<Outcome> DoUpdateMarket(State& s, const UpdateMarket& c) {
  POM_ASSIGN_OR_RETURN(std::optional<MarketRecord> market, s.GetMarket(c.market));
  if (!market) return Rejected(RejectCode::kMarketNotFound);
  MarketRecord m = *market;
  m.min_amount = c.min_amount;
  m.maker_fee_ppm = c.maker_fee_ppm;
  m.taker_fee_ppm = c.taker_fee_ppm;
  m.max_makers = c.max_makers;
  if (!ValidTradingParams(m)) return Rejected(RejectCode::kBadMarketParams);
  if (market->status == MarketStatus::kClosed) return Rejected(RejectCode::kMarketClosed);
  POM_RETURN_IF_ERROR(s.SetMarket(c.market, m));
  return Outcome();
}

absl::StatusOr<Outcome> DoSetMarketStatus(State& s, const SetMarketStatus& c) {
  POM_ASSIGN_OR_RETURN(std::optional<MarketRecord> market, s.GetMarket(c.market));
  if (!market) return Rejected(RejectCode::kMarketNotFound);
  if (market->status == MarketStatus::kClosed) return Rejected(RejectCode::kMarketClosed);
  MarketRecord m = *market;
  m.status = c.status;
  POM_RETURN_IF_ERROR(s.SetMarket(c.market, m));
  return Outcome();
}

}  // namespace

absl::Status ValidateCommand(const Command& command) {
  auto bad = [](std::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("command has an invalid ", std::string(what)));
  };
  if (const auto* p = std::get_if<PlaceOrder>(&command.body)) {
    if (static_cast<uint8_t>(p->side) > 1) return bad("side");
    if (static_cast<uint8_t>(p->type) > 1) return bad("order type");
    if (static_cast<uint8_t>(p->time_in_force) > 3) return bad("time in force");
    if (static_cast<uint8_t>(p->stp) > 2) return bad("self-trade prevention mode");
  }
  if (const auto* m = std::get_if<CreateMarket>(&command.body)) {
    if (static_cast<uint8_t>(m->params.status) > 2) return bad("market status");
  }
  if (const auto* m = std::get_if<SetMarketStatus>(&command.body)) {
    if (static_cast<uint8_t>(m->status) > 2) return bad("market status");
  }
  return absl::OkStatus();
}

absl::StatusOr<Outcome> Apply(State& s, const Context& context, const Command& command) {
  POM_RETURN_IF_ERROR(ValidateCommand(command));
  if (command.IsAdmin() && command.signer != context.operator_account) {
    return absl::PermissionDeniedError("market admin commands must be signed by the operator");
  }
  POM_ASSIGN_OR_RETURN(uint64_t last_nonce, s.GetNonce(command.signer));
  if (command.nonce <= last_nonce) {
    return absl::FailedPreconditionError(
        absl::StrCat("stale nonce ", command.nonce, " (last used ", last_nonce, ")"));
  }
  POM_RETURN_IF_ERROR(s.SetNonce(command.signer, command.nonce));
  const AccountId& signer = command.signer;
  return std::visit(
      [&](const auto& body) -> absl::StatusOr<Outcome> {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, PlaceOrder>) {
          return PlaceOrderRules(s, context, signer, body);
        } else if constexpr (std::is_same_v<T, CancelOrder>) {
          return DoCancel(s, signer, body);
        } else if constexpr (std::is_same_v<T, AmendOrder>) {
          return DoAmend(s, signer, body);
        } else if constexpr (std::is_same_v<T, Withdraw>) {
          return DoWithdraw(s, signer, body);
        } else if constexpr (std::is_same_v<T, Deposit>) {
          return DoDeposit(s, signer, body);
        } else if constexpr (std::is_same_v<T, CreateMarket>) {
          return DoCreateMarket(s, body);
        } else if constexpr (std::is_same_v<T, UpdateMarket>) {
          return DoUpdateMarket(s, body);
        } else {
          return DoSetMarketStatus(s, body);
        }
      },
      command.body);
}

}  // namespace pom::rules
