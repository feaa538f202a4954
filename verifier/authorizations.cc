#include "verifier/authorizations.h"

#include <variant>

#include "absl/strings/str_cat.h"

namespace pom::verify {
namespace {

const rules::Deposit* AsDeposit(const rules::Command& c) { return std::get_if<rules::Deposit>(&c.body); }

}  // namespace

absl::Status AuthorizationBook::Add(uint64_t index, rules::Command deposit) {
  const rules::Deposit* d = AsDeposit(deposit);
  if (d == nullptr) return absl::InvalidArgumentError("an authorization must be a deposit command");
  if (index == 0 || by_index_.contains(index)) {
    return absl::InvalidArgumentError(absl::StrCat("authorization index ", index, " is taken"));
  }
  const Key key{deposit.signer, deposit.nonce};
  if (by_key_.contains(key)) {
    return absl::AlreadyExistsError(
        absl::StrCat("an authorization with nonce ", deposit.nonce, " is already outstanding for this account"));
  }
  Amount& reserved = reserved_[ReserveKey{deposit.signer, d->currency}];
  reserved = Amount::FromRaw(reserved.raw() + d->amount.raw());  // bounded by the chain balance
  by_key_[key] = index;
  nonces_[deposit.signer].insert(deposit.nonce);
  by_index_[index] = Entry{index, std::move(deposit)};
  return absl::OkStatus();
}

const AuthorizationBook::Entry* AuthorizationBook::Find(const rules::AccountId& signer, uint64_t nonce) const {
  auto it = by_key_.find(Key{signer, nonce});
  if (it == by_key_.end()) return nullptr;
  return &by_index_.at(it->second);
}

const AuthorizationBook::Entry* AuthorizationBook::Match(const rules::Command& deposit) const {
  const rules::Deposit* d = AsDeposit(deposit);
  const Entry* e = Find(deposit.signer, deposit.nonce);
  if (d == nullptr || e == nullptr) return nullptr;
  const rules::Deposit* recorded = AsDeposit(e->deposit);
  if (recorded->currency != d->currency || recorded->amount != d->amount) return nullptr;
  return e;
}

uint64_t AuthorizationBook::Consume(const rules::AccountId& signer, uint64_t nonce) {
  auto it = by_key_.find(Key{signer, nonce});
  if (it == by_key_.end()) return 0;
  const uint64_t index = it->second;
  by_key_.erase(it);
  if (auto n = nonces_.find(signer); n != nonces_.end()) {
    n->second.erase(nonce);
    if (n->second.empty()) nonces_.erase(n);
  }
  auto entry = by_index_.find(index);
  const rules::Deposit* d = AsDeposit(entry->second.deposit);
  auto reserved = reserved_.find(ReserveKey{signer, d->currency});
  const u128 left = reserved->second.raw() - d->amount.raw();
  if (left == 0) {
    reserved_.erase(reserved);
  } else {
    reserved->second = Amount::FromRaw(left);
  }
  by_index_.erase(entry);
  return index;
}

std::vector<uint64_t> AuthorizationBook::ReleaseStale(const rules::AccountId& signer, uint64_t nonce) {
  std::vector<uint64_t> released;
  auto it = nonces_.find(signer);
  if (it == nonces_.end()) return released;
  std::vector<uint64_t> stale(it->second.begin(), it->second.upper_bound(nonce));
  for (uint64_t n : stale) released.push_back(Consume(signer, n));  // may erase `it`
  return released;
}

Amount AuthorizationBook::Reserved(const rules::AccountId& user, rules::Currency currency) const {
  auto it = reserved_.find(ReserveKey{user, currency});
  return it == reserved_.end() ? Amount() : it->second;
}

std::vector<AuthorizationBook::Entry> AuthorizationBook::From(uint64_t from, size_t max) const {
  std::vector<Entry> out;
  for (auto it = by_index_.lower_bound(from); it != by_index_.end() && out.size() < max; ++it) {
    out.push_back(it->second);
  }
  return out;
}

}  // namespace pom::verify
