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
  using Batch = std::vector<absl::StatusOr<rules::EventProof>>;
  v1::Proof wire;
  bool more = true;
  auto read_batch = [&]() -> absl::StatusOr<Batch> {
    Batch batch;
    while (more && batch.size() < kBatch) {
      POM_ASSIGN_OR_RETURN(more, reader->Read(&wire));
      if (more) batch.push_back(codec::FromProto(wire));
    }
    return batch;
  };
  // Signature checks of a batch on `workers` threads (each takes every workers-th proof).
  auto check_signatures = [&](const Batch& batch, int workers) {
    std::vector<char> ok(batch.size(), 0);
    if (!options.check_signatures) return ok;
    auto work = [&](int t) {
      for (size_t i = static_cast<size_t>(t); i < batch.size(); i += static_cast<size_t>(workers)) {
        ok[i] = batch[i].ok() && CheckSignature(config, batch[i]->command);
      }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < workers; ++t) pool.emplace_back(work, t);
    work(0);
    for (std::thread& th : pool) th.join();
    return ok;
  };
  // With more than one thread, the signatures of batch k+1 are checked on threads - 1 helpers
  // while this thread runs batch k through the serial root chain.
  const int helpers = threads > 1 ? threads - 1 : 1;
  POM_ASSIGN_OR_RETURN(Batch current, read_batch());
  std::vector<char> current_ok = check_signatures(current, helpers);
  while (!current.empty()) {
    POM_ASSIGN_OR_RETURN(Batch next, read_batch());
    std::vector<char> next_ok;
    std::thread ahead;
    if (threads > 1) {
      ahead = std::thread([&] { next_ok = check_signatures(next, helpers); });
    }
    auto finish = [&] {
      if (ahead.joinable()) ahead.join();
    };
    for (size_t i = 0; i < current.size(); ++i) {
      if (!current[i].ok()) {
        finish();
        result.failed_sequence = verifier.sequence() + 1;
        result.verdict = Verdict{RejectReason::kBadCommand, std::string(current[i].status().message())};
        result.root = verifier.root();
        return result;
      }
      if (options.check_signatures && !current_ok[i]) {
        finish();
        result.failed_sequence = current[i]->sequence.value;
        result.verdict = Verdict{RejectReason::kBadSignature, ""};
        result.root = verifier.root();
        return result;
      }
      Verdict v = verifier.Verify(*current[i], /*signature_checked=*/true);
      if (!v.ok()) {
        finish();
        result.failed_sequence = current[i]->sequence.value;
        result.verdict = std::move(v);
        result.root = verifier.root();
        return result;
      }
      ++result.proofs;
    }
    finish();
    if (threads == 1) next_ok = check_signatures(next, 1);
    current = std::move(next);
    current_ok = std::move(next_ok);
  }
  result.root = verifier.root();
  return result;
}

}  // namespace pom::verify
