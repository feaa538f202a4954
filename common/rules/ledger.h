// The custody ledger: chain-side balances (funds a user holds on the chain side and may
// authorize to this prover) and what the prover holds in custody per currency. A deposit moves
// chain-side funds into custody; a withdrawal moves them back. The matcher uses it to refuse
// deposits nobody authorized; the verifier keeps its own and checks every proof against it.
// Thread-safety: not thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/rules/commands.h"
#include "common/rules/rules.h"
#include "common/rules/types.h"

namespace pom::rules {

class CustodyLedger {
 public:
  // Adds chain-side funds (genesis, or a recorded authorization). Errors: OutOfRange on overflow.
  absl::Status CreditChain(const AccountId& user, Currency currency, Amount amount);

  Amount ChainBalance(const AccountId& user, Currency currency) const;
  Amount Custody(Currency currency) const;

  // True if `amount` of chain-side funds backs a deposit by `user`.
  bool CanDeposit(const AccountId& user, Currency currency, Amount amount) const;

  // Moves funds for an accepted (not rejected) deposit or withdrawal event; other events do
  // nothing. Errors: FailedPrecondition for a deposit without chain-side funds, OutOfRange for a
  // withdrawal beyond custody (both mean the event must not be accepted).
  absl::Status ApplyEvent(const Command& command, const Outcome& outcome);

  // Every non-zero entry, sorted (user, currency) and by currency: deterministic.
  struct ChainEntry {
    AccountId user;
    Currency currency;
    Amount amount;
    friend bool operator==(const ChainEntry&, const ChainEntry&) = default;
  };
  std::vector<ChainEntry> ChainEntries() const;
  std::vector<std::pair<Currency, Amount>> CustodyEntries() const;

  // A byte encoding of the whole ledger (docs/protocol.md "Storage records"), and back.
  // Errors (Decode): DataLoss for a truncated or malformed encoding.
  std::string Encode() const;
  static absl::StatusOr<CustodyLedger> Decode(std::string_view bytes);

  friend bool operator==(const CustodyLedger& a, const CustodyLedger& b) {
    return a.ChainEntries() == b.ChainEntries() && a.CustodyEntries() == b.CustodyEntries();
  }

 private:
  struct Key {
    AccountId user;
    Currency currency;
    friend bool operator==(const Key&, const Key&) = default;
    template <typename H>
    friend H AbslHashValue(H h, const Key& k) {
      return H::combine(std::move(h), k.user, k.currency);
    }
  };
  absl::flat_hash_map<Key, Amount> chain_;
  absl::flat_hash_map<Currency, Amount> custody_;
};

}  // namespace pom::rules
