// A NodeStore for the sparse Merkle tree kept in one RocksDB column family, with write-back:
// Put, Delete and SetTop only change an in-memory dirty overlay; nothing reaches RocksDB until
// the owner appends the overlay to a WriteBatch of its own (AddDirtyTo), writes that batch, and
// says so (MarkFlushed). The owner can therefore persist the tree atomically with its other
// records (a snapshot marker), and the tree on disk is always exactly at a point it chose;
// DiscardDirty rolls the store back to that point.
//
// Reads look in the overlay, then in a cache of clean nodes (CLOCK eviction, bounded by a node
// count), then in RocksDB. The cache only ever holds what is on disk, so a rollback keeps it.
//
// Layout in the column family (which holds nothing else):
//   node key: level (2 bytes, big-endian) || path (32 bytes)     sorted by level, then path
//   top key:  the single byte 'T' (a node key is 34 bytes, so they never collide)
//   node value: see EncodeNode in the .cc; a leaf costs 33 bytes.
// Only the fields the tree uses are kept: kind and value for every node, and the children for
// a branch. Bytes that do not decode are reported as DataLoss, never trusted.
//
// Usage:
//   POM_ASSIGN_OR_RETURN(auto store, RocksDbNodeStore::Open(db, cf, {}));
//   POM_ASSIGN_OR_RETURN(auto tree, smt::SparseMerkleTree<Sha256Hasher>::Open(store.get()));
//   ... tree.Update(...) ...
//   rocksdb::WriteBatch batch;
//   POM_RETURN_IF_ERROR(store->AddDirtyTo(&batch));
//   batch.Put(marker_key, marker);             // the owner's own records, same batch
//   if (db->Write(write_options, &batch).ok()) store->MarkFlushed();
//
// Thread-safety: not thread-safe, including const methods (Get fills the cache). One owner.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/smt/node_store.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
class WriteBatch;
}  // namespace rocksdb

namespace pom::matcher {

struct RocksDbNodeStoreOptions {
  // Capacity of the clean-node cache, in nodes (0: no cache). A cached node costs about 400
  // bytes whatever its kind.
  size_t cache_nodes = size_t{1} << 20;
};

class RocksDbNodeStore final : public smt::NodeStore {
 public:
  // Opens the store over `cf` of `db` and reads the persisted top (none: the tree is empty).
  // `db` and `cf` are not owned and must outlive the store. REQUIRES: both non-null; nothing but
  // this store's batches writes to `cf`.
  // Errors: DataLoss if the stored top does not decode; Internal for other RocksDB errors.
  static absl::StatusOr<std::unique_ptr<RocksDbNodeStore>> Open(rocksdb::DB* db,
                                                                rocksdb::ColumnFamilyHandle* cf,
                                                                RocksDbNodeStoreOptions options);

  RocksDbNodeStore(const RocksDbNodeStore&) = delete;
  RocksDbNodeStore& operator=(const RocksDbNodeStore&) = delete;

  // smt::NodeStore. Get errors: NotFound if absent (or deleted in the overlay); DataLoss if the
  // stored bytes do not decode or RocksDB reports corruption; Internal for other RocksDB errors.
  // Put, Delete and SetTop never fail: they only change the overlay. REQUIRES: ref.level <= 256.
  absl::StatusOr<smt::Node> Get(const smt::NodeRef& ref) const override;
  absl::Status Put(const smt::NodeRef& ref, const smt::Node& node) override;
  absl::Status Delete(const smt::NodeRef& ref) override;
  absl::StatusOr<std::optional<smt::NodeRef>> GetTop() const override;
  absl::Status SetTop(const std::optional<smt::NodeRef>& top) override;

  // Appends every dirty change (node puts, node deletes, the top) to `batch`, in key order; the
  // overlay is unchanged. Call MarkFlushed once `batch` is written, or DiscardDirty to give up.
  // REQUIRES: `batch` non-null.
  // Errors: Internal if the batch refuses an entry (the batch is then partly filled: drop it).
  absl::Status AddDirtyTo(rocksdb::WriteBatch* batch);

  // Records that the batch last filled by AddDirtyTo was written: the dirty nodes become clean
  // (cached) and the overlay empties. REQUIRES: AddDirtyTo was called and the store was not
  // changed since (else the overlay holds changes the batch lacks; checked).
  void MarkFlushed();

  // Drops every change since the last MarkFlushed (or Open): the store reads as the disk does.
  // A tree over this store must then be reopened (SparseMerkleTree::Open). The clean cache is
  // kept: it only ever holds what is on disk. REQUIRES: no batch from AddDirtyTo was written
  // (else the disk is ahead of what the store believes).
  void DiscardDirty();

  // Dirty nodes (puts and deletes) waiting to be flushed; a dirty top is not counted.
  size_t dirty_count() const { return dirty_.size(); }
  bool top_dirty() const { return dirty_top_.has_value(); }
  // Clean nodes in the cache.
  size_t cached_count() const { return cache_index_.size(); }
  // Counters since Open: reads served by the cache, and reads that went to RocksDB (whether
  // or not they found the node). Reads served by the overlay count as neither.
  uint64_t cache_hits() const { return cache_hits_; }
  uint64_t cache_misses() const { return cache_misses_; }

 private:
  // A CLOCK slot: `referenced` gives the node a second chance when the hand passes.
  struct CacheSlot {
    smt::NodeRef ref;
    smt::Node node;
    bool referenced = false;
    bool used = false;
  };

  RocksDbNodeStore(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
                   RocksDbNodeStoreOptions options);

  const smt::Node* CacheFind(const smt::NodeRef& ref) const;
  void CacheInsert(const smt::NodeRef& ref, smt::Node node) const;
  void CacheErase(const smt::NodeRef& ref) const;

  rocksdb::DB* const db_;
  rocksdb::ColumnFamilyHandle* const cf_;
  const RocksDbNodeStoreOptions options_;

  // The overlay: nullopt is a tombstone.
  absl::flat_hash_map<smt::NodeRef, std::optional<smt::Node>> dirty_;
  std::optional<std::optional<smt::NodeRef>> dirty_top_;  // set: the top changed
  std::optional<smt::NodeRef> clean_top_;                 // the top on disk

  // Guards MarkFlushed: changes counted since Open, and the count when AddDirtyTo last ran.
  uint64_t changes_ = 0;
  std::optional<uint64_t> batched_at_;

  // The clean-node cache. Mutable: a const Get fills it.
  mutable std::vector<CacheSlot> cache_slots_;
  mutable absl::flat_hash_map<smt::NodeRef, uint32_t> cache_index_;
  mutable size_t cache_hand_ = 0;
  mutable uint64_t cache_hits_ = 0;
  mutable uint64_t cache_misses_ = 0;
};

}  // namespace pom::matcher
