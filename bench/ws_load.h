// Open-loop WebSocket load (pom-bench load --ws): starts pom-matcher (standalone, its genesis
// funds the users) with its WebSocket gateway on loopback, logs `users` traders on, and for each
// rate sends pre-signed limit orders at exactly that rate for `duration_seconds` (request i is
// due at start + i / rate). Latency runs from the planned send time to the acknowledgement, so a
// client or server that falls behind is counted, not hidden (no coordinated omission).
// Thread-safety: RunWsLoad is self-contained (one I/O thread).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace pom::bench {

struct LoadOptions {
  std::string bin_dir;
  std::vector<uint64_t> rates = {1000, 5000, 10000};  // orders per second
  uint64_t duration_seconds = 10;
  uint32_t users = 64;
  uint64_t seed = 1;
  // Non-empty: a CSV of every acknowledgement (rate, planned send time in ms from the round's
  // start, latency in µs, sorted by planned time), to see when in a round the latency went up.
  std::string trace_path;
};

struct LoadResult {
  uint64_t rate = 0;
  uint64_t sent = 0;
  uint64_t answered = 0;
  uint64_t errors = 0;
  double achieved = 0;  // answered per second
  double p50_us = 0, p99_us = 0, p999_us = 0, max_us = 0;
};

// Stops at the first rate the server could not answer within 30 s past its duration.
absl::StatusOr<std::vector<LoadResult>> RunWsLoad(const LoadOptions& options);

}  // namespace pom::bench
