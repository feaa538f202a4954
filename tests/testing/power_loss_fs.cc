#include "tests/testing/power_loss_fs.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace pom::testing {
namespace power_loss_fs_internal {

// What the disk holds of one file (one inode: hard links share it).
struct FileState {
  // Bytes from offset 0 that survive a power cut.
  uint64_t durable_size = 0;
  // Whether the file itself survives: it existed before the wrapper wrote it, or a sync on it
  // succeeded. A file that does not is deleted by Restore.
  bool durable_exists = false;
};

// The state shared by the wrapper and the files it opened.
class Tracker {
 public:
  bool power_lost() const { return power_lost_.load(std::memory_order_acquire); }

  void CutPower() {
    absl::MutexLock lock(&mu_);
    power_lost_.store(true, std::memory_order_release);
  }

  // Records that a sync covering the first `size` bytes of `state` succeeded. Returns false,
  // recording nothing, if the power was cut before it completed.
  bool RecordSync(FileState& state, uint64_t size) {
    absl::MutexLock lock(&mu_);
    if (power_lost()) return false;
    state.durable_size = std::max(state.durable_size, size);
    state.durable_exists = true;
    ++sync_count_;
    return true;
  }

  void RecordTruncate(FileState& state, uint64_t size) {
    absl::MutexLock lock(&mu_);
    state.durable_size = std::min(state.durable_size, size);
  }

  void FileClosed() {
    absl::MutexLock lock(&mu_);
    --open_files_;
  }

  uint64_t sync_count() const {
    absl::MutexLock lock(&mu_);
    return sync_count_;
  }

  // Exclusive access for the namespace operations, which must see the power state and change
  // the disk and the records as one step (a rename after the cut would leave them disagreeing).
  absl::Mutex& mu() const ABSL_LOCK_RETURNED(mu_) { return mu_; }
  std::map<std::string, std::shared_ptr<FileState>>& files() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return files_;
  }
  int64_t& open_files() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return open_files_; }
  void PowerOn() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    power_lost_.store(false, std::memory_order_release);
  }

 private:
  mutable absl::Mutex mu_;
  // Written under mu_, read without it by the data path (a write slipping past the check is
  // harmless: it is not durable).
  std::atomic<bool> power_lost_{false};
  // Ordered, so Restore works through files in a deterministic order.
  std::map<std::string, std::shared_ptr<FileState>> files_ ABSL_GUARDED_BY(mu_);
  uint64_t sync_count_ ABSL_GUARDED_BY(mu_) = 0;
  // Files opened for writing through the wrapper and not yet destroyed.
  int64_t open_files_ ABSL_GUARDED_BY(mu_) = 0;
};

namespace {

rocksdb::IOStatus PowerLost(const std::string& what) {
  return rocksdb::IOStatus::IOError("power lost", what);
}

// A file opened for appending. Counts the bytes written through it, so a sync knows how much it
// covers whatever the base file system reports as the file size.
class TrackedWritableFile final : public rocksdb::FSWritableFileWrapper {
 public:
  TrackedWritableFile(std::unique_ptr<rocksdb::FSWritableFile> target,
                      std::shared_ptr<Tracker> tracker, std::shared_ptr<FileState> state,
                      std::string fname, uint64_t size)
      : rocksdb::FSWritableFileWrapper(target.get()),
        owned_(std::move(target)),
        tracker_(std::move(tracker)),
        state_(std::move(state)),
        fname_(std::move(fname)),
        size_(size) {}

