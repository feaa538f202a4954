// Shared by the durability tests: a temporary directory, a generated command file with its
// genesis, the root `pom-matcher replay` reaches on it, and raw access to the matcher's RocksDB
// column families for corrupting records on purpose.
#pragma once

#include <rocksdb/db.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench/workload.h"
#include "gtest/gtest.h"
#include "matcher/replay.h"
#include "proto/codec.h"
#include "proto/stream.h"

namespace pom::matcher::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "pom-durable-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Writes `path` (length-delimited commands) and `path`.genesis; returns the workload.
inline workload::Workload WriteWorkload(const std::string& path, uint64_t seed, uint64_t events,
                                        uint32_t users = 40, uint32_t markets = 3) {
  workload::Options o;
  o.seed = seed;
  o.events = events;
  o.users = users;
  o.markets = markets;
  workload::Workload w = workload::Generate(o);
  auto writer = codec::DelimitedWriter::Create(path);
  EXPECT_TRUE(writer.ok());
  v1::Command wire;
  for (const rules::Command& c : w.commands) {
    codec::ToProto(c, &wire);
    EXPECT_TRUE((*writer)->Write(wire).ok());
  }
  EXPECT_TRUE((*writer)->Close().ok());
  std::ofstream(path + ".genesis") << codec::GenesisToJson(w.genesis);
  return w;
}

inline Bytes32 ReplayRoot(const std::string& commands) {
  ReplayOptions o;
  o.commands_path = commands;
  absl::StatusOr<ReplayResult> r = Replay(o);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? r->root : Bytes32();
}

// The matcher's database opened directly, bypassing the Store (and its checks).
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const char* name : {"default", "journal", "proofs", "dedup", "nodes", "meta"}) {
      families.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
    rocksdb::DB* raw = nullptr;
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    const rocksdb::Status s = rocksdb::DB::Open(rocksdb::DBOptions(), path, families, &handles, &raw);
    EXPECT_TRUE(s.ok()) << s.ToString();
    db_.reset(raw);
    for (size_t i = 0; i < handles.size(); ++i) cf_[families[i].name] = handles[i];
  }
  ~RawDb() {
    for (auto& [name, h] : cf_) db_->DestroyColumnFamilyHandle(h);
  }
  rocksdb::DB* db() { return db_.get(); }
  rocksdb::ColumnFamilyHandle* cf(const std::string& name) { return cf_.at(name); }
  std::string Get(const std::string& family, const std::string& key) {
    std::string v;
    EXPECT_TRUE(db_->Get(rocksdb::ReadOptions(), cf(family), key, &v).ok());
    return v;
  }
  void Put(const std::string& family, const std::string& key, const std::string& value) {
    EXPECT_TRUE(db_->Put(rocksdb::WriteOptions(), cf(family), key, value).ok());
  }
  void Delete(const std::string& family, const std::string& key) {
    EXPECT_TRUE(db_->Delete(rocksdb::WriteOptions(), cf(family), key).ok());
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  std::map<std::string, rocksdb::ColumnFamilyHandle*> cf_;
};

}  // namespace pom::matcher::testing
