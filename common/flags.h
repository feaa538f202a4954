// Command-line flags for pom's tools: `--name value`, `--name=value` and bare `--name` for
// booleans. Only declared flags are accepted; errors name the flag.
// Thread-safety: not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace pom {

class Flags {
 public:
  // `valued`: flags that take a value; `booleans`: flags that do not.
  Flags(std::set<std::string> valued, std::set<std::string> booleans)
      : valued_(std::move(valued)), booleans_(std::move(booleans)) {}

  // Parses argv[first..argc). Errors: InvalidArgument for an unknown flag, a missing value, or a
  // stray positional argument.
  absl::Status Parse(int argc, char** argv, int first);

  bool Has(const std::string& name) const { return values_.contains(name); }
  // Errors: InvalidArgument if a required flag is missing or not a number.
  absl::StatusOr<std::string> Get(const std::string& name) const;
  std::string GetOr(const std::string& name, const std::string& fallback) const;
  absl::StatusOr<uint64_t> GetU64(const std::string& name) const;
  absl::StatusOr<uint64_t> GetU64Or(const std::string& name, uint64_t fallback) const;

 private:
  std::set<std::string> valued_;
  std::set<std::string> booleans_;
  std::map<std::string, std::string> values_;
};

}  // namespace pom
