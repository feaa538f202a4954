// Status propagation macros for absl::Status / absl::StatusOr (Debian's Abseil 20220623 ships none).
//
//   POM_RETURN_IF_ERROR(expr);             returns the status of `expr` if it is not OK.
//   POM_ASSIGN_OR_RETURN(lhs, expr);       evaluates a StatusOr; returns its status on error,
//                                          otherwise moves the value into `lhs` (which may declare).
// Thread-safety: macros only; no state.
#pragma once

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define POM_STATUS_CONCAT_INNER(a, b) a##b
#define POM_STATUS_CONCAT(a, b) POM_STATUS_CONCAT_INNER(a, b)

#define POM_RETURN_IF_ERROR(expr)                      \
  do {                                                 \
    ::absl::Status pom_status_internal_ = (expr);      \
    if (!pom_status_internal_.ok()) {                  \
      return pom_status_internal_;                     \
    }                                                  \
  } while (false)

#define POM_ASSIGN_OR_RETURN(lhs, expr) \
  POM_ASSIGN_OR_RETURN_IMPL(POM_STATUS_CONCAT(pom_statusor_, __LINE__), lhs, expr)

#define POM_ASSIGN_OR_RETURN_IMPL(statusor, lhs, expr) \
  auto statusor = (expr);                              \
  if (!statusor.ok()) {                                \
    return std::move(statusor).status();               \
  }                                                    \
  lhs = std::move(statusor).value()
