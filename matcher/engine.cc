#include "matcher/engine.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/check.h"
#include "common/rules/apply.h"
#include "common/status_macros.h"

namespace pom::matcher {

Engine::Engine(EngineOptions options) : options_(options), recording_(&state_) {
  POM_CHECK(options_.node_store == nullptr);
  owned_store_ = std::make_unique<smt::MemoryNodeStore>();
  auto tree = smt::SparseMerkleTree<Sha256Hasher>::Open(owned_store_.get());
  POM_CHECK_OK(tree);  // an empty in-memory store cannot fail to open
  tree_ = std::make_unique<smt::SparseMerkleTree<Sha256Hasher>>(std::move(*tree));
}

absl::StatusOr<std::unique_ptr<Engine>> Engine::Create(EngineOptions options) {
  if (options.node_store == nullptr) return std::make_unique<Engine>(options);
  std::unique_ptr<Engine> engine(new Engine(options, 0));
  POM_ASSIGN_OR_RETURN(auto tree, smt::SparseMerkleTree<Sha256Hasher>::Open(options.node_store));
  engine->tree_ = std::make_unique<smt::SparseMerkleTree<Sha256Hasher>>(std::move(tree));
  return engine;
}

absl::Status Engine::Restore(uint64_t sequence, FastState state, rules::CustodyLedger ledger,
                             bool build_tree) {
  POM_CHECK(sequence_ == 0);
  state_ = std::move(state);
  ledger_ = std::move(ledger);
  sequence_ = sequence;
  if (build_tree) POM_RETURN_IF_ERROR(tree_->BuildFromLeaves(StateLeaves(state_)));
  return absl::OkStatus();
}

absl::Status Engine::CreditChain(const rules::AccountId& user, rules::Currency currency,
                                 Amount amount) {
  return ledger_.CreditChain(user, currency, amount);
}

absl::Status Engine::Halt(absl::Status reason) {
  halted_ = absl::InternalError(
      absl::StrCat("engine halted at sequence ", sequence_, ": ", reason.ToString()));
  return halted_;
}

absl::Status Engine::Admit(const rules::Command& command) {
  if (!halted_.ok()) return absl::FailedPreconditionError(halted_.ToString());
  POM_RETURN_IF_ERROR(rules::ValidateCommand(command));
  if (options_.check_signatures && !rules::VerifyCommandSignature(options_.prover_id, command)) {
    return absl::UnauthenticatedError("bad signature");
  }
  POM_RETURN_IF_ERROR(rules::CheckSignerAndNonce(state_, options_.operator_account, command));
  if (const auto* d = std::get_if<rules::Deposit>(&command.body)) {
    if (!ledger_.CanDeposit(command.signer, d->currency, d->amount)) {
      return absl::FailedPreconditionError("deposit without a chain-side authorization");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<rules::Outcome> Engine::SubmitUnproved(const rules::Command& command) {
  POM_RETURN_IF_ERROR(Admit(command));
  ++sequence_;
  const rules::Context context{rules::Sequence{sequence_}, options_.operator_account};
  // Admit ran the rules' own admission checks on this state; without a proof to record, the
  // rules need not run them again.
  absl::StatusOr<rules::Outcome> outcome = rules::ApplyAdmitted(state_, context, command);
  if (!outcome.ok()) return Halt(outcome.status());
  absl::Status ledger = ledger_.ApplyEvent(command, *outcome);
  if (!ledger.ok()) return Halt(ledger);
  return outcome;
}

absl::StatusOr<rules::EventProof> Engine::Submit(const rules::Command& command,
                                                 bool with_multiproof) {
  if (!options_.prove) return absl::FailedPreconditionError("engine built without proofs");
  POM_RETURN_IF_ERROR(Admit(command));
  ++sequence_;
  const rules::Context context{rules::Sequence{sequence_}, options_.operator_account};
  recording_.Reset();
  absl::StatusOr<rules::Outcome> outcome = rules::Apply(recording_, context, command);
  if (!outcome.ok()) return Halt(outcome.status());
  absl::Status ledger = ledger_.ApplyEvent(command, *outcome);
  if (!ledger.ok()) return Halt(ledger);

  rules::EventProof proof;
  proof.sequence = rules::Sequence{sequence_};
  proof.prev_root = tree_->root();
  proof.command = command;
  proof.outcome = std::move(*outcome);
  proof.leaves = recording_.TakeLeaves();
  // One pass over the touched leaves' paths updates the tree and collects the multiproof
  // (unchanged leaves are in the batch so that the proof covers them).
  std::vector<smt::SmtLeaf> batch;
  batch.reserve(proof.leaves.size());
  for (const rules::TouchedLeaf& leaf : proof.leaves) {
    batch.push_back({rules::TreeKey(leaf.key), leaf.new_value});
  }
  absl::Status updated = tree_->UpdateBatch(std::move(batch), with_multiproof ? &proof.multiproof : nullptr);
  if (!updated.ok()) return Halt(updated);
  proof.new_root = tree_->root();
  return proof;
}

absl::StatusOr<Engine::LeafProof> Engine::ProveLeaves(std::span<const rules::RawKey> keys) const {
  LeafProof out;
  std::vector<Bytes32> tree_keys;
  tree_keys.reserve(keys.size());
  for (const rules::RawKey& raw : keys) {
    tree_keys.push_back(rules::TreeKey(raw));
    POM_ASSIGN_OR_RETURN(Bytes32 value, tree_->Get(tree_keys.back()));
    out.values.push_back(value);
  }
  POM_ASSIGN_OR_RETURN(out.multiproof, tree_->Multiproof(tree_keys));
  return out;
}

absl::StatusOr<Engine::AccountProof> Engine::ProveAccount(const rules::AccountId& user,
                                                          std::vector<uint32_t> currencies) const {
  AccountProof out;
  if (currencies.empty()) {
    state_.ForEachMarket([&](rules::MarketId market, const FastState::Book&) {
      currencies.push_back(market.base.id);
      currencies.push_back(market.quote.id);
    });
  }
  std::sort(currencies.begin(), currencies.end());
  currencies.erase(std::unique(currencies.begin(), currencies.end()), currencies.end());
  for (uint32_t c : currencies) out.keys.push_back(rules::AccountKey(user, rules::Currency{c}));
  out.keys.push_back(rules::NonceKey(user));
  out.currencies = std::move(currencies);
  POM_ASSIGN_OR_RETURN(out.proof, ProveLeaves(out.keys));
  return out;
}

}  // namespace pom::matcher
