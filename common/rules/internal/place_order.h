// The PlaceOrder rule: validation, price-time matching against the opposite side, settlement
// with fees, self-trade prevention, and resting or releasing the remainder.
// Thread-safety: as the State it is given.
#pragma once

#include "absl/status/statusor.h"
#include "common/rules/commands.h"
#include "common/rules/rules.h"
#include "common/rules/state.h"

namespace pom::rules_internal {

absl::StatusOr<rules::Outcome> PlaceOrderRules(rules::State& state, const rules::Context& context,
                                               const rules::AccountId& taker,
                                               const rules::PlaceOrder& command);

}  // namespace pom::rules_internal
