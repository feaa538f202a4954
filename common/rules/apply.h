// Apply (rules.h) as a template over the state type: rules.cc instantiates it for the virtual
// State (witnesses, the recording wrapper); the matcher instantiates it for its final FastState,
// whose accessors then inline. One text of the rules either way (docs/decisions.md, "Rules as
// templates"). The contract is Apply's.
// Thread-safety: as the state it is given.
#pragma once

#include <type_traits>
#include <variant>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/rules/internal/book_ops.h"
#include "common/rules/internal/place_order.h"
#include "common/rules/rules.h"
#include "common/status_macros.h"

namespace pom::rules_internal {

inline constexpr uint32_t kFeePpmMax = 1'000'000;
inline constexpr uint32_t kMaxMakersLimit = 10'000;

inline bool ValidTradingParams(const MarketRecord& m) {
  return m.maker_fee_ppm <= kFeePpmMax && m.taker_fee_ppm <= kFeePpmMax && m.max_makers >= 1 &&
         m.max_makers <= kMaxMakersLimit && Remainder(m.min_amount.raw(), LotOf(m)) == 0;
}

template <class S>
absl::StatusOr<Outcome> DoCancel(S& s, const AccountId& signer, const CancelOrder& c) {
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

template <class S>
absl::StatusOr<Outcome> DoAmend(S& s, const AccountId& signer, const AmendOrder& c) {
  POM_ASSIGN_OR_RETURN(std::optional<MarketRecord> market, s.GetMarket(c.market));
  if (!market) return Rejected(RejectCode::kMarketNotFound);
  if (c.new_unfilled.IsZero()) return Rejected(RejectCode::kBadAmount);
  if (Remainder(c.new_unfilled.raw(), LotOf(*market)) != 0) return Rejected(RejectCode::kBadLot);
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

template <class S>
absl::StatusOr<Outcome> DoWithdraw(S& s, const AccountId& signer, const Withdraw& c) {
  if (c.amount.IsZero()) return Rejected(RejectCode::kBadAmount);
  POM_ASSIGN_OR_RETURN(Balance b, s.GetBalance(signer, c.currency));
  if (b.available < c.amount) return Rejected(RejectCode::kInsufficientBalance);
  b.available = *CheckedSub(b.available, c.amount);
  POM_RETURN_IF_ERROR(s.SetBalance(signer, c.currency, b));
  return Outcome();
}

template <class S>
absl::StatusOr<Outcome> DoDeposit(S& s, const AccountId& signer, const Deposit& c) {
  if (c.amount.IsZero()) return Rejected(RejectCode::kBadAmount);
  POM_ASSIGN_OR_RETURN(Balance b, s.GetBalance(signer, c.currency));
  std::optional<Amount> available = CheckedAdd(b.available, c.amount);
  if (!available || !CheckedAdd(*available, b.frozen)) return Rejected(RejectCode::kOverflow);
  b.available = *available;
  POM_RETURN_IF_ERROR(s.SetBalance(signer, c.currency, b));
  return Outcome();
}

template <class S>
absl::StatusOr<Outcome> DoCreateMarket(S& s, const CreateMarket& c) {
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

template <class S>
absl::StatusOr<Outcome> DoUpdateMarket(S& s, const UpdateMarket& c) {
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

template <class S>
absl::StatusOr<Outcome> DoSetMarketStatus(S& s, const SetMarketStatus& c) {
  POM_ASSIGN_OR_RETURN(std::optional<MarketRecord> market, s.GetMarket(c.market));
  if (!market) return Rejected(RejectCode::kMarketNotFound);
  if (market->status == MarketStatus::kClosed) return Rejected(RejectCode::kMarketClosed);
  MarketRecord m = *market;
  m.status = c.status;
  POM_RETURN_IF_ERROR(s.SetMarket(c.market, m));
  return Outcome();
}

}  // namespace pom::rules_internal

namespace pom::rules {

// The checks of a command against the state that precede any write: who may sign market admin
// commands, and the nonce. (ValidateCommand checks the command's own fields first.) Errors:
// PermissionDenied, FailedPrecondition for a stale nonce; nothing is written.
template <class S>
absl::Status CheckSignerAndNonce(S& s, const AccountId& operator_account, const Command& command) {
  if (command.IsAdmin() && command.signer != operator_account) {
    return absl::PermissionDeniedError("market admin commands must be signed by the operator");
  }
  POM_ASSIGN_OR_RETURN(uint64_t last_nonce, s.GetNonce(command.signer));
  if (command.nonce <= last_nonce) {
    return absl::FailedPreconditionError(
        absl::StrCat("stale nonce ", command.nonce, " (last used ", last_nonce, ")"));
  }
  return absl::OkStatus();
}

// Applies a command that has passed ValidateCommand and CheckSignerAndNonce on this state (the
// matcher's engine runs both on admission, before it assigns a sequence): consumes the nonce
// and runs the command's rules. REQUIRES: those checks passed and nothing changed since.
template <class S>
absl::StatusOr<Outcome> ApplyAdmitted(S& s, const Context& context, const Command& command) {
  POM_RETURN_IF_ERROR(s.SetNonce(command.signer, command.nonce));
  const AccountId& signer = command.signer;
  return std::visit(
      [&](const auto& body) -> absl::StatusOr<Outcome> {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, PlaceOrder>) {
          return rules_internal::PlaceOrderRules(s, context, signer, body);
        } else if constexpr (std::is_same_v<T, CancelOrder>) {
          return rules_internal::DoCancel(s, signer, body);
        } else if constexpr (std::is_same_v<T, AmendOrder>) {
          return rules_internal::DoAmend(s, signer, body);
        } else if constexpr (std::is_same_v<T, Withdraw>) {
          return rules_internal::DoWithdraw(s, signer, body);
        } else if constexpr (std::is_same_v<T, Deposit>) {
          return rules_internal::DoDeposit(s, signer, body);
        } else if constexpr (std::is_same_v<T, CreateMarket>) {
          return rules_internal::DoCreateMarket(s, body);
        } else if constexpr (std::is_same_v<T, UpdateMarket>) {
          return rules_internal::DoUpdateMarket(s, body);
        } else {
          return rules_internal::DoSetMarketStatus(s, body);
        }
      },
      command.body);
}

// The state transition: checks, then applies. Errors: those of ValidateCommand and
// CheckSignerAndNonce (nothing written), or an error of the state (the event fails as a whole).
template <class S>
absl::StatusOr<Outcome> ApplyTo(S& s, const Context& context, const Command& command) {
  POM_RETURN_IF_ERROR(ValidateCommand(command));
  POM_RETURN_IF_ERROR(CheckSignerAndNonce(s, context.operator_account, command));
  return ApplyAdmitted(s, context, command);
}

}  // namespace pom::rules
