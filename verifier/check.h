// `pom-verifier check`: verifies a proof file (length-delimited pom.v1.Proof) from the genesis,
// or, with a data directory, from the head stored there by an earlier run (verifier/store.h).
// Signatures are checked on `threads` worker threads, a batch ahead of the serial root chain.
// Thread-safety: Check is self-contained; it starts and joins its own threads.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/bytes.h"
#include "common/rules/ledger.h"
#include "common/rules/proof.h"
#include "verifier/verify.h"

namespace pom::verify {

// A genesis file read for a verifier: the config and the chain-side ledger it starts from.
struct VerifierGenesis {
  Config config;
  rules::CustodyLedger ledger;
};
// Errors: the file's (codec::ReadGenesisFile), OutOfRange for balances that overflow.
absl::StatusOr<VerifierGenesis> LoadVerifierGenesis(const std::string& path);

// Signature checks of a batch on `workers` threads (this one included; they take chunks of
// proofs in turn): ok[i] is 1 if batch[i] is a proof (not null: it decoded) whose command's
// signature is valid.
std::vector<char> CheckSignaturesParallel(const Config& config, std::span<const rules::EventProof* const> batch,
                                          int workers);

struct CheckOptions {
  std::string proofs_path;
  std::string genesis_path;
  int threads = 2;
  bool check_signatures = true;
  // Empty: nothing is stored and every run starts from the genesis. Otherwise the RocksDB
  // directory of the verifier's head: the run resumes after the stored sequence (skipping the
  // proofs at or before it) and commits the head every `persist_every` verified proofs, before
  // reporting a rejection, and at the end.
  std::string data_dir;
  uint64_t persist_every = 1000;  // REQUIRES: > 0 (InvalidArgument otherwise)
};

struct CheckResult {
  Bytes32 root;
  uint64_t proofs = 0;        // verified in this run
  uint64_t resumed_from = 0;  // the stored sequence this run resumed after (0: the genesis)
  uint64_t failed_sequence = 0;
  Verdict verdict;            // the first failure, if any
};

// Errors: I/O or parse failures of the files (a proof that does not parse is a verdict, not an
// error: kMalformedLeaf / kBadCommand at its sequence); the store's errors (verifier/store.h:
// FailedPrecondition for a data directory of another genesis, DataLoss for a corrupt head);
// FailedPrecondition if the file holds the stored sequence with another new root than the stored
// one (the file is from another history).
absl::StatusOr<CheckResult> Check(const CheckOptions& options);

}  // namespace pom::verify