  ~TrackedWritableFile() override {
    // Close the real file before telling Restore it may run.
    owned_.reset();
    tracker_->FileClosed();
  }

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    if (tracker_->power_lost()) return PowerLost(fname_);
    rocksdb::IOStatus s = target()->Append(data, options, dbg);
    if (s.ok()) size_.fetch_add(data.size(), std::memory_order_acq_rel);
    return s;
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& verification_info,
                           rocksdb::IODebugContext* dbg) override {
    if (tracker_->power_lost()) return PowerLost(fname_);
    rocksdb::IOStatus s = target()->Append(data, options, verification_info, dbg);
    if (s.ok()) size_.fetch_add(data.size(), std::memory_order_acq_rel);
    return s;
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     rocksdb::IODebugContext* dbg) override {
    if (tracker_->power_lost()) return PowerLost(fname_);
    rocksdb::IOStatus s = target()->PositionedAppend(data, offset, options, dbg);
    if (s.ok()) GrowTo(offset + data.size());
    return s;
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     const rocksdb::DataVerificationInfo& verification_info,
                                     rocksdb::IODebugContext* dbg) override {
    if (tracker_->power_lost()) return PowerLost(fname_);
    rocksdb::IOStatus s = target()->PositionedAppend(data, offset, options, verification_info, dbg);
    if (s.ok()) GrowTo(offset + data.size());
    return s;
  }
  rocksdb::IOStatus Truncate(uint64_t size, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
    if (tracker_->power_lost()) return PowerLost(fname_);
    rocksdb::IOStatus s = target()->Truncate(size, options, dbg);
    if (s.ok()) {
      size_.store(size, std::memory_order_release);
      tracker_->RecordTruncate(*state_, size);
    }
    return s;
  }
  rocksdb::IOStatus Close(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    // Release the descriptor either way; after the cut the caller must not believe its data is
    // anywhere.
    rocksdb::IOStatus s = target()->Close(options, dbg);
    if (tracker_->power_lost()) {
      s.PermitUncheckedError();
      return PowerLost(fname_);
    }
    return s;
  }
  rocksdb::IOStatus Flush(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    if (tracker_->power_lost()) return PowerLost(fname_);
    return target()->Flush(options, dbg);
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    return SyncWith([&](rocksdb::FSWritableFile* f) { return f->Sync(options, dbg); });
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    return SyncWith([&](rocksdb::FSWritableFile* f) { return f->Fsync(options, dbg); });
  }
  rocksdb::IOStatus RangeSync(uint64_t offset, uint64_t nbytes, const rocksdb::IOOptions& options,
                              rocksdb::IODebugContext* dbg) override {
    // Forwarded for its effect on write-back, never a durability point (see the header).
    if (tracker_->power_lost()) return PowerLost(fname_);
    return target()->RangeSync(offset, nbytes, options, dbg);
  }
  void PrepareWrite(size_t offset, size_t len, const rocksdb::IOOptions& options,
                    rocksdb::IODebugContext* dbg) override {
    if (tracker_->power_lost()) return;
    target()->PrepareWrite(offset, len, options, dbg);
  }
  rocksdb::IOStatus Allocate(uint64_t offset, uint64_t len, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
    if (tracker_->power_lost()) return PowerLost(fname_);
    return target()->Allocate(offset, len, options, dbg);
  }

 private:
  void GrowTo(uint64_t end) {
    uint64_t current = size_.load(std::memory_order_acquire);
    while (current < end && !size_.compare_exchange_weak(current, end, std::memory_order_acq_rel)) {
    }
  }

  template <typename SyncFn>
  rocksdb::IOStatus SyncWith(SyncFn sync) {
    if (tracker_->power_lost()) return PowerLost(fname_);
    // Only what was written before the sync began is sure to be covered: RocksDB may append to
    // a WAL while another thread syncs it.
    const uint64_t covered = size_.load(std::memory_order_acquire);
    rocksdb::IOStatus s = sync(target());
    if (!s.ok()) return s;
    if (!tracker_->RecordSync(*state_, covered)) return PowerLost(fname_);
    return s;
  }

  std::unique_ptr<rocksdb::FSWritableFile> owned_;
  std::shared_ptr<Tracker> tracker_;
  std::shared_ptr<FileState> state_;
  std::string fname_;
  // Bytes written through this handle, plus what the file held when it was opened for append.
  std::atomic<uint64_t> size_;
};

// A file opened for random reads and writes (RocksDB rewrites an ingested SST's global sequence
// number this way). Writes past the end grow the file; writes inside it are overwrites the model
// does not undo (see the header).
class TrackedRandomRWFile final : public rocksdb::FSRandomRWFileWrapper {
 public:
  TrackedRandomRWFile(std::unique_ptr<rocksdb::FSRandomRWFile> target,
                      std::shared_ptr<Tracker> tracker, std::shared_ptr<FileState> state,
                      std::string fname, uint64_t size)
      : rocksdb::FSRandomRWFileWrapper(target.get()),
        owned_(std::move(target)),
        tracker_(std::move(tracker)),
        state_(std::move(state)),
        fname_(std::move(fname)),
        size_(size) {}

