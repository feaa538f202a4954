// `pom-matcher replay`: runs a command file through a fresh engine offline and writes the proof
// of every event. Commands the engine refuses (bad signature, stale nonce, unauthorized
// deposit) are not events: they are counted and skipped, as a live matcher would refuse them.
// Thread-safety: single-threaded.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "common/bytes.h"

namespace pom::matcher {

struct ReplayOptions {
  std::string commands_path;
  std::string genesis_path;     // default: commands_path + ".genesis"
  std::string proofs_out_path;  // empty: proofs are built but not written
};

struct ReplayResult {
  Bytes32 root;
  uint64_t events = 0;
  uint64_t refused = 0;
  uint64_t proof_bytes = 0;
};

absl::StatusOr<ReplayResult> Replay(const ReplayOptions& options);

}  // namespace pom::matcher
