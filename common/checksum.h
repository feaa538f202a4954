// Record checksums: XXH3-64 over a record's key and payload, so that a flipped byte, a torn
// value, or a record stored under the wrong key is caught where it is read, not later as a wrong
// root. A sealed value is the 8-byte little-endian checksum followed by the payload
// (docs/protocol.md "Storage records").
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace pom {

inline constexpr size_t kSealBytes = 8;

// XXH3-64 of `key` followed by `payload` (seed 0).
uint64_t RecordChecksum(std::string_view key, std::string_view payload);

// checksum(key, payload) || payload.
std::string SealRecord(std::string_view key, std::string_view payload);

// The payload of a sealed value. Errors: DataLoss if the value is shorter than a checksum or its
// checksum does not match `key` and the payload.
absl::StatusOr<std::string_view> UnsealRecord(std::string_view key, std::string_view sealed);

}  // namespace pom