  ~TrackedRandomRWFile() override {
    owned_.reset();
    tracker_->FileClosed();
  }

  rocksdb::IOStatus Write(uint64_t offset, const rocksdb::Slice& data,
                          const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    if (tracker_->power_lost()) return PowerLost(fname_);
    rocksdb::IOStatus s = target()->Write(offset, data, options, dbg);
    if (s.ok()) {
      const uint64_t end = offset + data.size();
      uint64_t current = size_.load(std::memory_order_acquire);
      while (current < end &&
             !size_.compare_exchange_weak(current, end, std::memory_order_acq_rel)) {
      }
    }
    return s;
  }
  rocksdb::IOStatus Flush(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    if (tracker_->power_lost()) return PowerLost(fname_);
    return target()->Flush(options, dbg);
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    if (tracker_->power_lost()) return PowerLost(fname_);
    const uint64_t covered = size_.load(std::memory_order_acquire);
    rocksdb::IOStatus s = target()->Sync(options, dbg);
    if (!s.ok()) return s;
    if (!tracker_->RecordSync(*state_, covered)) return PowerLost(fname_);
    return s;
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    if (tracker_->power_lost()) return PowerLost(fname_);
    const uint64_t covered = size_.load(std::memory_order_acquire);
    rocksdb::IOStatus s = target()->Fsync(options, dbg);
    if (!s.ok()) return s;
    if (!tracker_->RecordSync(*state_, covered)) return PowerLost(fname_);
    return s;
  }
  rocksdb::IOStatus Close(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->Close(options, dbg);
    if (tracker_->power_lost()) {
      s.PermitUncheckedError();
      return PowerLost(fname_);
    }
    return s;
  }

 private:
  std::unique_ptr<rocksdb::FSRandomRWFile> owned_;
  std::shared_ptr<Tracker> tracker_;
  std::shared_ptr<FileState> state_;
  std::string fname_;
  std::atomic<uint64_t> size_;
};

// A directory handle whose fsync fails after the cut (directory fsync is otherwise not
// modelled).
class PowerAwareDirectory final : public rocksdb::FSDirectoryWrapper {
 public:
  PowerAwareDirectory(std::unique_ptr<rocksdb::FSDirectory> target,
                      std::shared_ptr<Tracker> tracker, std::string name)
      : rocksdb::FSDirectoryWrapper(std::move(target)),
        tracker_(std::move(tracker)),
        name_(std::move(name)) {}

  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    if (tracker_->power_lost()) return PowerLost(name_);
    return FSDirectoryWrapper::Fsync(options, dbg);
  }
  rocksdb::IOStatus FsyncWithDirOptions(
      const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg,
      const rocksdb::DirFsyncOptions& dir_fsync_options) override {
    if (tracker_->power_lost()) return PowerLost(name_);
    return FSDirectoryWrapper::FsyncWithDirOptions(options, dbg, dir_fsync_options);
  }

 private:
  std::shared_ptr<Tracker> tracker_;
  std::string name_;
};

// The size of `fname` on the base file system; nullopt if it does not exist.
std::optional<uint64_t> ExistingSize(rocksdb::FileSystem& fs, const std::string& fname) {
  const rocksdb::IOOptions options;
  if (!fs.FileExists(fname, options, nullptr).ok()) return std::nullopt;
  uint64_t size = 0;
  if (!fs.GetFileSize(fname, options, &size, nullptr).ok()) return std::nullopt;
  return size;
}

