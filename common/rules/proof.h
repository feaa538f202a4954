// The proof of one event, as the prover builds it and the verifier checks it (DESIGN §Proofs):
// the sequence, the roots before and after, the command as signed, every leaf the event
// touched with its old and new value (and records behind record-hash leaves), the multiproof
// over those leaves, and the outcome. Wire form: pom.v1.Proof (proto/pom.proto).
// Thread-safety: value types.
#pragma once

#include <cstdint>
#include <vector>

#include "common/bytes.h"
#include "common/rules/commands.h"
#include "common/rules/records.h"
#include "common/rules/rules.h"

namespace pom::rules {

struct TouchedLeaf {
  RawKey key;
  Bytes32 old_value;
  Bytes32 new_value;
  std::vector<uint8_t> old_record;  // order/pagelink/market leaves with a non-zero old value
  std::vector<uint8_t> new_record;  // ... with a non-zero new value
  friend bool operator==(const TouchedLeaf&, const TouchedLeaf&) = default;
};

struct EventProof {
  Sequence sequence;
  Bytes32 prev_root;
  Bytes32 new_root;
  Command command;
  std::vector<TouchedLeaf> leaves;  // in first-touch order
  std::vector<uint8_t> multiproof;
  Outcome outcome;
};

}  // namespace pom::rules
