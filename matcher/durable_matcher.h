// The persistent matcher: the engine behind a journal, a proof store and snapshots
// (docs/durability.md). SubmitBatch is group commit: it admits and applies a batch of commands
// on the engine, appends the accepted ones to the journal and syncs it once, stores their proofs,
// and only then returns the acknowledgements. Nothing leaves before the sync; a failed append,
// sync or store halts the matcher for good (fail-stop), so an engine state ahead of the
// journal is never acknowledged and dies with the process.
//
// Open recovers: the newest snapshot (checked: its state must rebuild the root it records),
// then the journal after it, re-proved and compared with the stored proofs (a missing proof is
// stored again). The same journal always gives the same roots.
//
// Kill points (POM_KILL_AT, common/kill_point.h): after-apply, after-append, after-sync,
// after-proof, snapshot-write, snapshot-rename, tree-flush.
// Thread-safety: not thread-safe; one owner (the engine thread).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/rules/commands.h"
#include "matcher/engine.h"
#include "matcher/storage/store.h"
#include "proto/codec.h"

namespace rocksdb {
class Env;
}

namespace pom::matcher {

class RocksDbNodeStore;

enum class TreeStorage { kMemory, kRocksDb };

// Told about the work of SubmitBatch and snapshots (metrics); called on the engine thread.
class DurableMatcherObserver {
 public:
  virtual ~DurableMatcherObserver() = default;
  // One sequenced event: the engine's apply and proof build, and the proof's size.
  virtual void OnEvent(double seconds, size_t proof_bytes) = 0;
  virtual void OnJournalSync(double seconds) = 0;  // append + sync of one group commit
  virtual void OnSnapshot(double seconds) = 0;
};

struct DurableMatcherOptions {
  std::string data_dir;  // holds db/ (RocksDB) and snapshots/
  // Required when the data dir is new; afterwards it must equal the stored one (or be absent).
  std::optional<codec::Genesis> genesis;
  uint64_t snapshot_interval = 100'000;  // events between snapshots; 0: never
  uint64_t proof_retention = 0;          // proofs kept (the newest ones); 0: all
  // kMemory: the tree lives in memory and is rebuilt from the snapshot's state on recovery.
  // kRocksDb: the tree's nodes live in RocksDB (with a cache) and reach disk with each snapshot.
  TreeStorage tree = TreeStorage::kMemory;
  size_t tree_cache_nodes = 1 << 20;
  rocksdb::Env* env = nullptr;  // tests: fault injection
  // The caller verified every command's signature before SubmitBatch (the daemon does, on its
  // gRPC threads in parallel), so the engine thread does not verify them again.
  bool signatures_prechecked = false;
  // Each OK SubmitResult carries its event's proof (the WebSocket gateway derives its market
  // data from them).
  bool keep_proofs = false;
  DurableMatcherObserver* observer = nullptr;  // not owned; may be null
};

struct SubmitResult {
  // OK: sequenced at `sequence` with `outcome`. AlreadyExists: this exact command was sequenced
  // before, at `sequence`, or it is an order whose account already used its non-zero client
  // order id, for the order sequenced at `sequence` (not sequenced again). Other codes:
  // refused, not sequenced (see Engine::Submit).
  absl::Status status;
  uint64_t sequence = 0;
  rules::Outcome outcome;
  Bytes32 new_root;  // OK results: the root after this event
  std::shared_ptr<const rules::EventProof> proof;  // OK results with keep_proofs
};

struct RecoveryReport {
  uint64_t snapshot_sequence = 0;  // 0: started from the genesis
  uint64_t replayed = 0;           // journal records applied after the snapshot
  uint64_t proofs_restored = 0;    // proofs that were missing from the store and were rebuilt
  uint64_t truncated_tail = 0;     // sequence of a torn journal record dropped (0: none)
  double seconds = 0;
};

class DurableMatcher {
 public:
  // Errors: DataLoss for corruption (naming the journal sequence, snapshot or record);
  // FailedPrecondition for a missing or different genesis; Internal for I/O failures.
  static absl::StatusOr<std::unique_ptr<DurableMatcher>> Open(DurableMatcherOptions options);
  ~DurableMatcher();

  // One result per command, in order. Errors (the matcher halts; nothing in this batch was
  // acknowledged): storage failures, an inconsistent engine.
  absl::StatusOr<std::vector<SubmitResult>> SubmitBatch(std::span<const rules::Command> commands);

  // Writes a snapshot of the current state (also done every snapshot_interval events).
  absl::Status WriteSnapshot();

  const Bytes32& root() const { return engine_->root(); }
  uint64_t sequence() const { return engine_->sequence(); }
  const Engine& engine() const { return *engine_; }
  Store& store() { return *store_; }
  const RecoveryReport& recovery() const { return recovery_; }
  // XXH3-64 of the snapshot encoding of the current state, ledger, sequence and root: equal
  // digests mean equal states (crash tests compare runs with it).
  uint64_t StateDigest() const;

 private:
  explicit DurableMatcher(DurableMatcherOptions options);
  absl::Status Recover();
  absl::Status LoadGenesis(codec::Genesis* genesis);
  absl::Status Replay(uint64_t from);
  // The sequence of `signer`'s order with this client order id: in `pending` (this batch) or in
  // the journal.
  absl::StatusOr<std::optional<uint64_t>> FindClientOrder(const rules::AccountId& signer, uint64_t client_order_id,
                                                          std::span<const JournalRecord> pending);
  absl::Status Halt(absl::Status reason);
  std::string snapshot_dir() const { return options_.data_dir + "/snapshots"; }

  DurableMatcherOptions options_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<RocksDbNodeStore> nodes_;
  std::unique_ptr<Engine> engine_;
  RecoveryReport recovery_;
  uint64_t last_snapshot_ = 0;
  uint64_t previous_snapshot_ = 0;
  absl::Status halted_;
};

}  // namespace pom::matcher
