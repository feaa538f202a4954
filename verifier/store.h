// The verifier's durable head (DESIGN.md §Durability, §Proofs step 5): the last verified
// sequence, its root, the custody ledger (chain-side balances, i.e. the authorizations, and
// custody), and the digest of the genesis the head descends from, in one RocksDB database.
//
// A commit writes all four in one WriteBatch, synced: after a crash the database holds either the
// previous head or the new one, never a mix. The log is opened with kTolerateCorruptedTailRecords,
// so a batch torn by a crash is dropped whole. Every value is sealed with an XXH3-64 checksum over
// its key and payload (common/checksum.h); a value that fails its seal is DataLoss.
//
// Cost: the whole ledger is encoded into one value, so a commit is O(ledger). Callers commit per
// batch of proofs (pom-verifier check: every --persist-every proofs), not per proof.
//
// Kill points (crash tests, common/kill_point.h): "verifier-persist" after the batch is built and
// before it is written; "verifier-persisted" right after the write succeeded.
// Thread-safety: Commit and AddAuthorization may run on different threads (they write disjoint
// records; the consumed authorizations a Commit deletes were added before); otherwise one owner.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/bytes.h"
#include "common/rules/ledger.h"
#include "verifier/verify.h"

namespace rocksdb {
class DB;
class Env;
}  // namespace rocksdb

namespace pom::verify {

// Identifies a genesis: SHA-256 over a domain tag, the prover id, the operator account and the
// encoding of the genesis ledger. Deterministic (the ledger encoding is sorted).
Bytes32 GenesisDigest(const Config& config, const rules::CustodyLedger& genesis_ledger);

// The state a verifier resumes from: it has verified every proof up to and including `sequence`.
struct VerifierHead {
  uint64_t sequence = 0;
  Bytes32 root;
  rules::CustodyLedger ledger;
};

struct VerifierStoreOptions {
  std::string path;             // the RocksDB directory (created if missing)
  Bytes32 genesis;              // GenesisDigest of the genesis this run starts from
  rocksdb::Env* env = nullptr;  // not owned; tests inject faults here. null: the default Env
};

class VerifierStore {
 public:
  // Opens (or creates) the database. Errors: FailedPrecondition if it holds a head that descends
  // from another genesis; DataLoss if RocksDB reports corruption or the stored genesis fails its
  // seal; Internal for other RocksDB failures.
  static absl::StatusOr<std::unique_ptr<VerifierStore>> Open(const VerifierStoreOptions& options);
  ~VerifierStore();
  VerifierStore(const VerifierStore&) = delete;
  VerifierStore& operator=(const VerifierStore&) = delete;

  // The last committed head, or nullopt if nothing was ever committed.
  // Errors: DataLoss naming the record if a value fails its seal or does not decode, or if the
  // head is incomplete; Internal for RocksDB read failures.
  absl::StatusOr<std::optional<VerifierHead>> Load() const;

  // Replaces the stored head with `head` atomically and durably (sync=true) before returning.
  // Errors: the RocksDB write failure (Internal, or DataLoss for corruption). After an error the
  // stored head is the previous one or `head`; the caller must stop, not retry blindly.
  absl::Status Commit(const VerifierHead& head);
  // The same, also deleting the consumed authorizations `consumed` (indexes) in the same batch.
  absl::Status Commit(const VerifierHead& head, std::span<const uint64_t> consumed);

  // ---- Deposit authorizations (verifier/authorizations.h) ----
  // Stores a serialized pom.v1.Command at `index` and the next free index (index + 1), durably
  // (sync) before returning. Errors: the RocksDB write failure.
  absl::Status AddAuthorization(uint64_t index, std::string_view command);
  struct StoredAuthorizations {
    uint64_t next_index = 1;  // indexes are never reused, also after consumption
    std::vector<std::pair<uint64_t, std::string>> outstanding;  // index order
  };
  // Errors: DataLoss naming a record that fails its seal.
  absl::StatusOr<StoredAuthorizations> LoadAuthorizations() const;

 private:
  VerifierStore(std::unique_ptr<rocksdb::DB> db, Bytes32 genesis);

  std::unique_ptr<rocksdb::DB> db_;
  Bytes32 genesis_;
};

}  // namespace pom::verify
