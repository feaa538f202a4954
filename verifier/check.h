// `pom-verifier check`: verifies a proof file (length-delimited pom.v1.Proof) from the genesis.
// Signatures are checked on `threads` worker threads, a batch ahead of the serial root chain.
// Thread-safety: Check is self-contained; it starts and joins its own threads.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "common/bytes.h"
#include "verifier/verify.h"

namespace pom::verify {

struct CheckOptions {
  std::string proofs_path;
  std::string genesis_path;
  int threads = 2;
  bool check_signatures = true;
};

struct CheckResult {
  Bytes32 root;
  uint64_t proofs = 0;        // verified
  uint64_t failed_sequence = 0;
  Verdict verdict;            // the first failure, if any
};

// Errors: I/O or parse failures of the files (a proof that does not parse is a verdict, not an
// error: kMalformedLeaf / kBadCommand at its sequence).
absl::StatusOr<CheckResult> Check(const CheckOptions& options);

}  // namespace pom::verify
