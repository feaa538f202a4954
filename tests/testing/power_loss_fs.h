// A RocksDB FileSystem for durability tests that models what survives a power cut.
//
// PowerLossFileSystem forwards everything to a base FileSystem (the real disk by default) and
// remembers, for every file written through it, how many bytes are durable: the size the file
// had when a Sync or Fsync on it last began. Bytes written later (even if the file was closed,
// and even though a reader sees them: they sit in the page cache) are not durable. CutPower()
// then makes every write, sync and namespace change fail, so the process above sees its I/O
// fail as it would in the instant before the machine dies; Restore() rewrites the directory to
// what the disk would hold after the cut, and the test reopens it with the plain default Env.
//
// Usage:
//   auto fs = std::make_shared<PowerLossFileSystem>();
//   std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
//   options.env = env.get();
//   ... open the DB, write ...
//   fs->CutPower();
//   db.reset();                      // its errors are expected: the power is gone
//   ASSERT_TRUE(fs->Restore().ok());
//   ... reopen with rocksdb::Env::Default() and check what survived ...
//
// The model, per file name:
// - NewWritableFile creates a new file: nothing of it is durable, not even its existence, until
//   a sync succeeds. At Restore, a file never synced is deleted (a new file whose creation was
//   never made durable); a synced file is truncated to its durable size.
// - ReopenWritableFile and NewRandomRWFile on a file not written through the wrapper before take
//   its current size as durable (what was there before the test is on disk). ReuseWritableFile
//   (WAL recycling) keeps the file but rewrites it from offset 0, so its durable size restarts
//   at 0: at Restore the stale tail of the recycled file is dropped.
// - Sync and Fsync make durable every byte written through the handle before the call began.
//   RangeSync never does: sync_file_range starts writeback without flushing the file size or
//   waiting for the device, so nothing it covers is guaranteed to survive. RocksDB calls Sync
//   wherever it needs durability.
// - RenameFile moves the record to the new name (replacing any record there); LinkFile makes
//   the new name share the record (one inode); DeleteFile drops it; Truncate lowers the durable
//   size. Files never written through the wrapper are left as they are by Restore.
//
// Limitations (the model is deliberately simple):
// - Directory fsync is not modelled: creations, renames and deletions are treated as durable the
//   moment they succeed, so a test will not catch a missing directory fsync (a renamed CURRENT
//   that could revert to the old one, a deleted file that could reappear, a synced new file
//   whose directory entry was never synced).
// - Only lost tails are modelled. An unsynced in-place overwrite of durable bytes (a
//   RandomRWFile Write below the durable size, a PositionedAppend rewriting earlier bytes) keeps
//   the new bytes, and there are no torn or reordered writes inside the durable prefix.
// - Names are compared as strings: RocksDB names a file the same way every time, but
//   "dir//x" and "dir/x" would be two records.
// - Info logs (NewLogger) and memory-mapped buffers (NewMemoryMappedFileBuffer) are not
//   tracked: the LOG file keeps whatever was written to it. Both fail to open after CutPower.
// - File locks are always released (UnlockFile works after CutPower) so the test process can
//   reopen the DB; a dead process would release them too.
//
// Thread-safety: thread-safe. RocksDB calls it from its foreground and background threads, and
// CutPower may be called from any thread. Restore must not race with I/O through the wrapper
// (its contract requires every file opened through the wrapper to be closed).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "rocksdb/file_system.h"
#include "rocksdb/io_status.h"

namespace pom::testing {

namespace power_loss_fs_internal {
class Tracker;
}  // namespace power_loss_fs_internal

class PowerLossFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  // Wraps rocksdb::FileSystem::Default(), the real disk.
  PowerLossFileSystem();
  // Wraps `base`. A null `base` means rocksdb::FileSystem::Default().
  explicit PowerLossFileSystem(const std::shared_ptr<rocksdb::FileSystem>& base);
  ~PowerLossFileSystem() override;

  PowerLossFileSystem(const PowerLossFileSystem&) = delete;
  PowerLossFileSystem& operator=(const PowerLossFileSystem&) = delete;

  static const char* kClassName() { return "PowerLossFileSystem"; }
  const char* Name() const override { return kClassName(); }

  // From now on, every write, sync, truncation, rename, link, deletion, directory change and
  // file creation (through the wrapper or a file it opened) fails with IOError "power lost",
  // and nothing more becomes durable. A sync in flight at the cut does not count. Reads keep
  // working. Idempotent.
  void CutPower();

  // True between CutPower() and a successful Restore().
  bool power_lost() const;

  // Makes the disk hold what survived the cut: deletes the files created through the wrapper
  // and never synced, and truncates every other tracked file to its durable size. Then forgets
  // every record (whatever is on disk now is durable) and turns the power back on, so the
  // wrapper can be used again for another cycle.
  // REQUIRES (else FailedPrecondition, nothing changed): CutPower() was called; every file
  // opened for writing through the wrapper is closed (destroy the DB first).
  // Errors: Internal if a file cannot be truncated or deleted; the power then stays off.
  [[nodiscard]] absl::Status Restore();

  // Number of Sync/Fsync calls on files opened through the wrapper that succeeded while the
  // power was on. Directory fsyncs and RangeSync are not counted. Never reset.
  uint64_t sync_count() const;

  // The durable size recorded for `fname`, or nullopt if the wrapper does not track it (never
  // written through the wrapper, deleted, renamed away) or the file was created and never
  // synced (nothing of it would survive).
  std::optional<uint64_t> DurableSize(const std::string& fname) const;

  // rocksdb::FileSystem. Writing entry points: refused after CutPower, tracked otherwise.
  rocksdb::IOStatus NewWritableFile(const std::string& fname, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& fname,
                                       const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& fname, const std::string& old_fname,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewRandomRWFile(const std::string& fname, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSRandomRWFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewMemoryMappedFileBuffer(
      const std::string& fname, std::unique_ptr<rocksdb::MemoryMappedFileBuffer>* result) override;
  rocksdb::IOStatus NewLogger(const std::string& fname, const rocksdb::IOOptions& options,
                              std::shared_ptr<rocksdb::Logger>* result,
                              rocksdb::IODebugContext* dbg) override;

  // Opening a directory always works; the handle's Fsync fails after CutPower.
  rocksdb::IOStatus NewDirectory(const std::string& name, const rocksdb::IOOptions& options,
                                 std::unique_ptr<rocksdb::FSDirectory>* result,
                                 rocksdb::IODebugContext* dbg) override;

  // Namespace changes: refused after CutPower, tracked otherwise. UnlockFile is not overridden:
  // it works after CutPower.
  rocksdb::IOStatus DeleteFile(const std::string& fname, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus Truncate(const std::string& fname, size_t size,
                             const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& src, const std::string& target,
                               const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus LinkFile(const std::string& src, const std::string& target,
                             const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus CreateDir(const std::string& dirname, const rocksdb::IOOptions& options,
                              rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus CreateDirIfMissing(const std::string& dirname,
                                       const rocksdb::IOOptions& options,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteDir(const std::string& dirname, const rocksdb::IOOptions& options,
                              rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus LockFile(const std::string& fname, const rocksdb::IOOptions& options,
                             rocksdb::FileLock** lock, rocksdb::IODebugContext* dbg) override;

 private:
  // Shared with every file opened through the wrapper, so a file may outlive the wrapper.
  std::shared_ptr<power_loss_fs_internal::Tracker> tracker_;
};

}  // namespace pom::testing
