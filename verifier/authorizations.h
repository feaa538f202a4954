// Deposit authorizations the chain side recorded (DESIGN §Commands, Deposit): a user signs a
// Deposit command for this prover and hands it to the verifier (pom.v1.Verifier/Authorize),
// which reserves the chain-side funds and lists it in its authorization feed; the matcher
// sequences it; the verifier accepts the deposit's proof only if it matches an outstanding
// authorization, and consumes it then. Each authorization is consumed once.
// Thread-safety: not thread-safe; the owner serializes access.
#pragma once

#include <cstdint>
#include <set>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "common/rules/commands.h"

namespace pom::verify {

class AuthorizationBook {
 public:
  struct Entry {
    uint64_t index = 0;  // position in the feed, from 1, never reused
    rules::Command deposit;
  };

  // Records `deposit` at `index`. Errors: InvalidArgument if it is not a deposit or `index` is
  // taken; AlreadyExists if its (signer, nonce) is taken by an outstanding authorization.
  absl::Status Add(uint64_t index, rules::Command deposit);

  // The outstanding authorization with this signer and nonce, or null.
  const Entry* Find(const rules::AccountId& signer, uint64_t nonce) const;
  // The outstanding authorization of exactly this deposit (signer, nonce, currency, amount), or null.
  const Entry* Match(const rules::Command& deposit) const;
  // Removes the authorization with this signer and nonce; returns its index (0: none).
  uint64_t Consume(const rules::AccountId& signer, uint64_t nonce);

  // Removes `signer`'s outstanding authorizations with a nonce <= `nonce`: once an event of
  // that signer spent `nonce`, they can never be sequenced (their nonce is stale), so their
  // funds go back to the chain side. Returns their indexes.
  std::vector<uint64_t> ReleaseStale(const rules::AccountId& signer, uint64_t nonce);

  // Funds of `user` in `currency` authorized and not yet deposited.
  Amount Reserved(const rules::AccountId& user, rules::Currency currency) const;
  // Up to `max` outstanding authorizations with index >= `from`, in index order.
  std::vector<Entry> From(uint64_t from, size_t max) const;
  size_t size() const { return by_index_.size(); }

 private:
  using Key = std::pair<rules::AccountId, uint64_t>;
  using ReserveKey = std::pair<rules::AccountId, rules::Currency>;
  absl::btree_map<uint64_t, Entry> by_index_;
  absl::flat_hash_map<Key, uint64_t> by_key_;
  absl::flat_hash_map<rules::AccountId, std::set<uint64_t>> nonces_;  // outstanding, per signer
  absl::flat_hash_map<ReserveKey, Amount> reserved_;
};

}  // namespace pom::verify
