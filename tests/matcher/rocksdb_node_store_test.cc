#include "matcher/storage/rocksdb_node_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/check.h"
#include "common/hash.h"
#include "common/smt/memory_node_store.h"
#include "common/smt/tree.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"
#include "tests/testing/random.h"

namespace pom::matcher {
namespace {

using smt::MergeValue;
using smt::Node;
using smt::NodeRef;
using Tree = smt::SparseMerkleTree<Sha256Hasher>;
using testing::Rng;

// A fresh directory under the test temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "/rocksdb_node_store_XXXXXX";
    POM_CHECK(mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A DB with the default column family and "smt", which the store gets.
class Db {
 public:
  explicit Db(const std::string& path) {
    rocksdb::DBOptions options;
    options.create_if_missing = true;
    options.create_missing_column_families = true;
    const std::vector<rocksdb::ColumnFamilyDescriptor> families = {
        {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
        {"smt", rocksdb::ColumnFamilyOptions()}};
    rocksdb::DB* db = nullptr;
    const rocksdb::Status s = rocksdb::DB::Open(options, path, families, &handles_, &db);
    POM_CHECK_MSG(s.ok(), s.ToString());
    db_.reset(db);
  }
  ~Db() {
    for (rocksdb::ColumnFamilyHandle* h : handles_) POM_CHECK(db_->DestroyColumnFamilyHandle(h).ok());
  }

  rocksdb::DB* db() { return db_.get(); }
  rocksdb::ColumnFamilyHandle* cf() { return handles_[1]; }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

std::unique_ptr<RocksDbNodeStore> OpenStore(Db& db, size_t cache_nodes) {
  absl::StatusOr<std::unique_ptr<RocksDbNodeStore>> store =
      RocksDbNodeStore::Open(db.db(), db.cf(), RocksDbNodeStoreOptions{.cache_nodes = cache_nodes});
  POM_CHECK_OK(store);
  return std::move(store).value();
}

Tree OpenTree(smt::NodeStore* store) {
  absl::StatusOr<Tree> tree = Tree::Open(store);
  POM_CHECK_OK(tree);
  return std::move(tree).value();
}

void Flush(Db& db, RocksDbNodeStore& store) {
  rocksdb::WriteBatch batch;
  const absl::Status added = store.AddDirtyTo(&batch);
  ASSERT_TRUE(added.ok()) << added;
  const rocksdb::Status written = db.db()->Write(rocksdb::WriteOptions(), &batch);
  ASSERT_TRUE(written.ok()) << written.ToString();
  store.MarkFlushed();
  EXPECT_EQ(store.dirty_count(), 0u);
  EXPECT_FALSE(store.top_dirty());
}

// The layout the header documents: level big-endian, then the path.
std::string NodeKeyOf(const NodeRef& ref) {
  std::string key;
  key.push_back(static_cast<char>(ref.level >> 8));
  key.push_back(static_cast<char>(ref.level & 0xff));
  key.append(reinterpret_cast<const char*>(ref.path.data()), Bytes32::kSize);
  return key;
}

void ExpectSameNode(const Node& a, const Node& b) {
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_TRUE(a.value == b.value);
  for (int side = 0; side < 2; ++side) {
    EXPECT_TRUE(a.child[side] == b.child[side]);
    EXPECT_TRUE(a.child_lifted[side] == b.child_lifted[side]);
    EXPECT_EQ(a.child_hash[side], b.child_hash[side]);
  }
}

// Keys that often share long prefixes with earlier ones (one bit flipped), so forks happen at
// every height and not only near the top.
Bytes32 NextKey(Rng& rng, const std::vector<Bytes32>& keys) {
  if (keys.empty() || rng.OneIn(2)) return rng.NextBytes32();
  Bytes32 k = keys[rng.Uniform(0, keys.size() - 1)];
  const uint64_t bit = rng.Uniform(0, 255);
  k[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  return k;
}

// Inserts, overwrites and deletes (a zero value) on both trees.
void RandomUpdate(Rng& rng, std::vector<Bytes32>& keys, std::vector<Tree*> trees) {
  Bytes32 key;
  if (keys.empty() || rng.OneIn(2)) {
    key = NextKey(rng, keys);
    keys.push_back(key);
  } else {
    key = keys[rng.Uniform(0, keys.size() - 1)];
  }
  const Bytes32 value = rng.OneIn(4) ? Bytes32() : rng.NextBytes32();
  for (Tree* tree : trees) {
    const absl::Status s = tree->Update(key, value);
    ASSERT_TRUE(s.ok()) << s;
  }
}

TEST(RocksDbNodeStore, MatchesMemoryStoreUnderRandomUpdatesWithTinyCache) {
  for (uint64_t seed : testing::TestSeeds({1, 2, 3})) {
    SCOPED_TRACE(testing::SeedBanner(seed));
    Rng rng(seed);
    TempDir dir;
    Db db(dir.path());
    std::unique_ptr<RocksDbNodeStore> store = OpenStore(db, 16);
    smt::MemoryNodeStore memory;
    Tree tree = OpenTree(store.get());
    Tree reference = OpenTree(&memory);
    std::vector<Bytes32> keys;
    int flushes = 0;
    for (int op = 0; op < 5000; ++op) {
      ASSERT_NO_FATAL_FAILURE(RandomUpdate(rng, keys, {&tree, &reference}));
      ASSERT_EQ(tree.root(), reference.root()) << "op " << op;
      if (rng.OneIn(20)) {
        std::set<Bytes32, Bytes32NumericLess> picked;
        const uint64_t n = rng.Uniform(1, 8);
        for (uint64_t i = 0; i < n; ++i) picked.insert(keys[rng.Uniform(0, keys.size() - 1)]);
        picked.insert(rng.NextBytes32());  // absent
        const std::vector<Bytes32> proof_keys(picked.begin(), picked.end());
        absl::StatusOr<std::vector<uint8_t>> got = tree.Multiproof(proof_keys);
        absl::StatusOr<std::vector<uint8_t>> want = reference.Multiproof(proof_keys);
        ASSERT_TRUE(got.ok()) << got.status();
        ASSERT_TRUE(want.ok()) << want.status();
        ASSERT_EQ(ToHex(*got), ToHex(*want)) << "op " << op;
      }
      if (rng.OneIn(100)) {
        ASSERT_NO_FATAL_FAILURE(Flush(db, *store));
        ++flushes;
      }
    }
    for (const Bytes32& key : keys) {
      absl::StatusOr<Bytes32> got = tree.Get(key);
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_EQ(*got, *reference.Get(key));
    }
    EXPECT_GT(flushes, 10);
    EXPECT_GT(store->cache_misses(), 0u);  // evicted clean nodes came back from RocksDB
    EXPECT_GT(store->cache_hits(), 0u);
    EXPECT_LE(store->cached_count(), 16u);
  }
}

TEST(RocksDbNodeStore, WritesNothingUntilFlushed) {
  TempDir dir;
  Db db(dir.path());
  std::unique_ptr<RocksDbNodeStore> store = OpenStore(db, 16);
  Rng rng(7);
  const NodeRef ref{0, rng.NextBytes32()};
  Node leaf;
  leaf.value = MergeValue::FromValue(rng.NextBytes32());
  ASSERT_TRUE(store->Put(ref, leaf).ok());
  ASSERT_TRUE(store->SetTop(ref).ok());
  EXPECT_EQ(store->dirty_count(), 1u);
  EXPECT_TRUE(store->top_dirty());

  std::string raw;
  EXPECT_TRUE(db.db()->Get(rocksdb::ReadOptions(), db.cf(), NodeKeyOf(ref), &raw).IsNotFound());
  EXPECT_TRUE(db.db()->Get(rocksdb::ReadOptions(), db.cf(), "T", &raw).IsNotFound());
  ASSERT_TRUE(store->Get(ref).ok());
  EXPECT_EQ(store->cache_misses(), 0u);  // served by the overlay

  ASSERT_NO_FATAL_FAILURE(Flush(db, *store));
  ASSERT_TRUE(db.db()->Get(rocksdb::ReadOptions(), db.cf(), NodeKeyOf(ref), &raw).ok());
  EXPECT_EQ(raw.size(), 33u);  // a leaf is its kind byte and its value

  // A delete is a tombstone in the overlay: the node is gone for readers, still on disk.
  ASSERT_TRUE(store->Delete(ref).ok());
  EXPECT_TRUE(absl::IsNotFound(store->Get(ref).status()));
  EXPECT_TRUE(db.db()->Get(rocksdb::ReadOptions(), db.cf(), NodeKeyOf(ref), &raw).ok());
  ASSERT_TRUE(store->SetTop(std::nullopt).ok());
  ASSERT_NO_FATAL_FAILURE(Flush(db, *store));
  EXPECT_TRUE(db.db()->Get(rocksdb::ReadOptions(), db.cf(), NodeKeyOf(ref), &raw).IsNotFound());
  EXPECT_TRUE(absl::IsNotFound(store->Get(ref).status()));
  EXPECT_FALSE(store->GetTop()->has_value());
}

TEST(RocksDbNodeStoreDeathTest, MarkFlushedAfterAChangeTheBatchLacksDies) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // RocksDB runs background threads
  TempDir dir;
  Db db(dir.path());
  std::unique_ptr<RocksDbNodeStore> store = OpenStore(db, 16);
  Node leaf;
  leaf.value = MergeValue::FromValue(Bytes32FromHex(std::string(64, '1')).value());
  ASSERT_TRUE(store->Put(NodeRef{0, Bytes32()}, leaf).ok());
  rocksdb::WriteBatch batch;
  ASSERT_TRUE(store->AddDirtyTo(&batch).ok());
  ASSERT_TRUE(store->Delete(NodeRef{0, Bytes32()}).ok());
  // The dying child cannot run destructors, so it removes its own copy of the directory first.
  EXPECT_DEATH(
      {
        std::filesystem::remove_all(dir.path());
        store->MarkFlushed();
      },
      "changed after AddDirtyTo");
  std::unique_ptr<RocksDbNodeStore> never_batched = OpenStore(db, 16);
  EXPECT_DEATH(
      {
        std::filesystem::remove_all(dir.path());
        never_batched->MarkFlushed();
      },
      "without AddDirtyTo");
}

TEST(RocksDbNodeStore, EveryNodeShapeRoundTripsThroughDisk) {
  TempDir dir;
  Db db(dir.path());
  Rng rng(11);
  std::vector<std::pair<NodeRef, Node>> nodes;

  Node leaf;
  leaf.value = MergeValue::FromValue(rng.NextBytes32());
  nodes.push_back({NodeRef{0, rng.NextBytes32()}, leaf});

  Node opaque;
  opaque.kind = Node::Kind::kOpaque;
  opaque.value = MergeValue::MergeWithZero(rng.NextBytes32(), rng.NextBytes32(), 200);
  nodes.push_back({NodeRef{37, rng.NextBytes32()}, opaque});

  Node plain_opaque;
  plain_opaque.kind = Node::Kind::kOpaque;
  plain_opaque.value = MergeValue::FromValue(rng.NextBytes32());
  nodes.push_back({NodeRef{256, Bytes32()}, plain_opaque});

  // Children lifted both ways; a plain lifted child with a hash equal to its value (left out of
  // the encoding) and one with a different hash (kept).
  for (bool odd_hash : {false, true}) {
    Node branch;
    branch.kind = Node::Kind::kBranch;
    branch.value = MergeValue::FromValue(rng.NextBytes32());
    branch.child[0] = NodeRef{0, rng.NextBytes32()};
    branch.child[1] = NodeRef{256, rng.NextBytes32()};
    branch.child_lifted[0] = MergeValue::MergeWithZero(rng.NextBytes32(), rng.NextBytes32(), 3);
    branch.child_hash[0] = rng.NextBytes32();
    branch.child_lifted[1] = MergeValue::FromValue(rng.NextBytes32());
    branch.child_hash[1] = odd_hash ? rng.NextBytes32() : branch.child_lifted[1].value;
    nodes.push_back({NodeRef{static_cast<uint16_t>(odd_hash ? 200 : 100), rng.NextBytes32()},
                     branch});
  }

  {
    std::unique_ptr<RocksDbNodeStore> store = OpenStore(db, 16);
    for (const auto& [ref, node] : nodes) ASSERT_TRUE(store->Put(ref, node).ok());
    ASSERT_NO_FATAL_FAILURE(Flush(db, *store));
    for (const auto& [ref, node] : nodes) {
      absl::StatusOr<Node> got = store->Get(ref);  // from the cache MarkFlushed filled
      ASSERT_TRUE(got.ok()) << got.status();
      ExpectSameNode(*got, node);
    }
    EXPECT_EQ(store->cache_misses(), 0u);
  }
  std::unique_ptr<RocksDbNodeStore> cold = OpenStore(db, 0);
  for (const auto& [ref, node] : nodes) {
    absl::StatusOr<Node> got = cold->Get(ref);
    ASSERT_TRUE(got.ok()) << got.status();
    ExpectSameNode(*got, node);
  }
  EXPECT_EQ(cold->cache_misses(), nodes.size());
  EXPECT_EQ(cold->cached_count(), 0u);
}

TEST(RocksDbNodeStore, ReopenSeesTheLastFlushOnly) {
  for (uint64_t seed : testing::TestSeeds({21, 22})) {
    SCOPED_TRACE(testing::SeedBanner(seed));
    Rng rng(seed);
    TempDir dir;
    std::vector<Bytes32> keys;
    std::map<size_t, Bytes32> flushed_values;  // index in `keys` -> value at the flush
    Bytes32 flushed_root;
    Bytes32 unflushed_root;
    {
      Db db(dir.path());
      std::unique_ptr<RocksDbNodeStore> store = OpenStore(db, 64);
      Tree tree = OpenTree(store.get());
      for (int i = 0; i < 1500; ++i) ASSERT_NO_FATAL_FAILURE(RandomUpdate(rng, keys, {&tree}));
      ASSERT_NO_FATAL_FAILURE(Flush(db, *store));
      flushed_root = tree.root();
      for (size_t i = 0; i < keys.size(); ++i) flushed_values[i] = *tree.Get(keys[i]);
      for (int i = 0; i < 500; ++i) ASSERT_NO_FATAL_FAILURE(RandomUpdate(rng, keys, {&tree}));
      unflushed_root = tree.root();
      EXPECT_GT(store->dirty_count(), 0u);
    }
    ASSERT_NE(flushed_root, unflushed_root);

    Db db(dir.path());
    std::unique_ptr<RocksDbNodeStore> store = OpenStore(db, 64);
    Tree tree = OpenTree(store.get());
    EXPECT_EQ(tree.root(), flushed_root);
    for (size_t i = 0; i < keys.size(); ++i) {
      absl::StatusOr<Bytes32> got = tree.Get(keys[i]);
      ASSERT_TRUE(got.ok()) << got.status();
      auto it = flushed_values.find(i);
      // Keys first written after the flush are absent (unless they repeat an earlier key).
      if (it != flushed_values.end()) {
        EXPECT_EQ(*got, it->second) << i;
      } else if (std::find(keys.begin(), keys.begin() + flushed_values.size(), keys[i]) ==
                 keys.begin() + flushed_values.size()) {
        EXPECT_TRUE(got->IsZero()) << i;
      }
    }
    // The reopened tree is a working tree: it matches a memory tree holding the same leaves.
    smt::MemoryNodeStore memory;
    Tree reference = OpenTree(&memory);
    for (const auto& [i, value] : flushed_values) ASSERT_TRUE(reference.Update(keys[i], value).ok());
    ASSERT_EQ(reference.root(), flushed_root);
    for (int i = 0; i < 300; ++i) {
      ASSERT_NO_FATAL_FAILURE(RandomUpdate(rng, keys, {&tree, &reference}));
      ASSERT_EQ(tree.root(), reference.root());
    }
  }
}

TEST(RocksDbNodeStore, DiscardDirtyRollsBackToTheFlushedTree) {
  for (uint64_t seed : testing::TestSeeds({31, 32})) {
    SCOPED_TRACE(testing::SeedBanner(seed));
    Rng rng(seed);
    TempDir dir;
    Db db(dir.path());
    std::unique_ptr<RocksDbNodeStore> store = OpenStore(db, 16);
    smt::MemoryNodeStore memory;
    Tree tree = OpenTree(store.get());
    Tree reference = OpenTree(&memory);
    std::vector<Bytes32> keys;
    for (int i = 0; i < 1000; ++i) {
      ASSERT_NO_FATAL_FAILURE(RandomUpdate(rng, keys, {&tree, &reference}));
      if (rng.OneIn(200)) {
        ASSERT_NO_FATAL_FAILURE(Flush(db, *store));
      }
    }
    ASSERT_NO_FATAL_FAILURE(Flush(db, *store));
    const Bytes32 flushed_root = tree.root();

    // Changes to the store only, then thrown away; a batch filled and never written is dropped.
    std::vector<Bytes32> scratch_keys = keys;
    for (int i = 0; i < 400; ++i) ASSERT_NO_FATAL_FAILURE(RandomUpdate(rng, scratch_keys, {&tree}));
    ASSERT_NE(tree.root(), flushed_root);
    ASSERT_GT(store->dirty_count(), 0u);
    rocksdb::WriteBatch abandoned;
    ASSERT_TRUE(store->AddDirtyTo(&abandoned).ok());
    store->DiscardDirty();
    EXPECT_EQ(store->dirty_count(), 0u);
    EXPECT_FALSE(store->top_dirty());

    tree = OpenTree(store.get());
    ASSERT_EQ(tree.root(), flushed_root);
    ASSERT_EQ(tree.root(), reference.root());
    for (const Bytes32& key : scratch_keys) {
      absl::StatusOr<Bytes32> got = tree.Get(key);
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_EQ(*got, *reference.Get(key));
    }
    // And it carries on from there, through more flushes; a fresh store reads the same tree.
    for (int i = 0; i < 500; ++i) {
      ASSERT_NO_FATAL_FAILURE(RandomUpdate(rng, keys, {&tree, &reference}));
      ASSERT_EQ(tree.root(), reference.root());
      if (rng.OneIn(100)) {
        ASSERT_NO_FATAL_FAILURE(Flush(db, *store));
      }
    }
    ASSERT_NO_FATAL_FAILURE(Flush(db, *store));
    std::unique_ptr<RocksDbNodeStore> fresh = OpenStore(db, 16);
    EXPECT_EQ(OpenTree(fresh.get()).root(), reference.root());
  }
}

TEST(RocksDbNodeStore, UndecodableBytesAreDataLoss) {
  TempDir dir;
  Db db(dir.path());
  Rng rng(41);
  NodeRef top;
  {
    std::unique_ptr<RocksDbNodeStore> store = OpenStore(db, 16);
    Tree tree = OpenTree(store.get());
    std::vector<Bytes32> keys;
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(tree.Update(NextKey(rng, keys), rng.NextBytes32()).ok());
    ASSERT_NO_FATAL_FAILURE(Flush(db, *store));
    top = **store->GetTop();
  }
  ASSERT_GT(top.level, 0);  // a branch
  std::string good;
  ASSERT_TRUE(db.db()->Get(rocksdb::ReadOptions(), db.cf(), NodeKeyOf(top), &good).ok());
  ASSERT_EQ(static_cast<uint8_t>(good[0]), 1);  // a branch with a plain value: child 0 at 33

  std::vector<std::string> bad;
  bad.push_back("");
  bad.push_back(good.substr(0, good.size() - 1));
  bad.push_back(good + '\0');
  bad.push_back(std::string(1, '\x03') + good.substr(1));  // kind 3
  bad.push_back(std::string(1, '\x09') + good.substr(1));  // unknown header bit
  std::string level_257 = good;
  level_257[34] = '\x01';
  level_257[35] = '\x01';
  bad.push_back(level_257);
  std::string child_flags = good;
  child_flags[33] = '\x04';
  bad.push_back(child_flags);
  std::string mwz_without_hash = good;
  mwz_without_hash[33] = '\x01';  // lifted MergeWithZero, hash not stored
  bad.push_back(mwz_without_hash);
  bad.push_back(std::string(1, '\x00') + std::string(31, 'x'));  // a leaf one byte short

  for (size_t i = 0; i < bad.size(); ++i) {
    SCOPED_TRACE(i);
    ASSERT_TRUE(db.db()->Put(rocksdb::WriteOptions(), db.cf(), NodeKeyOf(top), bad[i]).ok());
    std::unique_ptr<RocksDbNodeStore> store = OpenStore(db, 16);
    absl::StatusOr<Node> got = store->Get(top);
    EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss) << got.status();
    EXPECT_EQ(store->cached_count(), 0u);
    absl::StatusOr<Tree> tree = Tree::Open(store.get());
    EXPECT_EQ(tree.status().code(), absl::StatusCode::kDataLoss) << tree.status();
  }

  // A bad top record fails Open.
  for (const std::string& top_value :
       {std::string(), std::string("\x02"), std::string("\x01\x00", 2),
        std::string(1, '\x01') + NodeKeyOf(NodeRef{257, Bytes32()}), std::string("\x00\x00", 2)}) {
    ASSERT_TRUE(db.db()->Put(rocksdb::WriteOptions(), db.cf(), "T", top_value).ok());
    absl::StatusOr<std::unique_ptr<RocksDbNodeStore>> store =
        RocksDbNodeStore::Open(db.db(), db.cf(), {});
    EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss) << store.status();
  }
}

}  // namespace
}  // namespace pom::matcher
