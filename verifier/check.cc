#include "verifier/check.h"

#include <algorithm>
#include <atomic>
#include <fstream>
#include <latch>
#include <memory>
#include <optional>
#include <span>
#include <sstream>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "proto/codec.h"
#include "proto/proof_decoder.h"
#include "proto/stream.h"
#include "verifier/store.h"

namespace pom::verify {

absl::StatusOr<VerifierGenesis> LoadVerifierGenesis(const std::string& path) {
  POM_ASSIGN_OR_RETURN(codec::Genesis genesis, codec::ReadGenesisFile(path));
  VerifierGenesis out;
  out.config = Config{genesis.prover_id, genesis.operator_key};
  for (const codec::ChainBalance& b : genesis.chain_balances) {
    POM_RETURN_IF_ERROR(out.ledger.CreditChain(b.user, b.currency, b.amount));
  }
  return out;
}

namespace {

// The signature checks of one batch, shared by whichever threads call Work(): each claims the
// next chunk of proofs, so a thread that is done with its other work joins in.
class SignatureJob {
 public:
  SignatureJob(const Config& config, std::span<const rules::EventProof* const> batch)
      : config_(config), batch_(batch), ok_(batch.size(), 0) {}

  void Work() {
    for (;;) {
      const size_t first = next_.fetch_add(kChunk, std::memory_order_relaxed);
      if (first >= batch_.size()) return;
      const size_t last = std::min(batch_.size(), first + kChunk);
      for (size_t i = first; i < last; ++i) ok_[i] = batch_[i] != nullptr && CheckSignature(config_, batch_[i]->command);
    }
  }
  // REQUIRES: every Work() call has returned.
  std::vector<char> Take() { return std::move(ok_); }

 private:
  static constexpr size_t kChunk = 8;
  const Config& config_;
  std::span<const rules::EventProof* const> batch_;
  std::vector<char> ok_;
  std::atomic<size_t> next_{0};
};

// A batch of proofs read from the file, decoded in place: the proofs' buffers are reused by the
// next batch read into the same object.
struct Batch {
  struct Entry {
    absl::Status status;  // the decode's
    rules::EventProof proof;
  };
  std::vector<Entry> entries;  // the first `size` are this batch's
  size_t size = 0;
  std::vector<const rules::EventProof*> decoded;  // per entry: its proof, or null

