#include "common/check.h"

#include <cstdio>
#include <cstdlib>

namespace pom::check_internal {

void CheckFailed(std::string_view condition, std::string_view file, int line,
                 std::string_view message) {
  std::fprintf(stderr, "POM_CHECK failed at %.*s:%d: %.*s%s%.*s\n", static_cast<int>(file.size()),
               file.data(), line, static_cast<int>(condition.size()), condition.data(),
               message.empty() ? "" : ": ", static_cast<int>(message.size()), message.data());
  std::fflush(stderr);
  std::abort();
}

}  // namespace pom::check_internal