// Cuts `fname` to `size` bytes and makes that durable. The POSIX file system does not implement
// FileSystem::Truncate, so fall back to truncating through a file opened for append.
rocksdb::IOStatus TruncateFile(rocksdb::FileSystem& fs, const std::string& fname, uint64_t size) {
  const rocksdb::IOOptions options;
  rocksdb::IOStatus s = fs.Truncate(fname, static_cast<size_t>(size), options, nullptr);
  if (!s.IsNotSupported()) return s;
  std::unique_ptr<rocksdb::FSWritableFile> file;
  s = fs.ReopenWritableFile(fname, rocksdb::FileOptions(), &file, nullptr);
  if (s.ok()) s = file->Truncate(size, options, nullptr);
  if (s.ok()) s = file->Fsync(options, nullptr);
  if (file != nullptr) {
    rocksdb::IOStatus closed = file->Close(options, nullptr);
    if (s.ok()) s = closed;
    closed.PermitUncheckedError();
  }
  return s;
}

}  // namespace
}  // namespace power_loss_fs_internal

using power_loss_fs_internal::FileState;
using power_loss_fs_internal::PowerLost;
using power_loss_fs_internal::Tracker;

PowerLossFileSystem::PowerLossFileSystem() : PowerLossFileSystem(nullptr) {}

PowerLossFileSystem::PowerLossFileSystem(const std::shared_ptr<rocksdb::FileSystem>& base)
    : rocksdb::FileSystemWrapper(base != nullptr ? base : rocksdb::FileSystem::Default()),
      tracker_(std::make_shared<Tracker>()) {}

PowerLossFileSystem::~PowerLossFileSystem() = default;

void PowerLossFileSystem::CutPower() { tracker_->CutPower(); }

bool PowerLossFileSystem::power_lost() const { return tracker_->power_lost(); }

uint64_t PowerLossFileSystem::sync_count() const { return tracker_->sync_count(); }

std::optional<uint64_t> PowerLossFileSystem::DurableSize(const std::string& fname) const {
  absl::MutexLock lock(&tracker_->mu());
  const auto& files = tracker_->files();
  const auto it = files.find(fname);
  if (it == files.end() || !it->second->durable_exists) return std::nullopt;
  return it->second->durable_size;
}

absl::Status PowerLossFileSystem::Restore() {
  absl::MutexLock lock(&tracker_->mu());
  if (!tracker_->power_lost()) {
    return absl::FailedPreconditionError("PowerLossFileSystem::Restore before CutPower");
  }
  if (tracker_->open_files() != 0) {
    return absl::FailedPreconditionError("PowerLossFileSystem::Restore with " +
                                         std::to_string(tracker_->open_files()) +
                                         " file(s) still open for writing; destroy the DB first");
  }
  const rocksdb::IOOptions options;
  for (const auto& [fname, state] : tracker_->files()) {
    const std::optional<uint64_t> size = power_loss_fs_internal::ExistingSize(*target(), fname);
    if (!size.has_value()) continue;  // Already gone.
    rocksdb::IOStatus s;
    if (!state->durable_exists) {
      s = target()->DeleteFile(fname, options, nullptr);
    } else if (*size > state->durable_size) {
      s = power_loss_fs_internal::TruncateFile(*target(), fname, state->durable_size);
    }
    if (!s.ok()) {
      return absl::InternalError("PowerLossFileSystem::Restore: " + fname + ": " + s.ToString());
    }
  }
  tracker_->files().clear();
  tracker_->PowerOn();
  return absl::OkStatus();
}

rocksdb::IOStatus PowerLossFileSystem::NewWritableFile(
    const std::string& fname, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* result, rocksdb::IODebugContext* dbg) {
  absl::MutexLock lock(&tracker_->mu());
  if (tracker_->power_lost()) return PowerLost(fname);
  std::unique_ptr<rocksdb::FSWritableFile> file;
  rocksdb::IOStatus s = target()->NewWritableFile(fname, options, &file, dbg);
  if (!s.ok()) return s;
  // Created or truncated: a new file, nothing durable until synced.
  auto state = std::make_shared<FileState>();
  tracker_->files()[fname] = state;
  ++tracker_->open_files();
  *result = std::make_unique<power_loss_fs_internal::TrackedWritableFile>(
      std::move(file), tracker_, std::move(state), fname, 0);
  return s;
}