  bool empty() const { return size == 0; }
  // The entry to decode the next proof into.
  Entry& Next() {
    if (size == entries.size()) entries.emplace_back();
    return entries[size];
  }
  void Index() {
    decoded.clear();
    for (size_t i = 0; i < size; ++i) decoded.push_back(entries[i].status.ok() ? &entries[i].proof : nullptr);
  }
};

}  // namespace

std::vector<char> CheckSignaturesParallel(const Config& config, std::span<const rules::EventProof* const> batch,
                                          int workers) {
  SignatureJob job(config, batch);
  std::vector<std::thread> pool;
  for (int t = 1; t < workers; ++t) pool.emplace_back([&job] { job.Work(); });
  job.Work();
  for (std::thread& th : pool) th.join();
  return job.Take();
}

absl::StatusOr<CheckResult> Check(const CheckOptions& options) {
  if (options.persist_every == 0) return absl::InvalidArgumentError("persist_every must be at least 1");
  POM_ASSIGN_OR_RETURN(VerifierGenesis genesis, LoadVerifierGenesis(options.genesis_path));
  rules::CustodyLedger ledger = std::move(genesis.ledger);
  const Config config = genesis.config;

  // With a data directory, start from the stored head if there is one.
  std::unique_ptr<VerifierStore> store;
  Bytes32 start_root;
  uint64_t start_sequence = 0;
  if (!options.data_dir.empty()) {
    POM_ASSIGN_OR_RETURN(store, VerifierStore::Open({options.data_dir, GenesisDigest(config, ledger)}));
    POM_ASSIGN_OR_RETURN(std::optional<VerifierHead> head, store->Load());
    if (head) {
      start_sequence = head->sequence;
      start_root = head->root;
      ledger = std::move(head->ledger);
    }
  }
  Verifier verifier(config, std::move(ledger), start_root, start_sequence);
  uint64_t committed_sequence = start_sequence;
  auto commit = [&]() -> absl::Status {
    if (store == nullptr || verifier.sequence() == committed_sequence) return absl::OkStatus();
    POM_RETURN_IF_ERROR(store->Commit(VerifierHead{verifier.sequence(), verifier.root(), verifier.ledger()}));
    committed_sequence = verifier.sequence();
    return absl::OkStatus();
  };

  POM_ASSIGN_OR_RETURN(std::unique_ptr<codec::DelimitedReader> reader, codec::DelimitedReader::Open(options.proofs_path));

  CheckResult result;
  result.resumed_from = start_sequence;
  const int threads = std::max(1, options.threads);
  // One thread verifies each batch right after decoding it, so a short batch is still in cache
  // (2,048 decoded proofs are ~8 MB): 64 is ~11% faster than 2,048 (bench/README.md). With
  // helpers, a batch must be long enough to pay for starting and joining them per batch.
  const size_t batch_size = threads == 1 ? 64 : 2048;
  std::string bytes;
  v1::Proof wire;
  bool more = true;
  const std::string_view start_root_bytes(reinterpret_cast<const char*>(start_root.data()), Bytes32::kSize);
  // Reads the next batch into `batch`, decoding each proof in place (proto/proof_decoder.h).
  // Proofs at or before the stored sequence were verified by an earlier run: they are skipped,
  // but the one at the stored sequence must end at the stored root, or the file and the store
  // describe different histories.
  auto read_batch = [&](Batch& batch) -> absl::Status {
    batch.size = 0;
    while (more && batch.size < batch_size) {
      POM_ASSIGN_OR_RETURN(more, reader->ReadBytes(&bytes));
      if (!more) break;
      Batch::Entry& entry = batch.Next();
      entry.status = codec::DecodeProof(bytes, &entry.proof, &wire);
      if (absl::IsDataLoss(entry.status)) return reader->MalformedLast();
      if (start_sequence > 0) {
        // A proof that did not convert was parsed into `wire` (the libprotobuf path).
        const uint64_t sequence = entry.status.ok() ? entry.proof.sequence.value : wire.sequence();
        if (sequence <= start_sequence) {
          const std::string_view new_root =
              entry.status.ok() ? std::string_view(reinterpret_cast<const char*>(entry.proof.new_root.data()), Bytes32::kSize)
                                : std::string_view(wire.new_root());
          if (sequence == start_sequence && new_root != start_root_bytes) {
            return absl::FailedPreconditionError(absl::StrCat(
                "the proof file is from another history: its proof at sequence ", start_sequence, " has new root ",
                ToHex(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(new_root.data()), new_root.size())),
                " but the head stored in ", options.data_dir, " has root ", ToHex(start_root)));
          }
          continue;
        }
      }
      ++batch.size;
    }
    batch.Index();
    return absl::OkStatus();
  };
  auto check_signatures = [&](const Batch& batch, int workers) {
    if (!options.check_signatures) return std::vector<char>(batch.size, 0);
    return CheckSignaturesParallel(config, batch.decoded, workers);
  };
  // Runs a batch through the serial root chain. A reject sets result's verdict and stops; an
  // error (a failed commit) is returned.
  // The multiproof roots of a few proofs at a time (ComputeProofRoots batches their hashes).
  constexpr size_t kRootGroup = 8;
  std::vector<absl::StatusOr<smt::RootPair>> roots;
  auto verify_batch = [&](const Batch& batch, const std::vector<char>& signature_ok) -> absl::Status {
    for (size_t i = 0; i < batch.size; ++i) {
      const Batch::Entry& entry = batch.entries[i];
      if (i % kRootGroup == 0) {
        const size_t n = std::min(kRootGroup, batch.size - i);
        std::vector<const rules::EventProof*> group;
        for (size_t j = i; j < i + n && batch.decoded[j] != nullptr; ++j) group.push_back(batch.decoded[j]);
        roots = ComputeProofRoots(group);
      }
      if (!entry.status.ok()) {
        result.failed_sequence = verifier.sequence() + 1;
        result.verdict = Verdict{RejectReason::kBadCommand, std::string(entry.status.message())};
        return absl::OkStatus();
      }
      if (options.check_signatures && !signature_ok[i]) {
        result.failed_sequence = entry.proof.sequence.value;
        result.verdict = Verdict{RejectReason::kBadSignature, ""};
        return absl::OkStatus();
      }
      const size_t at = i % kRootGroup;  // a group ends before the first proof that did not decode
      Verdict v = verifier.Verify(entry.proof, /*signature_checked=*/true, at < roots.size() ? &roots[at] : nullptr);
      if (!v.ok()) {
        result.failed_sequence = entry.proof.sequence.value;
        result.verdict = std::move(v);
        return absl::OkStatus();
      }
      ++result.proofs;
      if (result.proofs % options.persist_every == 0) POM_RETURN_IF_ERROR(commit());
    }
    return absl::OkStatus();
  };
  // With more than one thread, a helper reads and decodes batch k+1 and starts on its signatures
  // (with any further helpers) while this thread runs batch k through the serial root chain,
  // then joins in on whatever signatures are left. The two batches swap roles each round.
  Batch current, next;
  POM_RETURN_IF_ERROR(read_batch(current));
  std::vector<char> current_ok = check_signatures(current, threads);
  while (!current.empty()) {
    if (threads == 1) {
      POM_RETURN_IF_ERROR(verify_batch(current, current_ok));
      if (!result.verdict.ok()) break;
      POM_RETURN_IF_ERROR(read_batch(current));
      current_ok = check_signatures(current, 1);
      continue;
    }
    absl::Status next_status;
    std::optional<SignatureJob> job;
    std::latch read(1);
    std::vector<std::thread> helpers;
    helpers.emplace_back([&] {
      next_status = read_batch(next);
      if (next_status.ok() && options.check_signatures) job.emplace(config, next.decoded);
      read.count_down();
      if (job) job->Work();
    });
    for (int t = 2; t < threads; ++t) {
      helpers.emplace_back([&] {
        read.wait();
        if (job) job->Work();
      });
    }
    const absl::Status status = verify_batch(current, current_ok);
    read.wait();
    if (job && status.ok() && result.verdict.ok()) job->Work();
    for (std::thread& th : helpers) th.join();
    POM_RETURN_IF_ERROR(status);
    if (!result.verdict.ok()) break;
    POM_RETURN_IF_ERROR(next_status);
    std::swap(current, next);
    current_ok = job ? job->Take() : std::vector<char>(current.size, 0);
  }
  // The last good head, also when a proof was rejected: the proofs before it stay verified.
  POM_RETURN_IF_ERROR(commit());
  result.root = verifier.root();
  return result;
}

}  // namespace pom::verify
