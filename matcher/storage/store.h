// The matcher's RocksDB database (docs/durability.md): one DB, one write-ahead log, column
// families for the journal (sequence -> command), the proof store (sequence -> proof), the
// duplicate index (signer, nonce -> sequence), the tree's nodes, and metadata. Every journal,
// proof, index and metadata value is sealed with an XXH3-64 checksum over its key and payload.
//
// The journal is the source of truth: a command is acknowledged only once its journal record is
// synced. AppendJournal writes without a sync and SyncJournal syncs the log, so many commands
// share one sync (group commit). The log is opened with kTolerateCorruptedTailRecords: a record
// cut short at the very end by a crash is dropped by RocksDB; corruption anywhere else refuses
// to open. ScanJournal applies the same policy to pom's own records.
// Thread-safety: one owner (the engine thread) writes. ReadProof and ScanProofs may also run on
// other threads (the proof feed) at the same time.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/ed25519.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class Env;
class WriteBatch;
}  // namespace rocksdb

namespace pom::matcher {

struct StoreOptions {
  std::string path;             // the RocksDB directory (created if missing)
  rocksdb::Env* env = nullptr;  // tests inject faults here; null: the default Env
};

struct JournalRecord {
  uint64_t sequence = 0;
  std::string command;  // a serialized pom.v1.Command
  PublicKey signer;     // with nonce: the duplicate index key
  uint64_t nonce = 0;
  uint64_t client_order_id = 0;  // a PlaceOrder's, indexed with the signer when non-zero
};

struct JournalScan {
  uint64_t last_sequence = 0;    // the last good record (0: none)
  uint64_t truncated_tail = 0;   // sequence of a torn last record that was removed (0: none)
};

class Store {
 public:
  // Errors: DataLoss if RocksDB reports corruption (the message says where); Internal otherwise.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const StoreOptions& options);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // ---- Journal ----
  // Appends the records and their duplicate-index entries in one atomic write, not synced.
  // REQUIRES: sequences continue the journal without a gap.
  absl::Status AppendJournal(std::span<const JournalRecord> records);
  // Makes everything appended so far durable. A failure is fatal to the caller (fail-stop).
  absl::Status SyncJournal();
  // Calls `f` for each record from `from` on, in order, after checking its checksum and that the
  // sequences have no gap. A torn last record (short or failing its checksum, with nothing after
  // it) is deleted and reported in the result; any other bad record is DataLoss naming its
  // sequence. Errors from `f` stop the scan and are returned.
  absl::StatusOr<JournalScan> ScanJournal(
      uint64_t from, const std::function<absl::Status(uint64_t, std::string_view)>& f);
  // The command journaled at `sequence` (nullopt: none). Errors: DataLoss for a bad record.
  absl::StatusOr<std::optional<std::string>> ReadJournal(uint64_t sequence);
  // The sequence at which (signer, nonce) was journaled, if it was.
  absl::StatusOr<std::optional<uint64_t>> FindSequenced(const PublicKey& signer, uint64_t nonce);
  // The sequence of the order `signer` placed with `client_order_id`, if one was journaled.
  // (An entry can outlive a torn journal record it was written with; callers check the record.)
  absl::StatusOr<std::optional<uint64_t>> FindClientOrder(const PublicKey& signer, uint64_t client_order_id);

  // ---- Proofs ----
  // Stores serialized pom.v1.Proof messages (not synced: the journal can rebuild them).
  absl::Status PutProofs(std::span<const std::pair<uint64_t, std::string>> proofs);
  // The proof of `sequence` (nullopt: not stored yet). Errors: OutOfRange if pruned by
  // retention; DataLoss for a bad record.
  absl::StatusOr<std::optional<std::string>> ReadProof(uint64_t sequence);
  // Calls `f` for each stored proof from `from` on, in order. Errors: OutOfRange if `from` was
  // pruned; DataLoss for a bad record; errors from `f`.
  absl::Status ScanProofs(uint64_t from,
                          const std::function<absl::Status(uint64_t, std::string_view)>& f);
  // Deletes proofs before `keep_from` (retention). Later reads before it are OutOfRange.
  absl::Status PruneProofs(uint64_t keep_from);
  uint64_t first_retained_proof() const { return first_proof_.load(); }

  // ---- Metadata ----
  absl::StatusOr<std::optional<std::string>> GetMeta(std::string_view key);
  // Adds a sealed metadata write to `batch` (so it commits with other records).
  void PutMeta(rocksdb::WriteBatch* batch, std::string_view key, std::string_view value);
  absl::Status Write(rocksdb::WriteBatch* batch, bool sync);

  rocksdb::DB* db() { return db_.get(); }
  rocksdb::ColumnFamilyHandle* nodes_family() { return nodes_; }
  uint64_t syncs() const { return syncs_; }

 private:
  Store() = default;
  // The unsealed value under `key` (nullopt: absent). Errors: DataLoss naming `what`.
  absl::StatusOr<std::optional<std::string>> GetSealed(rocksdb::ColumnFamilyHandle* family,
                                                       std::string_view key, std::string_view what);

  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* journal_ = nullptr;
  rocksdb::ColumnFamilyHandle* proofs_ = nullptr;
  rocksdb::ColumnFamilyHandle* dedup_ = nullptr;
  rocksdb::ColumnFamilyHandle* nodes_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
  std::atomic<uint64_t> first_proof_{1};
  uint64_t syncs_ = 0;
};

// 8-byte big-endian sequence: RocksDB's byte order is sequence order.
std::string SequenceKey(uint64_t sequence);

}  // namespace pom::matcher
