// A prover that cheats, for the verifier's tests. It keeps an honest state and tree like the
// engine, and can forge an event: the rules run on a lying view of the state (`lie` edits a copy
// before the run) or on a command other than the one signed (`run_command`), and `tamper` may
// then edit the leaves and outcome. The forged proof presents the TRUE old leaves and records
// (read from the honest state), the forged new ones, and a multiproof and new root computed from
// the full tree, so it is as consistent as a cheating matcher can make it. With
// `pad_with_honest_leaves`, every leaf the honest rules would read is included as well, so the
// verifier never lacks a leaf and must catch the cheat by what the leaves become.
#pragma once

#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "common/check.h"
#include "common/hash.h"
#include "common/rules/proof.h"
#include "common/rules/recording_state.h"
#include "common/rules/rules.h"
#include "common/smt/memory_node_store.h"
#include "common/smt/tree.h"
#include "matcher/fast_state.h"

namespace pom::testing {

class CheatingProver {
 public:
  explicit CheatingProver(rules::AccountId op) : op_(op) {
    tree_ = std::make_unique<smt::SparseMerkleTree<Sha256Hasher>>(*smt::SparseMerkleTree<Sha256Hasher>::Open(&store_));
  }

  // An honest event. REQUIRES: the command is admissible.
  rules::EventProof Honest(const rules::Command& c) { return Forge(c, {}); }

  struct Cheat {
    std::function<void(matcher::FastState&)> lie;        // edits the state the rules see
    std::optional<rules::Command> run_command;           // the rules run this instead
    std::function<void(std::vector<rules::TouchedLeaf>&, rules::Outcome&)> tamper;
    bool pad_with_honest_leaves = false;
  };

  rules::EventProof Forge(const rules::Command& signed_command, const Cheat& cheat) {
    ++sequence_;
    const rules::Context ctx{rules::Sequence{sequence_}, op_};
    matcher::FastState seen = state_;  // what the rules are shown
    if (cheat.lie) cheat.lie(seen);
    rules::RecordingState recording(&seen);
    absl::StatusOr<rules::Outcome> outcome = rules::Apply(recording, ctx, cheat.run_command.value_or(signed_command));
    POM_CHECK_OK(outcome);
    std::vector<rules::TouchedLeaf> leaves = recording.TakeLeaves();
    if (cheat.pad_with_honest_leaves) {
      matcher::FastState copy = state_;
      rules::RecordingState honest(&copy);
      POM_CHECK_OK(rules::Apply(honest, ctx, signed_command));
      for (rules::TouchedLeaf& l : honest.TakeLeaves()) {
        bool present = false;
        for (const rules::TouchedLeaf& m : leaves) present = present || m.key == l.key;
        if (!present) {
          l.new_value = l.old_value;  // shown, unchanged
          l.new_record = l.old_record;
          leaves.push_back(std::move(l));
        }
      }
    }
    if (cheat.tamper) cheat.tamper(leaves, *outcome);
    // The truth before the event, from the honest state: old values and records.
    for (rules::TouchedLeaf& l : leaves) {
      rules::RecordingState reader(&state_);
      ReadLeaf(reader, l.key);
      const rules::TouchedLeaf truth = reader.TakeLeaves().at(0);
      l.old_value = truth.old_value;
      l.old_record = truth.old_record;
    }
    rules::EventProof p;
    p.sequence = rules::Sequence{sequence_};
    p.prev_root = tree_->root();
    p.command = signed_command;
    p.outcome = *outcome;
    std::vector<Bytes32> keys;
    for (const rules::TouchedLeaf& l : leaves) {
      keys.push_back(rules::TreeKey(l.key));
      POM_CHECK_OK(tree_->Update(keys.back(), l.new_value));
    }
    p.multiproof = *tree_->Multiproof(keys);
    p.new_root = tree_->root();
    p.leaves = std::move(leaves);
    state_ = std::move(seen);  // the cheater carries on from its own story
    return p;
  }

  matcher::FastState& state() { return state_; }

 private:
  // Reads the leaf named by a raw key through the typed State accessors.
  static void ReadLeaf(rules::State& s, const rules::RawKey& k) {
    using namespace rules;  // NOLINT
    auto market = [&] { return MarketId{Currency{GetU32Le(k.bytes.data() + 1)}, Currency{GetU32Le(k.bytes.data() + 5)}}; };
    auto user = [&] {
      AccountId a;
      std::copy_n(k.bytes.begin() + 1, 32, a.bytes.begin());
      return a;
    };
    switch (k.kind()) {
      case LeafKind::kAccount: POM_CHECK_OK(s.GetBalance(user(), Currency{GetU32Le(k.bytes.data() + 33)})); break;
      case LeafKind::kOrderbook: POM_CHECK_OK(s.GetBookSizes(market())); break;
      case LeafKind::kBestPrice: POM_CHECK_OK(s.GetBestPrices(market())); break;
      case LeafKind::kOrderPage: POM_CHECK_OK(s.GetPageVolume(market(), Price::FromRaw(GetU128Le(k.bytes.data() + 9)))); break;
      case LeafKind::kOrder: POM_CHECK_OK(s.GetOrder(market(), OrderId{GetU64Le(k.bytes.data() + 9)})); break;
      case LeafKind::kPageLink: POM_CHECK_OK(s.GetPage(market(), Price::FromRaw(GetU128Le(k.bytes.data() + 9)))); break;
      case LeafKind::kNonce: POM_CHECK_OK(s.GetNonce(user())); break;
      case LeafKind::kMarket: POM_CHECK_OK(s.GetMarket(market())); break;
    }
  }

  rules::AccountId op_;
  matcher::FastState state_;
  smt::MemoryNodeStore store_;
  std::unique_ptr<smt::SparseMerkleTree<Sha256Hasher>> tree_;
  uint64_t sequence_ = 0;
};

}  // namespace pom::testing
