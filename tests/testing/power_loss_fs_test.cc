#include "tests/testing/power_loss_fs.h"

#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"

namespace pom::testing {
namespace {

std::string Key(int i) {
  char buf[16];
  snprintf(buf, sizeof(buf), "k%06d", i);
  return buf;
}

// Distinct per key and long enough that a few thousand keys fill several memtables.
std::string Value(int i) { return Key(i) + std::string(100, static_cast<char>('a' + i % 26)); }

class PowerLossFsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "power_loss_fs_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    db_path_ = dir_ + "/db";
    fs_ = std::make_shared<PowerLossFileSystem>();
    env_ = rocksdb::NewCompositeEnv(fs_);
  }

  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  rocksdb::Options BaseOptions() const {
    rocksdb::Options options;
    options.create_if_missing = true;
    options.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
    return options;
  }

  // Opens the DB through the power-loss wrapper.
  std::unique_ptr<rocksdb::DB> OpenWrapped(rocksdb::Options options) {
    options.env = env_.get();
    rocksdb::DB* db = nullptr;
    const rocksdb::Status s = rocksdb::DB::Open(options, db_path_, &db);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return std::unique_ptr<rocksdb::DB>(db);
  }

  std::unique_ptr<rocksdb::DB> OpenWrapped() { return OpenWrapped(BaseOptions()); }

  // Reopens what the power cut left, with the plain default Env, as the product would.
  std::unique_ptr<rocksdb::DB> ReopenAfterCut() {
    rocksdb::Options options = BaseOptions();
    options.create_if_missing = false;
    options.env = rocksdb::Env::Default();
    rocksdb::DB* db = nullptr;
    const rocksdb::Status s = rocksdb::DB::Open(options, db_path_, &db);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return std::unique_ptr<rocksdb::DB>(db);
  }

  // The process dies: power off, the DB object goes away reporting whatever it reports, and the
  // disk is put into its post-cut state.
  void CutPowerAndRestore(std::unique_ptr<rocksdb::DB>& db) {
    fs_->CutPower();
    db->Close().PermitUncheckedError();  // Errors are the point.
    db.reset();
    const absl::Status restored = fs_->Restore();
    ASSERT_TRUE(restored.ok()) << restored;
  }

  static std::string Get(rocksdb::DB& db, const std::string& key) {
    std::string value;
    const rocksdb::Status s = db.Get(rocksdb::ReadOptions(), key, &value);
    if (s.IsNotFound()) return "<absent>";
    EXPECT_TRUE(s.ok()) << s.ToString();
    return value;
  }

  static rocksdb::WriteOptions Synced(bool sync) {
    rocksdb::WriteOptions options;
    options.sync = sync;
    return options;
  }

  std::string dir_;
  std::string db_path_;
  std::shared_ptr<PowerLossFileSystem> fs_;
  std::unique_ptr<rocksdb::Env> env_;
};

TEST_F(PowerLossFsTest, SyncedWriteSurvivesUnsyncedWriteIsLost) {
  auto db = OpenWrapped();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Put(Synced(true), "A", "a").ok());
  ASSERT_TRUE(db->Put(Synced(false), "B", "b").ok());
  // Before the cut both are visible: B sits in the page cache and the memtable.
  EXPECT_EQ(Get(*db, "B"), "b");

  CutPowerAndRestore(db);

  auto reopened = ReopenAfterCut();
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(Get(*reopened, "A"), "a");
  EXPECT_EQ(Get(*reopened, "B"), "<absent>");
}

TEST_F(PowerLossFsTest, SyncWalMakesEarlierUnsyncedWritesDurable) {
  auto db = OpenWrapped();
  ASSERT_NE(db, nullptr);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(db->Put(Synced(false), Key(i), Value(i)).ok());
  }
  const uint64_t syncs_before = fs_->sync_count();
  ASSERT_TRUE(db->SyncWAL().ok());
  EXPECT_GT(fs_->sync_count(), syncs_before);
  // After the group commit point: lost.
  ASSERT_TRUE(db->Put(Synced(false), Key(10), Value(10)).ok());

  CutPowerAndRestore(db);

  auto reopened = ReopenAfterCut();
  ASSERT_NE(reopened, nullptr);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(Get(*reopened, Key(i)), Value(i)) << i;
  EXPECT_EQ(Get(*reopened, Key(10)), "<absent>");
}

