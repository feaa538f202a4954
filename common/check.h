// POM_CHECK: always-on assertions for programmer errors. A failed check prints the condition
// and location to stderr and aborts. Never use it on anything a client controls: bad input
// gets a Status or a business reject, not a crash.
// Thread-safety: safe from any thread.
#pragma once

#include <string_view>

namespace pom::check_internal {
[[noreturn]] void CheckFailed(std::string_view condition, std::string_view file, int line,
                              std::string_view message);
}  // namespace pom::check_internal

#define POM_CHECK(cond)                                                           \
  do {                                                                            \
    if (!(cond)) [[unlikely]] {                                                   \
      ::pom::check_internal::CheckFailed(#cond, __FILE__, __LINE__, "");          \
    }                                                                             \
  } while (false)

#define POM_CHECK_MSG(cond, message)                                              \
  do {                                                                            \
    if (!(cond)) [[unlikely]] {                                                   \
      ::pom::check_internal::CheckFailed(#cond, __FILE__, __LINE__, (message));   \
    }                                                                             \
  } while (false)

// Checks that an absl::Status (or StatusOr) is OK; prints the status when it is not.
#define POM_CHECK_OK(expr)                                                             \
  do {                                                                                 \
    const auto& pom_check_status_ = (expr);                                            \
    if (!pom_check_status_.ok()) [[unlikely]] {                                        \
      ::pom::check_internal::CheckFailed(#expr " is OK", __FILE__, __LINE__,           \
                                         ::pom::check_internal::StatusText(pom_check_status_)); \
    }                                                                                  \
  } while (false)

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace pom::check_internal {
inline std::string StatusText(const absl::Status& s) { return s.ToString(); }
template <typename T>
std::string StatusText(const absl::StatusOr<T>& s) {
  return s.status().ToString();
}
}  // namespace pom::check_internal
