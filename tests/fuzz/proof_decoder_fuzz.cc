// Fuzzes the verifier's direct proof decoder (proto/proof_decoder.h) against libprotobuf: on any
// bytes, DecodeProof must give exactly what parsing into pom.v1.Proof and FromProto give (both
// fail with the same status, or both give the same proof), also when decoding into a proof
// object that still holds the previous input's buffers.
#include <string>

#include "common/check.h"
#include "proto/codec.h"
#include "proto/proof_decoder.h"
#include "tests/fuzz/fuzz_target.h"
#include "tests/testing/proved_run.h"

namespace {

std::string Canonical(const pom::rules::EventProof& p) {
  pom::v1::Proof wire;
  pom::codec::ToProto(p, &wire);
  return wire.SerializeAsString();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  static pom::rules::EventProof reused;
  pom::v1::Proof scratch;
  const absl::Status ours = pom::codec::DecodeProof(bytes, &reused, &scratch);

  pom::v1::Proof wire;
  absl::StatusOr<pom::rules::EventProof> reference = absl::DataLossError("not a pom.v1.Proof message");
  if (wire.ParseFromString(bytes)) reference = pom::codec::FromProto(wire);

  POM_CHECK_MSG(ours.ok() == reference.ok(), "the decoder and libprotobuf disagree on validity");
  if (ours.ok()) {
    POM_CHECK_MSG(Canonical(reused) == Canonical(*reference), "the decoder and libprotobuf give different proofs");
  } else {
    POM_CHECK_MSG(ours == reference.status(), "the decoder and libprotobuf give different errors");
  }
  return 0;
}

namespace pom::fuzz {

// Real proofs of every command kind (a short generated stream).
std::vector<std::vector<uint8_t>> SeedInputs() {
  const pom::testing::ProvedRun run = pom::testing::Prove(8, 400);
  std::vector<std::vector<uint8_t>> seeds;
  for (size_t i = 0; i < run.proofs.size(); i += 7) {
    const std::string bytes = Canonical(run.proofs[i]);
    seeds.emplace_back(bytes.begin(), bytes.end());
  }
  return seeds;
}

}  // namespace pom::fuzz
