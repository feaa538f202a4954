// A generated command stream run through the matcher's engine, with every event's proof: what
// verifier and codec tests check against.
#pragma once

#include <cstdint>
#include <vector>

#include "bench/workload.h"
#include "common/rules/proof.h"

namespace pom::testing {

struct ProvedRun {
  workload::Workload w;
  std::vector<rules::EventProof> proofs;
};

// `events` commands of workload seed `seed` (12 users, 2 markets), signed if `sign`. A command
// the engine cannot take fails the calling test.
ProvedRun Prove(uint64_t seed, uint64_t events, bool sign = false);

}  // namespace pom::testing