rocksdb::IOStatus PowerLossFileSystem::ReopenWritableFile(
    const std::string& fname, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* result, rocksdb::IODebugContext* dbg) {
  absl::MutexLock lock(&tracker_->mu());
  if (tracker_->power_lost()) return PowerLost(fname);
  const std::optional<uint64_t> existing = power_loss_fs_internal::ExistingSize(*target(), fname);
  std::unique_ptr<rocksdb::FSWritableFile> file;
  rocksdb::IOStatus s = target()->ReopenWritableFile(fname, options, &file, dbg);
  if (!s.ok()) return s;
  std::shared_ptr<FileState>& state = tracker_->files()[fname];
  if (state == nullptr) {
    // Not written through us: what is there is on disk already.
    state = std::make_shared<FileState>();
    state->durable_size = existing.value_or(0);
    state->durable_exists = existing.has_value();
  }
  ++tracker_->open_files();
  *result = std::make_unique<power_loss_fs_internal::TrackedWritableFile>(
      std::move(file), tracker_, state, fname, existing.value_or(0));
  return s;
}

rocksdb::IOStatus PowerLossFileSystem::ReuseWritableFile(
    const std::string& fname, const std::string& old_fname, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* result, rocksdb::IODebugContext* dbg) {
  absl::MutexLock lock(&tracker_->mu());
  if (tracker_->power_lost()) return PowerLost(fname);
  std::unique_ptr<rocksdb::FSWritableFile> file;
  rocksdb::IOStatus s = target()->ReuseWritableFile(fname, old_fname, options, &file, dbg);
  if (!s.ok()) return s;
  auto& files = tracker_->files();
  // The old file is renamed into place and rewritten from offset 0: its existence is as durable
  // as before, its content restarts.
  auto state = std::make_shared<FileState>();
  const auto old = files.find(old_fname);
  state->durable_exists = old == files.end() || old->second->durable_exists;
  if (old != files.end()) files.erase(old);
  files[fname] = state;
  ++tracker_->open_files();
  *result = std::make_unique<power_loss_fs_internal::TrackedWritableFile>(
      std::move(file), tracker_, std::move(state), fname, 0);
  return s;
}

rocksdb::IOStatus PowerLossFileSystem::NewRandomRWFile(
    const std::string& fname, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSRandomRWFile>* result, rocksdb::IODebugContext* dbg) {
  absl::MutexLock lock(&tracker_->mu());
  if (tracker_->power_lost()) return PowerLost(fname);
  const std::optional<uint64_t> existing = power_loss_fs_internal::ExistingSize(*target(), fname);
  std::unique_ptr<rocksdb::FSRandomRWFile> file;
  rocksdb::IOStatus s = target()->NewRandomRWFile(fname, options, &file, dbg);
  if (!s.ok()) return s;
  std::shared_ptr<FileState>& state = tracker_->files()[fname];
  if (state == nullptr) {
    state = std::make_shared<FileState>();
    state->durable_size = existing.value_or(0);
    state->durable_exists = existing.has_value();
  }
  ++tracker_->open_files();
  *result = std::make_unique<power_loss_fs_internal::TrackedRandomRWFile>(
      std::move(file), tracker_, state, fname, existing.value_or(0));
  return s;
}

rocksdb::IOStatus PowerLossFileSystem::NewMemoryMappedFileBuffer(
    const std::string& fname, std::unique_ptr<rocksdb::MemoryMappedFileBuffer>* result) {
  if (tracker_->power_lost()) return PowerLost(fname);
  return target()->NewMemoryMappedFileBuffer(fname, result);
}

rocksdb::IOStatus PowerLossFileSystem::NewDirectory(const std::string& name,
                                                    const rocksdb::IOOptions& options,
                                                    std::unique_ptr<rocksdb::FSDirectory>* result,
                                                    rocksdb::IODebugContext* dbg) {
  std::unique_ptr<rocksdb::FSDirectory> dir;
  rocksdb::IOStatus s = target()->NewDirectory(name, options, &dir, dbg);
  if (!s.ok()) return s;
  *result =
      std::make_unique<power_loss_fs_internal::PowerAwareDirectory>(std::move(dir), tracker_, name);
  return s;
}

rocksdb::IOStatus PowerLossFileSystem::NewLogger(const std::string& fname,
                                                 const rocksdb::IOOptions& options,
                                                 std::shared_ptr<rocksdb::Logger>* result,
                                                 rocksdb::IODebugContext* dbg) {
  if (tracker_->power_lost()) return PowerLost(fname);
  return target()->NewLogger(fname, options, result, dbg);
}

