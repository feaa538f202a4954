#include "common/rules/rules.h"

#include "absl/strings/str_cat.h"
#include "common/rules/apply.h"
#include "common/status_macros.h"

namespace pom::rules {

absl::Status ValidateCommand(const Command& command) {
  auto bad = [](std::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("command has an invalid ", std::string(what)));
  };
  if (const auto* p = std::get_if<PlaceOrder>(&command.body)) {
    if (static_cast<uint8_t>(p->side) > 1) return bad("side");
    if (static_cast<uint8_t>(p->type) > 1) return bad("order type");
    if (static_cast<uint8_t>(p->time_in_force) > 3) return bad("time in force");
    if (static_cast<uint8_t>(p->stp) > 2) return bad("self-trade prevention mode");
  }
  if (const auto* m = std::get_if<CreateMarket>(&command.body)) {
    if (static_cast<uint8_t>(m->params.status) > 2) return bad("market status");
  }
  if (const auto* m = std::get_if<SetMarketStatus>(&command.body)) {
    if (static_cast<uint8_t>(m->status) > 2) return bad("market status");
  }
  return absl::OkStatus();
}

absl::StatusOr<Outcome> Apply(State& s, const Context& context, const Command& command) {
  return ApplyTo(s, context, command);
}

}  // namespace pom::rules