TEST_F(PowerLossFsTest, WritesFailAfterCutPower) {
  auto db = OpenWrapped();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Put(Synced(true), "before", "x").ok());
  const uint64_t syncs = fs_->sync_count();

  fs_->CutPower();
  EXPECT_TRUE(fs_->power_lost());
  EXPECT_FALSE(db->Put(Synced(true), "after_sync", "x").ok());
  EXPECT_FALSE(db->Put(Synced(false), "after_nosync", "x").ok());
  // Not db->SyncWAL(): after a failed WAL write, RocksDB 7.8 asserts in SyncWAL, and Debian
  // builds it with assertions on.
  EXPECT_EQ(fs_->sync_count(), syncs);
  // Reads keep working.
  EXPECT_EQ(Get(*db, "before"), "x");

  db->Close().PermitUncheckedError();
  db.reset();
  ASSERT_TRUE(fs_->Restore().ok());
  EXPECT_FALSE(fs_->power_lost());
  auto reopened = ReopenAfterCut();
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(Get(*reopened, "before"), "x");
  EXPECT_EQ(Get(*reopened, "after_sync"), "<absent>");
  EXPECT_EQ(Get(*reopened, "after_nosync"), "<absent>");
}

TEST_F(PowerLossFsTest, FlushedAndCompactedSyncedKeysSurvive) {
  rocksdb::Options options = BaseOptions();
  options.write_buffer_size = 64 << 10;
  options.target_file_size_base = 64 << 10;
  options.level0_file_num_compaction_trigger = 2;
  auto db = OpenWrapped(options);
  ASSERT_NE(db, nullptr);

  // Synced batches: a synced write per key would be slow on a real disk and prove nothing more.
  constexpr int kKeys = 4000;
  constexpr int kBatch = 100;
  auto write_range = [&](int begin, int end) {
    for (int i = begin; i < end; i += kBatch) {
      rocksdb::WriteBatch batch;
      for (int j = i; j < std::min(i + kBatch, end); ++j) batch.Put(Key(j), Value(j));
      ASSERT_TRUE(db->Write(Synced(true), &batch).ok());
    }
  };
  write_range(0, kKeys / 2);
  ASSERT_TRUE(db->CompactRange(rocksdb::CompactRangeOptions(), nullptr, nullptr).ok());
  write_range(kKeys / 2, kKeys);
  // Overwrites, so the newest version must win after recovery too.
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(db->Put(Synced(true), Key(i), "new" + Value(i)).ok());
  }

  // Not synced: lost, while everything synced before it, in SSTs or the WAL, stays.
  ASSERT_TRUE(db->Put(Synced(false), "unsynced", "x").ok());

  // The data is spread over compacted SSTs, flushed L0 SSTs and the live WAL.
  std::vector<rocksdb::LiveFileMetaData> files;
  db->GetLiveFilesMetaData(&files);
  int deeper_than_l0 = 0;
  for (const auto& f : files) deeper_than_l0 += f.level > 0 ? 1 : 0;
  EXPECT_GT(deeper_than_l0, 0) << "no compaction happened";
  EXPECT_GE(files.size(), 2u);

  CutPowerAndRestore(db);

  auto reopened = ReopenAfterCut();
  ASSERT_NE(reopened, nullptr);
  for (int i = 0; i < kKeys; ++i) {
    ASSERT_EQ(Get(*reopened, Key(i)), i < 50 ? "new" + Value(i) : Value(i)) << i;
  }
  EXPECT_EQ(Get(*reopened, "unsynced"), "<absent>");
}

TEST_F(PowerLossFsTest, UnsyncedFileIsGoneSyncedPrefixStays) {
  ASSERT_TRUE(std::filesystem::create_directory(db_path_));
  const rocksdb::FileOptions file_options;
  const rocksdb::IOOptions io;
  const std::string unsynced = db_path_ + "/unsynced";
  const std::string partial = db_path_ + "/partial";
  {
    std::unique_ptr<rocksdb::FSWritableFile> f;
    ASSERT_TRUE(fs_->NewWritableFile(unsynced, file_options, &f, nullptr).ok());
    ASSERT_TRUE(f->Append("never synced", io, nullptr).ok());
    ASSERT_TRUE(f->Close(io, nullptr).ok());
  }
  {
    std::unique_ptr<rocksdb::FSWritableFile> f;
    ASSERT_TRUE(fs_->NewWritableFile(partial, file_options, &f, nullptr).ok());
    ASSERT_TRUE(f->Append("durable", io, nullptr).ok());
    ASSERT_TRUE(f->Sync(io, nullptr).ok());
    ASSERT_TRUE(f->Append("-lost", io, nullptr).ok());
    ASSERT_TRUE(f->Close(io, nullptr).ok());
  }
  EXPECT_EQ(fs_->DurableSize(unsynced), std::nullopt);
  EXPECT_EQ(fs_->DurableSize(partial), 7u);
  EXPECT_EQ(std::filesystem::file_size(partial), 12u);

  fs_->CutPower();
  ASSERT_TRUE(fs_->Restore().ok());

  EXPECT_FALSE(std::filesystem::exists(unsynced));
  std::string content;
  ASSERT_TRUE(rocksdb::ReadFileToString(fs_.get(), partial, &content).ok());
  EXPECT_EQ(content, "durable");
}

