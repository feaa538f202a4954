#include "proto/proof_decoder.h"

#include <gtest/gtest.h>

#include "proto/codec.h"
#include "tests/testing/proved_run.h"
#include "tests/testing/random.h"

namespace pom::codec {
namespace {

// What libprotobuf and FromProto make of `bytes`: the reference DecodeProof must equal.
absl::StatusOr<rules::EventProof> Reference(const std::string& bytes) {
  v1::Proof wire;
  if (!wire.ParseFromString(bytes)) return absl::DataLossError("not a pom.v1.Proof message");
  return FromProto(wire);
}

// A proof's canonical bytes (ToProto is FromProto's inverse on valid proofs): equal bytes,
// equal proofs.
std::string Canonical(const rules::EventProof& p) {
  v1::Proof wire;
  ToProto(p, &wire);
  return wire.SerializeAsString();
}

// Field `number` with wire type 2 holding `bytes`.
std::string LengthDelimited(int number, const std::string& bytes) {
  std::string out;
  auto varint = [&out](uint64_t v) {
    for (; v >= 0x80; v >>= 7) out.push_back(static_cast<char>(v | 0x80));
    out.push_back(static_cast<char>(v));
  };
  varint(static_cast<uint64_t>(number) << 3 | 2);
  varint(bytes.size());
  return out + bytes;
}

void ExpectSameAsReference(const std::string& bytes, rules::EventProof& reused, const std::string& what) {
  v1::Proof scratch;
  const absl::Status ours = DecodeProof(bytes, &reused, &scratch);
  const absl::StatusOr<rules::EventProof> reference = Reference(bytes);
  ASSERT_EQ(ours.ok(), reference.ok()) << what << ": ours " << ours << ", reference " << reference.status();
  if (ours.ok()) {
    ASSERT_EQ(Canonical(reused), Canonical(*reference)) << what;
  } else {
    EXPECT_EQ(ours.code(), reference.status().code()) << what;
    EXPECT_EQ(ours.message(), reference.status().message()) << what;
  }
}

class ProofDecoderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { run_ = new pom::testing::ProvedRun(pom::testing::Prove(21, 3000)); }
  static void TearDownTestSuite() { delete run_; }
  static pom::testing::ProvedRun* run_;
};
pom::testing::ProvedRun* ProofDecoderTest::run_ = nullptr;

TEST_F(ProofDecoderTest, EveryGeneratedProofTakesThePlainPathAndEqualsTheReference) {
  // One object for the whole stream: every decode reuses the last one's buffers (more or fewer
  // leaves, fills and cancelled orders, records present or not).
  rules::EventProof reused;
  size_t with_fills = 0, with_records = 0, with_cancelled = 0;
  std::vector<bool> kinds(8, false);
  for (const rules::EventProof& p : run_->proofs) {
    const std::string bytes = Canonical(p);
    ASSERT_TRUE(DecodeProofPlain(bytes, &reused)) << "sequence " << p.sequence.value;
    ASSERT_EQ(Canonical(reused), bytes) << "sequence " << p.sequence.value;
    with_fills += !p.outcome.fills.empty();
    with_cancelled += !p.outcome.cancelled.empty();
    for (const rules::TouchedLeaf& l : p.leaves) with_records += !l.old_record.empty() || !l.new_record.empty();
    kinds[p.command.body.index()] = true;
  }
  EXPECT_GT(with_fills, 0u);
  EXPECT_GT(with_cancelled, 0u);
  EXPECT_GT(with_records, 0u);
  for (size_t k = 0; k < kinds.size(); ++k) EXPECT_TRUE(kinds[k]) << "no command of kind " << k;
}

TEST_F(ProofDecoderTest, FormsOnlyLibprotobufTakesGiveTheReferenceResult) {
  // The last proof with a fill.
  const rules::EventProof* with_fill = nullptr;
  for (const rules::EventProof& p : run_->proofs) {
    if (!p.outcome.fills.empty()) with_fill = &p;
  }
  ASSERT_NE(with_fill, nullptr);
  const rules::EventProof& sample = *with_fill;
  v1::Proof base;
  ToProto(sample, &base);
  const std::string plain = base.SerializeAsString();
  rules::EventProof reused;

  // A field given twice: the last one wins.
  v1::Proof later;
  later.set_sequence(sample.sequence.value + 7);
  ExpectSameAsReference(plain + later.SerializeAsString(), reused, "sequence twice");
  // Two command bodies: the last one is the command's.
  v1::Proof other_body;
  other_body.mutable_command()->mutable_withdraw()->set_currency(3);
  other_body.mutable_command()->mutable_withdraw()->set_amount(U128Bytes(5));
  ExpectSameAsReference(plain + other_body.SerializeAsString(), reused, "merged command");
  // A sub-message given twice: libprotobuf merges them (its repeated fields appended).
  v1::Proof outcome_again;
  *outcome_again.mutable_outcome() = base.outcome();
  ASSERT_GT(base.outcome().fills_size(), 0) << "the sample should have fills";
  ExpectSameAsReference(plain + outcome_again.SerializeAsString(), reused, "outcome twice");
  // An unknown field.
  ExpectSameAsReference(plain + std::string("\xa0\x06\x01", 3), reused, "unknown field 100");
  // Cancelled orders one varint each (unpacked) instead of packed.
  v1::Outcome outcome;
  ToProto(sample.outcome, &outcome);
  std::string unpacked;
  for (int i = 0; i < 3; ++i) unpacked += std::string("\x28", 1) + static_cast<char>(40 + i);
  v1::Proof with_outcome = base;
  with_outcome.clear_outcome();
  std::string outcome_bytes = outcome.SerializeAsString() + unpacked;
  std::string bytes = with_outcome.SerializeAsString() + LengthDelimited(7, outcome_bytes);
  ExpectSameAsReference(bytes, reused, "unpacked cancelled");
  // Not a message at all.
  ExpectSameAsReference(std::string("\x0a\xff", 2), reused, "truncated");
  // Invalid fields: a short root, an out-of-range enum.
  v1::Proof bad = base;
  bad.set_prev_root("short");
  ExpectSameAsReference(bad.SerializeAsString(), reused, "short root");
  bad = base;
  bad.mutable_outcome()->set_reject(1000);
  ExpectSameAsReference(bad.SerializeAsString(), reused, "reject out of range");
}

TEST_F(ProofDecoderTest, RandomEditsOfRealProofsGiveTheReferenceResult) {
  rules::EventProof reused;
  for (const uint64_t seed : pom::testing::TestSeeds({5})) {
    SCOPED_TRACE(pom::testing::SeedBanner(seed));
    pom::testing::Rng rng(seed);
    for (int i = 0; i < 20000; ++i) {
      std::string bytes = Canonical(run_->proofs[rng.Uniform(0, run_->proofs.size() - 1)]);
      const int edits = static_cast<int>(rng.Uniform(1, 3));
      for (int e = 0; e < edits && !bytes.empty(); ++e) {
        const size_t at = rng.Uniform(0, bytes.size() - 1);
        switch (rng.Uniform(0, 2)) {
          case 0: bytes[at] = static_cast<char>(bytes[at] ^ static_cast<char>(rng.Uniform(1, 255))); break;
          case 1: bytes.insert(bytes.begin() + static_cast<long>(at), static_cast<char>(rng.Uniform(0, 255))); break;
          default: bytes.erase(at, 1); break;
        }
      }
      ExpectSameAsReference(bytes, reused, "edit " + std::to_string(i));
      if (HasFatalFailure()) return;
    }
  }
}

}  // namespace
}  // namespace pom::codec
