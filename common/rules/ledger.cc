#include "common/rules/ledger.h"

#include "absl/strings/str_cat.h"

namespace pom::rules {

absl::Status CustodyLedger::CreditChain(const AccountId& user, Currency currency, Amount amount) {
  Amount& slot = chain_[Key{user, currency}];
  std::optional<Amount> sum = CheckedAdd(slot, amount);
  if (!sum) return absl::OutOfRangeError("chain-side balance overflows");
  slot = *sum;
  return absl::OkStatus();
}

Amount CustodyLedger::ChainBalance(const AccountId& user, Currency currency) const {
  auto it = chain_.find(Key{user, currency});
  return it == chain_.end() ? Amount() : it->second;
}

Amount CustodyLedger::Custody(Currency currency) const {
  auto it = custody_.find(currency);
  return it == custody_.end() ? Amount() : it->second;
}

bool CustodyLedger::CanDeposit(const AccountId& user, Currency currency, Amount amount) const {
  return ChainBalance(user, currency) >= amount;
}

absl::Status CustodyLedger::ApplyEvent(const Command& command, const Outcome& outcome) {
  if (outcome.reject != RejectCode::kNone) return absl::OkStatus();
  if (const auto* d = std::get_if<Deposit>(&command.body)) {
    Amount& chain = chain_[Key{command.signer, d->currency}];
    std::optional<Amount> left = CheckedSub(chain, d->amount);
    if (!left) {
      return absl::FailedPreconditionError(absl::StrCat(
          "deposit of ", FormatDecimal(d->amount), " without an authorization backing it"));
    }
    Amount& held = custody_[d->currency];
    std::optional<Amount> more = CheckedAdd(held, d->amount);
    if (!more) return absl::OutOfRangeError("custody overflows");
    chain = *left;
    held = *more;
  } else if (const auto* w = std::get_if<Withdraw>(&command.body)) {
    Amount& held = custody_[w->currency];
    std::optional<Amount> left = CheckedSub(held, w->amount);
    if (!left) return absl::OutOfRangeError("withdrawal beyond the prover's custody");
    Amount& chain = chain_[Key{command.signer, w->currency}];
    std::optional<Amount> more = CheckedAdd(chain, w->amount);
    if (!more) return absl::OutOfRangeError("chain-side balance overflows");
    held = *left;
    chain = *more;
  }
  return absl::OkStatus();
}

}  // namespace pom::rules