TEST_F(PowerLossFsTest, RenameMovesTrackingDeleteDropsIt) {
  ASSERT_TRUE(std::filesystem::create_directory(db_path_));
  const rocksdb::IOOptions io;
  const std::string tmp = db_path_ + "/file.tmp";
  const std::string final_name = db_path_ + "/file";
  const std::string doomed = db_path_ + "/doomed";
  {
    std::unique_ptr<rocksdb::FSWritableFile> f;
    ASSERT_TRUE(fs_->NewWritableFile(tmp, rocksdb::FileOptions(), &f, nullptr).ok());
    ASSERT_TRUE(f->Append("abc", io, nullptr).ok());
    ASSERT_TRUE(f->Fsync(io, nullptr).ok());
    ASSERT_TRUE(f->Append("def", io, nullptr).ok());
  }
  ASSERT_TRUE(fs_->RenameFile(tmp, final_name, io, nullptr).ok());
  EXPECT_EQ(fs_->DurableSize(tmp), std::nullopt);
  EXPECT_EQ(fs_->DurableSize(final_name), 3u);

  ASSERT_TRUE(rocksdb::WriteStringToFile(fs_.get(), "x", doomed, /*should_sync=*/true).ok());
  EXPECT_EQ(fs_->DurableSize(doomed), 1u);
  ASSERT_TRUE(fs_->DeleteFile(doomed, io, nullptr).ok());
  EXPECT_EQ(fs_->DurableSize(doomed), std::nullopt);

  fs_->CutPower();
  ASSERT_TRUE(fs_->Restore().ok());
  std::string content;
  ASSERT_TRUE(rocksdb::ReadFileToString(fs_.get(), final_name, &content).ok());
  EXPECT_EQ(content, "abc");
  EXPECT_FALSE(std::filesystem::exists(tmp));
  EXPECT_FALSE(std::filesystem::exists(doomed));
}

TEST_F(PowerLossFsTest, EverythingButReadsFailsAfterCut) {
  ASSERT_TRUE(std::filesystem::create_directory(db_path_));
  const rocksdb::IOOptions io;
  const std::string name = db_path_ + "/open";
  ASSERT_TRUE(rocksdb::WriteStringToFile(fs_.get(), "kept", db_path_ + "/old", true).ok());
  std::unique_ptr<rocksdb::FSWritableFile> f;
  ASSERT_TRUE(fs_->NewWritableFile(name, rocksdb::FileOptions(), &f, nullptr).ok());
  ASSERT_TRUE(f->Append("x", io, nullptr).ok());

  fs_->CutPower();
  EXPECT_TRUE(f->Append("y", io, nullptr).IsIOError());
  EXPECT_TRUE(f->Sync(io, nullptr).IsIOError());
  EXPECT_TRUE(f->Fsync(io, nullptr).IsIOError());
  std::unique_ptr<rocksdb::FSWritableFile> g;
  EXPECT_TRUE(
      fs_->NewWritableFile(db_path_ + "/new", rocksdb::FileOptions(), &g, nullptr).IsIOError());
  EXPECT_TRUE(fs_->RenameFile(db_path_ + "/old", db_path_ + "/moved", io, nullptr).IsIOError());
  EXPECT_TRUE(fs_->DeleteFile(db_path_ + "/old", io, nullptr).IsIOError());
  EXPECT_TRUE(fs_->CreateDir(db_path_ + "/sub", io, nullptr).IsIOError());
  std::string content;
  EXPECT_TRUE(rocksdb::ReadFileToString(fs_.get(), db_path_ + "/old", &content).ok());
  EXPECT_EQ(content, "kept");

  // A file still open: the DB has not been destroyed yet.
  const absl::Status early = fs_->Restore();
  EXPECT_EQ(early.code(), absl::StatusCode::kFailedPrecondition) << early;
  f->Close(io, nullptr).PermitUncheckedError();
  f.reset();
  ASSERT_TRUE(fs_->Restore().ok());
  EXPECT_FALSE(std::filesystem::exists(name));
  EXPECT_TRUE(std::filesystem::exists(db_path_ + "/old"));
}

TEST_F(PowerLossFsTest, RestoreRequiresCutPower) {
  EXPECT_EQ(fs_->Restore().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(PowerLossFsTest, RepeatedPowerCutsThroughTheSameWrapper) {
  for (int cycle = 0; cycle < 3; ++cycle) {
    auto db = OpenWrapped();
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(db->Put(Synced(true), Key(cycle), Value(cycle)).ok());
    ASSERT_TRUE(db->Put(Synced(false), "unsynced" + Key(cycle), "x").ok());
    CutPowerAndRestore(db);
  }
  auto reopened = ReopenAfterCut();
  ASSERT_NE(reopened, nullptr);
  for (int cycle = 0; cycle < 3; ++cycle) {
    EXPECT_EQ(Get(*reopened, Key(cycle)), Value(cycle));
    EXPECT_EQ(Get(*reopened, "unsynced" + Key(cycle)), "<absent>");
  }
}

}  // namespace
}  // namespace pom::testing
