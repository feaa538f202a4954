#include "common/rules/ledger.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/byte_io.h"

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

std::vector<CustodyLedger::ChainEntry> CustodyLedger::ChainEntries() const {
  std::vector<ChainEntry> out;
  out.reserve(chain_.size());
  for (const auto& [key, amount] : chain_) {
    if (amount != Amount()) out.push_back(ChainEntry{key.user, key.currency, amount});
  }
  std::sort(out.begin(), out.end(), [](const ChainEntry& a, const ChainEntry& b) {
    const int c = std::memcmp(a.user.bytes.data(), b.user.bytes.data(), a.user.bytes.size());
    return c != 0 ? c < 0 : a.currency < b.currency;
  });
  return out;
}

std::vector<std::pair<Currency, Amount>> CustodyLedger::CustodyEntries() const {
  std::vector<std::pair<Currency, Amount>> out;
  for (const auto& [currency, amount] : custody_) {
    if (amount != Amount()) out.emplace_back(currency, amount);
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

std::string CustodyLedger::Encode() const {
  const std::vector<ChainEntry> chain = ChainEntries();
  const std::vector<std::pair<Currency, Amount>> custody = CustodyEntries();
  ByteWriter w;
  w.U64(chain.size());
  for (const ChainEntry& e : chain) {
    w.Raw(e.user.bytes);
    w.U32(e.currency.id);
    w.U128(e.amount.raw());
  }
  w.U64(custody.size());
  for (const auto& [currency, amount] : custody) {
    w.U32(currency.id);
    w.U128(amount.raw());
  }
  return w.Take();
}

absl::StatusOr<CustodyLedger> CustodyLedger::Decode(std::string_view bytes) {
  ByteReader r(bytes);
  CustodyLedger ledger;
  uint64_t n = 0;
  if (!r.U64(&n) || n > r.remaining() / (32 + 4 + 16)) return absl::DataLossError("bad ledger chain count");
  for (uint64_t i = 0; i < n; ++i) {
    Key key;
    u128 amount = 0;
    if (!r.Raw(key.user.bytes) || !r.U32(&key.currency.id) || !r.U128(&amount)) {
      return absl::DataLossError("truncated ledger chain entry");
    }
    ledger.chain_[key] = Amount::FromRaw(amount);
  }
  if (!r.U64(&n) || n > r.remaining() / (4 + 16)) return absl::DataLossError("bad ledger custody count");
  for (uint64_t i = 0; i < n; ++i) {
    uint32_t currency = 0;
    u128 amount = 0;
    if (!r.U32(&currency) || !r.U128(&amount)) return absl::DataLossError("truncated ledger custody entry");
    ledger.custody_[Currency{currency}] = Amount::FromRaw(amount);
  }
  if (!r.done()) return absl::DataLossError("trailing bytes after the ledger");
  return ledger;
}

}  // namespace pom::rules
