#include "verifier/verify.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "common/hash.h"
#include "common/rules/recording_state.h"
#include "common/rules/rules.h"
#include "common/smt/multiproof.h"
#include "verifier/witness_state.h"

namespace pom::verify {
namespace {

using namespace ::pom::rules;  // NOLINT

Verdict Reject(RejectReason r, std::string detail) { return Verdict{r, std::move(detail)}; }

size_t KeySizeOf(LeafKind kind) {
  switch (kind) {
    case LeafKind::kAccount: return 37;
    case LeafKind::kOrderbook:
    case LeafKind::kBestPrice:
    case LeafKind::kMarket: return 9;
    case LeafKind::kOrderPage:
    case LeafKind::kPageLink: return 25;
    case LeafKind::kOrder: return 17;
    case LeafKind::kNonce: return 33;
  }
  return 0;
}

bool IsRecordKind(LeafKind k) {
  return k == LeafKind::kOrder || k == LeafKind::kPageLink || k == LeafKind::kMarket;
}

// The record behind a value must be present exactly when the value is non-zero, decode, and
// hash to it (`hash`: the record's hash, computed in the caller's batch).
std::string CheckRecord(LeafKind kind, const Bytes32& value, const std::vector<uint8_t>& record, const Bytes32& hash) {
  if (!IsRecordKind(kind)) return record.empty() ? "" : "a record on a plain leaf";
  if (value.IsZero()) return record.empty() ? "" : "a record behind an empty leaf";
  absl::Status decoded = absl::OkStatus();
  if (kind == LeafKind::kOrder) {
    decoded = DecodeOrderRecord(record).status();
  } else if (kind == LeafKind::kPageLink) {
    decoded = DecodePageRecord(record).status();
  } else {
    decoded = DecodeMarketRecord(record).status();
  }
  if (!decoded.ok()) return std::string(decoded.message());
  // The decoders take only canonical encodings, so the hash of the bytes is RecordHash of the
  // decoded record.
  return hash == value ? "" : "the record does not hash to the leaf value";
}

RejectReason FromRulesError(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kFailedPrecondition:
      return absl::string_view(s.message()).find("stale nonce") != absl::string_view::npos
                 ? RejectReason::kStaleNonce
                 : RejectReason::kIncompleteWitness;
    case absl::StatusCode::kPermissionDenied: return RejectReason::kNotOperator;
    // The command was validated before the rules ran, so InvalidArgument here comes from a leaf
    // value that does not decode (a nonce beyond 64 bits, an orderpage with a low half).
    default: return RejectReason::kInconsistentWitness;
  }
}

}  // namespace

std::string_view RejectReasonName(RejectReason reason) {
  switch (reason) {
    case RejectReason::kNone: return "none";
    case RejectReason::kWrongSequence: return "wrong_sequence: not the next event (dropped or reordered)";
    case RejectReason::kWrongPreviousRoot: return "wrong_previous_root: does not continue the verified root";
    case RejectReason::kMalformedLeaf: return "malformed_leaf: unknown kind, wrong key size or a repeated key";
    case RejectReason::kRecordMismatch: return "record_mismatch: a record is missing, extra or does not hash to its leaf";
    case RejectReason::kOldLeavesNotInRoot: return "old_leaves_not_in_root: the multiproof does not prove the old leaves";
    case RejectReason::kBadCommand: return "bad_command: a field out of range";
    case RejectReason::kBadSignature: return "bad_signature: not signed by the command's signer for this prover";
    case RejectReason::kNotOperator: return "not_operator: market admin not signed by the operator";
    case RejectReason::kUnauthorizedDeposit: return "unauthorized_deposit: no chain-side authorization backs it";
    case RejectReason::kStaleNonce: return "stale_nonce: the nonce was already used";
    case RejectReason::kIncompleteWitness: return "incomplete_witness: the rules need a leaf the proof lacks";
    case RejectReason::kInconsistentWitness: return "inconsistent_witness: the leaves contradict each other";
    case RejectReason::kLeavesMismatch: return "leaves_mismatch: the leaves are not what the rules produce";
    case RejectReason::kOutcomeMismatch: return "outcome_mismatch: the outcome is not what the rules produce";
    case RejectReason::kWrongNewRoot: return "wrong_new_root: the new leaves do not give the new root";
    case RejectReason::kConservation: return "conservation: balances changed by more than deposits and withdrawals";
    case RejectReason::kCustody: return "custody: the ledger refuses the deposit or withdrawal";
  }
  return "unknown";
}

bool CheckSignature(const Config& config, const Command& command) {
  return VerifyCommandSignature(config.prover_id, command);
}

