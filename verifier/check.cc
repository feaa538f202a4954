#include "verifier/check.h"

#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "proto/codec.h"
#include "proto/stream.h"

namespace pom::verify {

absl::StatusOr<CheckResult> Check(const CheckOptions& options) {
  std::ifstream genesis_file(options.genesis_path);
  if (!genesis_file) return absl::NotFoundError(absl::StrCat("cannot open genesis ", options.genesis_path));
  std::stringstream json;
  json << genesis_file.rdbuf();
  POM_ASSIGN_OR_RETURN(codec::Genesis genesis, codec::GenesisFromJson(json.str()));
  rules::CustodyLedger ledger;
  for (const codec::ChainBalance& b : genesis.chain_balances) {
    POM_RETURN_IF_ERROR(ledger.CreditChain(b.user, b.currency, b.amount));
  }
  const Config config{genesis.prover_id, genesis.operator_key};
  Verifier verifier(config, std::move(ledger));
  POM_ASSIGN_OR_RETURN(std::unique_ptr<codec::DelimitedReader> reader, codec::DelimitedReader::Open(options.proofs_path));

  CheckResult result;
  constexpr size_t kBatch = 2048;
  const int threads = std::max(1, options.threads);
  v1::Proof wire;
  bool more = true;
  while (more) {
    // Read and decode a batch; a proof that does not decode ends the run at its position.
    std::vector<absl::StatusOr<rules::EventProof>> batch;
    while (batch.size() < kBatch) {
      POM_ASSIGN_OR_RETURN(more, reader->Read(&wire));
      if (!more) break;
      batch.push_back(codec::FromProto(wire));
    }
    // Signatures in parallel: thread t takes every threads-th proof.
    std::vector<char> signature_ok(batch.size(), 0);
    if (options.check_signatures) {
      std::vector<std::thread> workers;
      for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
          for (size_t i = static_cast<size_t>(t); i < batch.size(); i += static_cast<size_t>(threads)) {
            signature_ok[i] = batch[i].ok() && CheckSignature(config, batch[i]->command);
          }
        });
      }
      for (std::thread& w : workers) w.join();
    }
    // The serial root chain.
    for (size_t i = 0; i < batch.size(); ++i) {
      if (!batch[i].ok()) {
        result.failed_sequence = verifier.sequence() + 1;
        result.verdict = Verdict{RejectReason::kBadCommand, std::string(batch[i].status().message())};
        result.root = verifier.root();
        return result;
      }
      if (options.check_signatures && !signature_ok[i]) {
        result.failed_sequence = batch[i]->sequence.value;
        result.verdict = Verdict{RejectReason::kBadSignature, ""};
        result.root = verifier.root();
        return result;
      }
      Verdict v = verifier.Verify(*batch[i], /*signature_checked=*/true);
      if (!v.ok()) {
        result.failed_sequence = batch[i]->sequence.value;
        result.verdict = std::move(v);
        result.root = verifier.root();
        return result;
      }
      ++result.proofs;
    }
  }
  result.root = verifier.root();
  return result;
}

}  // namespace pom::verify
