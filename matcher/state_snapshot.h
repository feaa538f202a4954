// Snapshots of the matcher's state: the fast state (books, balances, nonces, markets), the custody
// ledger, the sequence and the root, in one file of checksummed chunks (docs/protocol.md
// "Snapshots"). A snapshot is written to a temporary file, synced, renamed into place and the
// directory synced, so a crash leaves either the old set of snapshots or the new one.
//
// Building a tree from a loaded state's leaves (StateLeaves) must give the root the snapshot
// records, which is how a loaded snapshot is checked end to end.
// Thread-safety: functions are self-contained; a FastState passed in must not change meanwhile.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/bytes.h"
#include "common/rules/ledger.h"
#include "common/smt/multiproof.h"
#include "matcher/fast_state.h"

namespace pom::matcher {

struct Snapshot {
  uint64_t sequence = 0;
  Bytes32 root;
  FastState state;
  rules::CustodyLedger ledger;
};

// The snapshot as bytes (deterministic: the same state gives the same bytes).
std::string EncodeSnapshot(uint64_t sequence, const Bytes32& root, const FastState& state,
                           const rules::CustodyLedger& ledger);
// Errors: DataLoss naming the chunk for a bad magic, a checksum mismatch, a truncated chunk, a
// missing trailer or a malformed record.
absl::StatusOr<Snapshot> DecodeSnapshot(std::string_view bytes);

// Snapshot files in `dir`: snapshot-<20-digit sequence>.pom.
std::string SnapshotPath(const std::string& dir, uint64_t sequence);
// The sequences of the complete snapshot files in `dir`, newest first. Leftover temporary files
// (a crash during a write) are deleted. A missing directory is empty.
absl::StatusOr<std::vector<uint64_t>> ListSnapshots(const std::string& dir);

// Writes `bytes` as the snapshot of `sequence`: temporary file, fsync, rename, fsync of the
// directory. Kill points: snapshot-write (half written), snapshot-rename (renamed, directory
// not yet synced). Errors: Internal for I/O failures (naming the file and errno).
absl::Status WriteSnapshotFile(const std::string& dir, uint64_t sequence, const std::string& bytes);
absl::StatusOr<std::string> ReadSnapshotFile(const std::string& dir, uint64_t sequence);
// Deletes every snapshot older than `keep_from`.
absl::Status PruneSnapshots(const std::string& dir, uint64_t keep_from);

}  // namespace pom::matcher