std::vector<absl::StatusOr<smt::RootPair>> ComputeProofRoots(std::span<const EventProof* const> proofs) {
  // The tree keys of all the proofs in one batch, then their programs together.
  std::vector<smt::RootPairInput> inputs(proofs.size());
  std::vector<HashJob> keys;
  for (size_t i = 0; i < proofs.size(); ++i) {
    inputs[i].proof = proofs[i]->multiproof;
    inputs[i].leaves.resize(proofs[i]->leaves.size());
    for (size_t j = 0; j < proofs[i]->leaves.size(); ++j) {
      const TouchedLeaf& l = proofs[i]->leaves[j];
      smt::LeafChange& change = inputs[i].leaves[j];
      keys.push_back({l.key.span(), &change.key});
      change.old_value = l.old_value;
      change.new_value = l.new_value;
    }
  }
  Sha256Hasher hasher;
  hasher.DigestMany(keys);
  return smt::ComputeMultiproofRootPairs(hasher, std::span<smt::RootPairInput>(inputs));
}

Verifier::Verifier(Config config, CustodyLedger ledger, Bytes32 root, uint64_t sequence)
    : config_(config), ledger_(std::move(ledger)), root_(root), sequence_(sequence) {}

Verdict Verifier::Verify(const EventProof& p, bool signature_checked, const absl::StatusOr<smt::RootPair>* roots) {
  // 1. Position in the chain.
  if (p.sequence.value != sequence_ + 1) {
    return Reject(RejectReason::kWrongSequence, absl::StrCat("expected sequence ", sequence_ + 1, ", got ", p.sequence.value));
  }
  if (p.prev_root != root_) return Reject(RejectReason::kWrongPreviousRoot, ToHex(p.prev_root));

  // 2. Well-formed leaves and records.
  if (p.leaves.empty()) return Reject(RejectReason::kMalformedLeaf, "no leaves");
  // Every record's hash first, in one batch: [2i] old, [2i + 1] new of leaf i (zero where absent).
  std::vector<RecordEncoding> records;
  records.reserve(2 * p.leaves.size());
  for (const TouchedLeaf& l : p.leaves) {
    const LeafKind kind = l.key.size == 0 ? LeafKind::kAccount : l.key.kind();
    records.push_back({kind, l.old_value.IsZero() ? std::span<const uint8_t>() : std::span<const uint8_t>(l.old_record)});
    records.push_back({kind, l.new_value.IsZero() ? std::span<const uint8_t>() : std::span<const uint8_t>(l.new_record)});
  }
  std::vector<Bytes32> record_hashes(records.size());
  RecordHashesOfEncodings(records, record_hashes);
  // Repeated keys: compared pairwise in a typical proof (a few leaves), through a set beyond.
  constexpr size_t kPairwise = 24;
  absl::flat_hash_set<RawKey> seen;
  auto repeated = [&](size_t i) {
    if (p.leaves.size() > kPairwise) return !seen.insert(p.leaves[i].key).second;
    for (size_t j = 0; j < i; ++j) {
      if (p.leaves[j].key == p.leaves[i].key) return true;
    }
    return false;
  };
  for (size_t i = 0; i < p.leaves.size(); ++i) {
    const TouchedLeaf& l = p.leaves[i];
    const uint8_t kind_byte = l.key.size == 0 ? 0xff : l.key.bytes[0];
    if (kind_byte > 7 || l.key.size != KeySizeOf(static_cast<LeafKind>(kind_byte))) {
      return Reject(RejectReason::kMalformedLeaf, ToHex(l.key.span()));
    }
    if (repeated(i)) return Reject(RejectReason::kMalformedLeaf, "repeated " + ToHex(l.key.span()));
    for (const int lane : {0, 1}) {
      const std::string problem = lane == 0 ? CheckRecord(l.key.kind(), l.old_value, l.old_record, record_hashes[2 * i])
                                            : CheckRecord(l.key.kind(), l.new_value, l.new_record, record_hashes[2 * i + 1]);
      if (!problem.empty()) return Reject(RejectReason::kRecordMismatch, problem + " at " + ToHex(l.key.span()));
    }
  }

  // 3. The old leaves are in the verified root. (The new root comes out of the same pass and is
  // checked at step 7, after the rules.)
  absl::StatusOr<smt::RootPair> computed = absl::UnknownError("not computed");
  if (roots == nullptr) {
    const EventProof* one = &p;
    computed = std::move(ComputeProofRoots(std::span<const EventProof* const>(&one, 1))[0]);
    roots = &computed;
  }
  if (!roots->ok()) return Reject(RejectReason::kOldLeavesNotInRoot, std::string(roots->status().message()));
  if ((*roots)->old_root != root_) {
    return Reject(RejectReason::kOldLeavesNotInRoot, "the multiproof gives " + ToHex((*roots)->old_root));
  }

  // 4. The command itself.
  if (absl::Status s = ValidateCommand(p.command); !s.ok()) return Reject(RejectReason::kBadCommand, std::string(s.message()));
  if (!signature_checked && !CheckSignature(config_, p.command)) return Reject(RejectReason::kBadSignature, "");
  if (p.command.IsAdmin() && p.command.signer != config_.operator_account) return Reject(RejectReason::kNotOperator, "");
  if (const auto* d = std::get_if<Deposit>(&p.command.body)) {
    if (!ledger_.CanDeposit(p.command.signer, d->currency, d->amount)) {
      return Reject(RejectReason::kUnauthorizedDeposit, FormatDecimal(d->amount));
    }
    if (authorizations_ != nullptr && authorizations_->Match(p.command) == nullptr) {
      return Reject(RejectReason::kUnauthorizedDeposit,
                    absl::StrCat("no recorded authorization of this deposit (nonce ", p.command.nonce, ")"));
    }
  }

  // 5. The rules on the witness.
  WitnessState witness(p.leaves);
  RecordingState recording(&witness);
  absl::StatusOr<Outcome> outcome = Apply(recording, Context{p.sequence, config_.operator_account}, p.command);
  if (!outcome.ok()) return Reject(FromRulesError(outcome.status()), std::string(outcome.status().message()));

  // 6. Exactly the proof's leaves and outcome.
  // The proof's records were checked against its values (step 2): equal records take them.
  const std::vector<TouchedLeaf> touched = recording.TakeLeaves(p.leaves);
  if (touched.size() != p.leaves.size()) {
    return Reject(RejectReason::kLeavesMismatch,
                  absl::StrCat("the rules touch ", touched.size(), " leaves, the proof has ", p.leaves.size()));
  }
  for (size_t i = 0; i < touched.size(); ++i) {
    if (!(touched[i] == p.leaves[i])) {
      return Reject(RejectReason::kLeavesMismatch, absl::StrCat("leaf ", i, " (", ToHex(p.leaves[i].key.span()), ")"));
    }
  }
  if (!(*outcome == p.outcome)) return Reject(RejectReason::kOutcomeMismatch, "");

  // 7. The new root.
  if ((*roots)->new_root != p.new_root) return Reject(RejectReason::kWrongNewRoot, ToHex(p.new_root));

  // 8. Conservation: the account leaves change by exactly what enters or leaves custody.
  struct Totals {
    uint32_t currency;
    u128 old_total = 0, new_total = 0;
  };
  absl::InlinedVector<Totals, 4> sums;  // an event touches a few currencies; checked in currency order
  for (const TouchedLeaf& l : p.leaves) {
    if (l.key.kind() != LeafKind::kAccount) continue;
    const uint32_t currency = GetU32Le(l.key.bytes.data() + 33);
    const Balance before = BalanceFromValue(l.old_value), after = BalanceFromValue(l.new_value);
    auto it = std::find_if(sums.begin(), sums.end(), [&](const Totals& t) { return t.currency == currency; });
    if (it == sums.end()) it = sums.insert(sums.end(), Totals{currency});
    u128& old_total = it->old_total;
    u128& new_total = it->new_total;
    std::optional<u128> o = CheckedAdd(old_total, before.available.raw());
    o = o ? CheckedAdd(*o, before.frozen.raw()) : std::nullopt;
    std::optional<u128> n = CheckedAdd(new_total, after.available.raw());
    n = n ? CheckedAdd(*n, after.frozen.raw()) : std::nullopt;
    if (!o || !n) return Reject(RejectReason::kConservation, "balance overflow");
    old_total = *o;
    new_total = *n;
  }
  std::sort(sums.begin(), sums.end(), [](const Totals& a, const Totals& b) { return a.currency < b.currency; });
  for (const Totals& totals : sums) {
    const uint32_t currency = totals.currency;
    u128 entering = 0, leaving = 0;
    if (outcome->reject == RejectCode::kNone) {
      if (const auto* d = std::get_if<Deposit>(&p.command.body); d && d->currency.id == currency) entering = d->amount.raw();
      if (const auto* w = std::get_if<Withdraw>(&p.command.body); w && w->currency.id == currency) leaving = w->amount.raw();
    }
    const std::optional<u128> lhs = CheckedAdd(totals.new_total, leaving), rhs = CheckedAdd(totals.old_total, entering);
    if (!lhs || !rhs || *lhs != *rhs) return Reject(RejectReason::kConservation, absl::StrCat("currency ", currency));
  }

  // 9. Custody.
  // (ApplyEvent checks before it moves anything, so a refusal leaves the ledger as it was.)
  if (absl::Status s = ledger_.ApplyEvent(p.command, *outcome); !s.ok()) {
    return Reject(RejectReason::kCustody, std::string(s.message()));
  }
  root_ = p.new_root;
  sequence_ = p.sequence.value;
  Verdict accepted;
  if (authorizations_ != nullptr) {
    if (std::holds_alternative<Deposit>(p.command.body)) {
      accepted.consumed_authorization = authorizations_->Consume(p.command.signer, p.command.nonce);
    }
    accepted.released_authorizations = authorizations_->ReleaseStale(p.command.signer, p.command.nonce);
  }
  return accepted;
}

}  // namespace pom::verify