rocksdb::IOStatus PowerLossFileSystem::DeleteFile(const std::string& fname,
                                                  const rocksdb::IOOptions& options,
                                                  rocksdb::IODebugContext* dbg) {
  absl::MutexLock lock(&tracker_->mu());
  if (tracker_->power_lost()) return PowerLost(fname);
  rocksdb::IOStatus s = target()->DeleteFile(fname, options, dbg);
  if (s.ok()) tracker_->files().erase(fname);
  return s;
}

rocksdb::IOStatus PowerLossFileSystem::Truncate(const std::string& fname, size_t size,
                                                const rocksdb::IOOptions& options,
                                                rocksdb::IODebugContext* dbg) {
  absl::MutexLock lock(&tracker_->mu());
  if (tracker_->power_lost()) return PowerLost(fname);
  rocksdb::IOStatus s = target()->Truncate(fname, size, options, dbg);
  if (!s.ok()) return s;
  const auto it = tracker_->files().find(fname);
  if (it != tracker_->files().end()) {
    it->second->durable_size = std::min<uint64_t>(it->second->durable_size, size);
  }
  return s;
}

rocksdb::IOStatus PowerLossFileSystem::RenameFile(const std::string& src,
                                                  const std::string& target_name,
                                                  const rocksdb::IOOptions& options,
                                                  rocksdb::IODebugContext* dbg) {
  absl::MutexLock lock(&tracker_->mu());
  if (tracker_->power_lost()) return PowerLost(src);
  rocksdb::IOStatus s = target()->RenameFile(src, target_name, options, dbg);
  if (!s.ok() || src == target_name) return s;
  auto& files = tracker_->files();
  files.erase(target_name);  // Replaced: whatever was there is gone.
  const auto it = files.find(src);
  if (it != files.end()) {
    files[target_name] = std::move(it->second);
    files.erase(it);
  }
  return s;
}

rocksdb::IOStatus PowerLossFileSystem::LinkFile(const std::string& src,
                                                const std::string& target_name,
                                                const rocksdb::IOOptions& options,
                                                rocksdb::IODebugContext* dbg) {
  absl::MutexLock lock(&tracker_->mu());
  if (tracker_->power_lost()) return PowerLost(src);
  rocksdb::IOStatus s = target()->LinkFile(src, target_name, options, dbg);
  if (!s.ok()) return s;
  auto& files = tracker_->files();
  const auto it = files.find(src);
  if (it != files.end()) files[target_name] = it->second;  // One inode, one record.
  return s;
}

rocksdb::IOStatus PowerLossFileSystem::CreateDir(const std::string& dirname,
                                                 const rocksdb::IOOptions& options,
                                                 rocksdb::IODebugContext* dbg) {
  absl::MutexLock lock(&tracker_->mu());
  if (tracker_->power_lost()) return PowerLost(dirname);
  return target()->CreateDir(dirname, options, dbg);
}

rocksdb::IOStatus PowerLossFileSystem::CreateDirIfMissing(const std::string& dirname,
                                                          const rocksdb::IOOptions& options,
                                                          rocksdb::IODebugContext* dbg) {
  absl::MutexLock lock(&tracker_->mu());
  if (tracker_->power_lost()) return PowerLost(dirname);
  return target()->CreateDirIfMissing(dirname, options, dbg);
}

rocksdb::IOStatus PowerLossFileSystem::DeleteDir(const std::string& dirname,
                                                 const rocksdb::IOOptions& options,
                                                 rocksdb::IODebugContext* dbg) {
  absl::MutexLock lock(&tracker_->mu());
  if (tracker_->power_lost()) return PowerLost(dirname);
  return target()->DeleteDir(dirname, options, dbg);
}

rocksdb::IOStatus PowerLossFileSystem::LockFile(const std::string& fname,
                                                const rocksdb::IOOptions& options,
                                                rocksdb::FileLock** lock,
                                                rocksdb::IODebugContext* dbg) {
  if (tracker_->power_lost()) return PowerLost(fname);
  return target()->LockFile(fname, options, lock, dbg);
}

}  // namespace pom::testing
