// End-to-end proof feed throughput (pom-bench e2e): starts pom-verifier and pom-matcher as real
// processes on loopback with a generated genesis, funds the users through verifier
// authorizations (untimed), then `clients` threads submit pre-signed limit orders over gRPC
// (each client owns some users, so their nonces stay in order) while a poller samples the
// verifier's head every millisecond. Reports events/s from the first submit until the verifier
// has verified the last event, and per event: submit -> acknowledgement, and submit -> verified
// (resolution: the poll interval plus one GetHead).
// Thread-safety: RunE2e is self-contained.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace pom::bench {

struct E2eOptions {
  std::string bin_dir;  // where pom-matcher and pom-verifier are
  uint64_t events = 20'000;
  uint32_t users = 64;
  uint32_t clients = 32;  // concurrent submitters (REQUIRES: <= users)
  uint64_t seed = 1;
};

struct E2eResult {
  uint64_t events = 0;
  uint64_t errors = 0;
  double seconds_acked = 0;     // first submit -> last acknowledgement
  double seconds_verified = 0;  // first submit -> the verifier's head at the last event
  double ack_p50_us = 0, ack_p99_us = 0, ack_p999_us = 0;
  double verified_p50_us = 0, verified_p99_us = 0, verified_p999_us = 0;
  double lag_p50_events = 0, lag_max_events = 0;  // the matcher's head minus the verifier's, sampled
};

// Errors: the daemons did not start or stop cleanly; a setup call failed.
absl::StatusOr<E2eResult> RunE2e(const E2eOptions& options);

}  // namespace pom::bench
