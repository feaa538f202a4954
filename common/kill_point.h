// Named kill points for crash tests. With POM_KILL_AT=<name> (or <name>:<n>) in the environment,
// the process kills itself with SIGKILL the first (n-th) time it reaches KillPoint(<name>): no
// destructors, no flushing, exactly like a crash at that step. Without the variable a kill point
// costs one predictable branch. The names in use are listed in docs/durability.md.
// Thread-safety: safe to call from any thread.
#pragma once

#include <string_view>

namespace pom {

void KillPoint(std::string_view name);

}  // namespace pom
