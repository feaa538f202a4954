// The matcher's engine: one serial state, one thread. Submit() refuses what cannot become an
// event (bad signature, stale nonce, admin not from the operator, a deposit nobody authorized),
// otherwise sequences the command, runs pom::rules on the fast state through a recording
// wrapper, applies the touched leaves to the SHA-256 tree, and returns the event's proof.
// If the rules ever fail on a sequenced command the state is inconsistent: the engine halts and
// refuses everything after (it never skips an event).
// Thread-safety: not thread-safe; owned by the engine thread.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "common/hash.h"
#include "common/rules/ledger.h"
#include "common/rules/proof.h"
#include "common/smt/memory_node_store.h"
#include "common/smt/tree.h"
#include "common/rules/recording_state.h"
#include "matcher/fast_state.h"

namespace pom::matcher {

struct EngineOptions {
  Bytes32 prover_id;
  rules::AccountId operator_account;
  // Off only for benchmarks of matching alone: no proofs, no tree, no root.
  bool prove = true;
  // Off only for input whose signatures were already checked: benchmarks, and the replay of the
  // engine's own journal during recovery (signatures cost ~60 µs each).
  bool check_signatures = true;
  // Where the tree keeps its nodes; not owned, must outlive the engine and may already hold a
  // tree (see Restore). Null: an in-memory store owned by the engine.
  smt::NodeStore* node_store = nullptr;
};

class Engine {
 public:
  // An engine over an in-memory tree (REQUIRES: options.node_store is null).
  explicit Engine(EngineOptions options);

  // Errors: those of opening the tree on `options.node_store`.
  static absl::StatusOr<std::unique_ptr<Engine>> Create(EngineOptions options);

  // Sets the state to a recovered one (a snapshot): the sequence, the fast state and the ledger.
  // With `build_tree` the tree is built from the state's leaves (REQUIRES: the tree is empty);
  // otherwise the node store already holds the tree of this state. Either way, the caller
  // compares root() with the root it recorded. REQUIRES: nothing submitted yet.
  absl::Status Restore(uint64_t sequence, FastState state, rules::CustodyLedger ledger,
                       bool build_tree);

  void set_check_signatures(bool on) { options_.check_signatures = on; }

  // Chain-side funds that back deposit authorizations (from the genesis).
  absl::Status CreditChain(const rules::AccountId& user, rules::Currency currency, Amount amount);

  // Errors (the command is refused and not sequenced): InvalidArgument for an out-of-range
  // field, Unauthenticated for a bad signature, PermissionDenied for admin not signed by the
  // operator, FailedPrecondition for a stale nonce, a deposit without authorization, or a
  // halted engine; Internal (and the engine halts) if the state turns out inconsistent.
  // Without `with_multiproof` the proof has everything but the multiproof (recovery uses it
  // to compare roots with proofs it already stored).
  absl::StatusOr<rules::EventProof> Submit(const rules::Command& command, bool with_multiproof = true);

  // Like Submit with prove = false: the outcome only.
  absl::StatusOr<rules::Outcome> SubmitUnproved(const rules::Command& command);

  // The current values of `keys` and one multiproof of them against root() (the tree keys are
  // SHA-256 of the raw keys; absent leaves have an all-zero value and are proven absent).
  // Errors: InvalidArgument for an empty or repeated key set; the node store's errors.
  struct LeafProof {
    std::vector<Bytes32> values;  // in the order of `keys`
    std::vector<uint8_t> multiproof;
  };
  absl::StatusOr<LeafProof> ProveLeaves(std::span<const rules::RawKey> keys) const;

  // `user`'s account leaves in `currencies` (sorted, duplicates dropped; empty: every currency of
  // every market), then its nonce leaf, proven against root(). Errors: those of ProveLeaves.
  struct AccountProof {
    std::vector<uint32_t> currencies;
    std::vector<rules::RawKey> keys;  // one account leaf per currency, then the nonce leaf
    LeafProof proof;                  // values in the order of keys
    rules::Balance balance(size_t i) const { return rules::BalanceFromValue(proof.values[i]); }
  };
  absl::StatusOr<AccountProof> ProveAccount(const rules::AccountId& user, std::vector<uint32_t> currencies) const;

  const Bytes32& root() const { return tree_->root(); }
  // What the tree's updates have cost so far (for benchmarks).
  const smt::SparseMerkleTree<Sha256Hasher>::Work& tree_work() const { return tree_->work(); }
  // Non-empty leaves in the state tree (0 when the tree lives in an external store).
  size_t live_leaves() const { return owned_store_ ? owned_store_->leaf_count() : 0; }
  uint64_t sequence() const { return sequence_; }
  const Bytes32& prover_id() const { return options_.prover_id; }
  const rules::AccountId& operator_account() const { return options_.operator_account; }
  const FastState& state() const { return state_; }
  const rules::CustodyLedger& ledger() const { return ledger_; }

 private:
  // For Create: the tree is opened on options.node_store afterwards.
  Engine(EngineOptions options, int) : options_(options), recording_(&state_) {}

  absl::Status Admit(const rules::Command& command);
  absl::Status Halt(absl::Status reason);

  EngineOptions options_;
  FastState state_;
  rules::RecordingState recording_;
  std::unique_ptr<smt::MemoryNodeStore> owned_store_;
  std::unique_ptr<smt::SparseMerkleTree<Sha256Hasher>> tree_;
  rules::CustodyLedger ledger_;
  uint64_t sequence_ = 0;
  absl::Status halted_;
};

}  // namespace pom::matcher
