// pom::verify: checks one event proof against the stored root and sequence and, if everything
// agrees, advances them. Links common (with rules) and proto only, never matcher.
//
// The checks, in order (the first failure is the reject reason):
//  1. the sequence is the next one and the previous root is the stored root;
//  2. the leaves are well formed: distinct raw keys of a known kind and size, records present
//     exactly for non-zero record leaves and hashing to their values;
//  3. the old leaves prove the previous root through the multiproof;
//  4. the command: known enums, signed by its signer for this prover, admin only by the
//     operator, a deposit backed by a chain-side authorization in the custody ledger (and, with
//     an authorization book, by an outstanding recorded authorization of exactly this deposit);
//  5. pom::rules re-run on a witness holding only the proof's old leaves: touching a leaf the
//     witness lacks rejects (incomplete witness); the nonce must be fresh;
//  6. the leaves the rules touched, in order, with their new values and records, equal the
//     proof's leaves exactly (nothing omitted, nothing extra); the outcome equals the proof's;
//  7. the new leaves prove the proof's new root through the same multiproof;
//  8. per currency, the account leaves change by exactly the deposit or withdrawal;
//  9. the custody ledger accepts the deposit or withdrawal.
// Thread-safety: a Verifier is not thread-safe. CheckSignature may run on any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/bytes.h"
#include "common/smt/multiproof.h"
#include "common/rules/ledger.h"
#include "common/rules/proof.h"
#include "verifier/authorizations.h"

namespace pom::verify {

// Stable codes: append only.
enum class RejectReason : uint8_t {
  kNone = 0,
  kWrongSequence = 1,
  kWrongPreviousRoot = 2,
  kMalformedLeaf = 3,
  kRecordMismatch = 4,
  kOldLeavesNotInRoot = 5,
  kBadCommand = 6,
  kBadSignature = 7,
  kNotOperator = 8,
  kUnauthorizedDeposit = 9,
  kStaleNonce = 10,
  kIncompleteWitness = 11,
  kInconsistentWitness = 12,
  kLeavesMismatch = 13,
  kOutcomeMismatch = 14,
  kWrongNewRoot = 15,
  kConservation = 16,
  kCustody = 17,
};

std::string_view RejectReasonName(RejectReason reason);

struct Verdict {
  RejectReason reason = RejectReason::kNone;
  std::string detail;
  // An accepted deposit with an authorization book: the index of the authorization it consumed.
  uint64_t consumed_authorization = 0;
  // With an authorization book: the signer's other outstanding authorizations this event made
  // stale (their nonce is at or below the one it spent), released back to the chain side.
  std::vector<uint64_t> released_authorizations;
  bool ok() const { return reason == RejectReason::kNone; }
};

struct Config {
  Bytes32 prover_id;
  rules::AccountId operator_account;
};

// True if the command's signature is valid for this prover. Pure; safe on any thread, so
// signatures can be checked in parallel ahead of the serial root chain.
bool CheckSignature(const Config& config, const rules::Command& command);

// The old and new roots each proof's multiproof gives over its leaves: the part of Verify that
// depends on the proof alone. Several proofs' roots computed together are faster per proof
// (their hashes are batched, smt::ComputeMultiproofRootPairs); the serial root chain then checks
// them (Verify's `roots`). Pure; safe on any thread.
std::vector<absl::StatusOr<smt::RootPair>> ComputeProofRoots(std::span<const rules::EventProof* const> proofs);

class Verifier {
 public:
  // Starts from `root` at `sequence` (the genesis: all-zero root, sequence 0) with `ledger`.
  Verifier(Config config, rules::CustodyLedger ledger, Bytes32 root = Bytes32(), uint64_t sequence = 0);

  // Verifies `proof`; on success advances the root, the sequence and the ledger, otherwise
  // changes nothing. `signature_checked`: the caller already verified the signature (true) or
  // leaves it to Verify (false). `roots`: what ComputeProofRoots gave for this proof, or null to
  // compute them here.
  Verdict Verify(const rules::EventProof& proof, bool signature_checked = false,
                 const absl::StatusOr<smt::RootPair>* roots = nullptr);

  // From now on a deposit must also match an outstanding authorization in `book` (the daemon,
  // where users authorize deposits at the verifier), which an accepted deposit event consumes
  // (also when the rules reject it: its nonce is spent); every accepted event of a signer also
  // releases that signer's authorizations its nonce made stale. Without a book (pom-verifier check),
  // the chain-side balances of the ledger are the authorization. `book` must outlive the
  // verifier.
  void RequireAuthorizations(AuthorizationBook* book) { authorizations_ = book; }

  const Bytes32& root() const { return root_; }
  uint64_t sequence() const { return sequence_; }
  const rules::CustodyLedger& ledger() const { return ledger_; }

 private:
  Config config_;
  rules::CustodyLedger ledger_;
  Bytes32 root_;
  uint64_t sequence_;
  AuthorizationBook* authorizations_ = nullptr;
};

}  // namespace pom::verify
