// A direct decoder of serialized pom.v1.Proof messages into rules::EventProof, for the
// verifier's proof files: it reads the wire bytes once and writes the proof's fields straight
// into `out`, reusing `out`'s buffers, where libprotobuf would first build a v1::Proof (its
// strings and sub-messages) that FromProto then copies.
//
// It takes only the plain form pom's own writers produce: each field at most once (repeated
// fields any number of times), no unknown fields, no more than one command body, every field
// valid as FromProto checks it. Anything else it declines, and DecodeProof then takes the
// libprotobuf path, so the result is always exactly what ParseFromString and FromProto give
// (tests/proto/proof_decoder_test.cc and the proof_decoder fuzz target compare the two).
// Thread-safety: pure functions.
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "common/rules/proof.h"
#include "proto/pom.pb.h"

namespace pom::codec {

// Decodes `bytes` into *out when they are in the plain form; false (with *out unspecified) when
// declined. Never reads outside `bytes`.
bool DecodeProofPlain(std::string_view bytes, rules::EventProof* out);

// The proof `bytes` hold: DecodeProofPlain, else the bytes parsed into *scratch and FromProto.
// Errors: DataLoss if the bytes are not a pom.v1.Proof message at all; FromProto's errors.
absl::Status DecodeProof(std::string_view bytes, rules::EventProof* out, v1::Proof* scratch);

}  // namespace pom::codec
