// pom::rules: the state transition function, written once against State. The matcher runs it
// on its fast book; the verifier runs it on a proof's witness and must get the same leaves and
// the same outcome. Deterministic: no clock, no randomness, no unordered iteration. The text is
// a template (apply.h, ApplyTo) so that a final State such as the matcher's can have its
// accessors inlined; Apply below is its instantiation for the virtual State.
//
// Contract of Apply for one sequenced command:
//  - errors (absl::Status) mean the command cannot be an event at all: a stale nonce, an admin
//    command not from the operator, an out-of-range enum, a state that fails to answer (an
//    incomplete witness) or is inconsistent. The matcher refuses such commands before sequencing
//    (and halts if its own state is inconsistent); the verifier rejects the proof.
//  - otherwise the command is an event: the nonce is consumed, and either the command takes
//    effect or the Outcome carries a RejectCode and nothing else changed.
// Thread-safety: pure function of its arguments and the State.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "common/rules/commands.h"
#include "common/rules/state.h"
#include "common/rules/types.h"

namespace pom::rules {

struct Fill {
  OrderId maker_order;
  AccountId maker;
  Price price;       // the maker's price
  Amount amount;     // base
  Amount quote;      // price * amount
  Amount maker_fee;  // in what the maker receives
  Amount taker_fee;  // in what the taker receives
  friend bool operator==(const Fill&, const Fill&) = default;
};

struct Outcome {
  RejectCode reject = RejectCode::kNone;
  OrderId order;                   // PlaceOrder: the new order's id (the event's sequence)
  std::vector<Fill> fills;         // PlaceOrder: in matching order
  Amount resting;                  // PlaceOrder: what rests in the book afterwards
  std::vector<OrderId> cancelled;  // resting orders removed without a fill (cancel, STP)
  bool taker_stopped = false;      // PlaceOrder: self-trade prevention or max_makers ended it
  friend bool operator==(const Outcome&, const Outcome&) = default;
};

struct Context {
  Sequence sequence;          // of this event; new orders get it as their id
  AccountId operator_account; // signs market admin; receives fees
};

absl::StatusOr<Outcome> Apply(State& state, const Context& context, const Command& command);

// Checks the enum fields of a command (clients control them). Errors: InvalidArgument.
absl::Status ValidateCommand(const Command& command);

}  // namespace pom::rules
