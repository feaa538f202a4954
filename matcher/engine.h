// The matcher's engine: one serial state, one thread. Submit() refuses what cannot become an
// event (bad signature, stale nonce, admin not from the operator, a deposit nobody authorized),
// otherwise sequences the command, runs pom::rules on the fast state through a recording
// wrapper, applies the touched leaves to the SHA-256 tree, and returns the event's proof.
// If the rules ever fail on a sequenced command the state is inconsistent: the engine halts and
// refuses everything after (it never skips an event).
// Thread-safety: not thread-safe; owned by the engine thread.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "common/hash.h"
#include "common/rules/ledger.h"
#include "common/rules/proof.h"
#include "common/smt/memory_node_store.h"
#include "common/smt/tree.h"
#include "matcher/fast_state.h"
#include "common/rules/recording_state.h"

namespace pom::matcher {

struct EngineOptions {
  Bytes32 prover_id;
  rules::AccountId operator_account;
  // Off only for benchmarks of matching alone: no proofs, no tree, no root.
  bool prove = true;
  // Off only for benchmarks whose input is already checked (signatures cost ~60 µs each).
  bool check_signatures = true;
};

class Engine {
 public:
  explicit Engine(EngineOptions options);

  // Chain-side funds that back deposit authorizations (from the genesis).
  absl::Status CreditChain(const rules::AccountId& user, rules::Currency currency, Amount amount);

  // Errors (the command is refused and not sequenced): InvalidArgument for an out-of-range
  // field, Unauthenticated for a bad signature, PermissionDenied for admin not signed by the
  // operator, FailedPrecondition for a stale nonce, a deposit without authorization, or a
  // halted engine; Internal (and the engine halts) if the state turns out inconsistent.
  absl::StatusOr<rules::EventProof> Submit(const rules::Command& command);

  // Like Submit with prove = false: the outcome only.
  absl::StatusOr<rules::Outcome> SubmitUnproved(const rules::Command& command);

  const Bytes32& root() const { return tree_->root(); }
  // Non-empty leaves in the state tree.
  size_t live_leaves() const { return store_.leaf_count(); }
  uint64_t sequence() const { return sequence_; }
  const FastState& state() const { return state_; }
  const rules::CustodyLedger& ledger() const { return ledger_; }

 private:
  absl::Status Admit(const rules::Command& command);
  absl::Status Halt(absl::Status reason);

  EngineOptions options_;
  FastState state_;
  rules::RecordingState recording_;
  smt::MemoryNodeStore store_;
  std::unique_ptr<smt::SparseMerkleTree<Sha256Hasher>> tree_;
  rules::CustodyLedger ledger_;
  uint64_t sequence_ = 0;
  absl::Status halted_;
};

}  // namespace pom::matcher
