#include "matcher/storage/rocksdb_node_store.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/byte_io.h"
#include "common/check.h"
#include "common/status_macros.h"
#include "rocksdb/db.h"
#include "rocksdb/slice.h"
#include "rocksdb/write_batch.h"

namespace pom::matcher {
namespace {

using smt::MergeValue;
using smt::Node;
using smt::NodeRef;

constexpr uint16_t kMaxLevel = 256;
constexpr size_t kNodeKeySize = 2 + Bytes32::kSize;
constexpr std::string_view kTopKey = "T";

// Node value layout (all fixed-width; no lengths, since every size follows from the flags):
//   header: bits 0-1 Node::Kind, bit 2 set if the value is MergeWithZero; others zero
//   value:  MergeValue: value (32) [zero_count (1), zero_bits (32) if MergeWithZero]
//   branch only, for each child (left, then right):
//     flags: bit 0 set if child_lifted is MergeWithZero, bit 1 set if child_hash follows;
//            others zero. child_hash is left out when it equals a plain child_lifted value
//            (HashOf a Value is the value itself).
//     level (2, big-endian), path (32), child_lifted as a MergeValue, [child_hash (32)]
constexpr uint8_t kKindMask = 0x03;
constexpr uint8_t kValueMergeWithZero = 0x04;
constexpr uint8_t kChildLiftedMergeWithZero = 0x01;
constexpr uint8_t kChildHashStored = 0x02;

// Top value: kTopEmpty, or kTopPresent followed by a node key.
constexpr uint8_t kTopEmpty = 0x00;
constexpr uint8_t kTopPresent = 0x01;

using NodeKey = std::array<char, kNodeKeySize>;

NodeKey MakeNodeKey(const NodeRef& ref) {
  NodeKey key;
  key[0] = static_cast<char>(ref.level >> 8);
  key[1] = static_cast<char>(ref.level & 0xff);
  std::memcpy(key.data() + 2, ref.path.data(), Bytes32::kSize);
  return key;
}

rocksdb::Slice AsSlice(const NodeKey& key) { return rocksdb::Slice(key.data(), key.size()); }

void PutLevel(ByteWriter& w, uint16_t level) {
  w.U8(static_cast<uint8_t>(level >> 8));
  w.U8(static_cast<uint8_t>(level & 0xff));
}

bool ReadLevel(ByteReader& r, uint16_t* level) {
  uint8_t hi = 0, lo = 0;
  if (!r.U8(&hi) || !r.U8(&lo)) return false;
  *level = static_cast<uint16_t>((hi << 8) | lo);
  return *level <= kMaxLevel;
}

bool ReadBytes32(ByteReader& r, Bytes32* out) { return r.Raw(out->bytes); }

void PutMergeValue(ByteWriter& w, const MergeValue& m) {
  w.Raw(m.value.span());
  if (m.kind == MergeValue::Kind::kMergeWithZero) {
    w.U8(m.zero_count);
    w.Raw(m.zero_bits.span());
  }
}

bool ReadMergeValue(ByteReader& r, bool merge_with_zero, MergeValue* m) {
  if (!ReadBytes32(r, &m->value)) return false;
  if (!merge_with_zero) return true;
  m->kind = MergeValue::Kind::kMergeWithZero;
  return r.U8(&m->zero_count) && ReadBytes32(r, &m->zero_bits);
}

std::string EncodeNode(const Node& node) {
  ByteWriter w;
  uint8_t header = static_cast<uint8_t>(node.kind);
  if (node.value.kind == MergeValue::Kind::kMergeWithZero) header |= kValueMergeWithZero;
  w.U8(header);
  PutMergeValue(w, node.value);
  if (node.kind == Node::Kind::kBranch) {
    for (int side = 0; side < 2; ++side) {
      const MergeValue& lifted = node.child_lifted[side];
      const bool lifted_mwz = lifted.kind == MergeValue::Kind::kMergeWithZero;
      const bool hash_stored = lifted_mwz || node.child_hash[side] != lifted.value;
      w.U8(static_cast<uint8_t>((lifted_mwz ? kChildLiftedMergeWithZero : 0) |
                                (hash_stored ? kChildHashStored : 0)));
      PutLevel(w, node.child[side].level);
      w.Raw(node.child[side].path.span());
      PutMergeValue(w, lifted);
      if (hash_stored) w.Raw(node.child_hash[side].span());
    }
  }
  return w.Take();
}

// Errors: DataLoss saying what is wrong; the caller names the node.
absl::StatusOr<Node> DecodeNode(std::string_view in) {
  const auto bad = [](absl::string_view why) {
    return absl::DataLossError(absl::StrCat("undecodable node value: ", why));
  };
  ByteReader r(in);
  Node node;
  uint8_t header = 0;
  if (!r.U8(&header)) return bad("empty");
  if ((header & ~(kKindMask | kValueMergeWithZero)) != 0) return bad("unknown header bits");
  const uint8_t kind = header & kKindMask;
  if (kind > static_cast<uint8_t>(Node::Kind::kOpaque)) return bad("unknown node kind");
  node.kind = static_cast<Node::Kind>(kind);
  if (!ReadMergeValue(r, (header & kValueMergeWithZero) != 0, &node.value)) {
    return bad("truncated value");
  }
  if (node.kind == Node::Kind::kBranch) {
    for (int side = 0; side < 2; ++side) {
      uint8_t flags = 0;
      if (!r.U8(&flags)) return bad("truncated child");
      if ((flags & ~(kChildLiftedMergeWithZero | kChildHashStored)) != 0) {
        return bad("unknown child flags");
      }
      if (!ReadLevel(r, &node.child[side].level)) return bad("bad child level");
      if (!ReadBytes32(r, &node.child[side].path) ||
          !ReadMergeValue(r, (flags & kChildLiftedMergeWithZero) != 0,
                          &node.child_lifted[side])) {
        return bad("truncated child");
      }
      if ((flags & kChildHashStored) != 0) {
        if (!ReadBytes32(r, &node.child_hash[side])) return bad("truncated child hash");
      } else {
        if ((flags & kChildLiftedMergeWithZero) != 0) return bad("child hash missing");
        node.child_hash[side] = node.child_lifted[side].value;
      }
    }
  }
  if (!r.done()) return bad("trailing bytes");
  return node;
}

std::string EncodeTop(const std::optional<NodeRef>& top) {
  if (!top) return std::string(1, static_cast<char>(kTopEmpty));
  const NodeKey key = MakeNodeKey(*top);
  std::string out(1, static_cast<char>(kTopPresent));
  out.append(key.data(), key.size());
  return out;
}

absl::StatusOr<std::optional<NodeRef>> DecodeTop(std::string_view in) {
  const auto bad = [](absl::string_view why) {
    return absl::DataLossError(absl::StrCat("rocksdb node store: undecodable top: ", why));
  };
  ByteReader r(in);
  uint8_t tag = 0;
  if (!r.U8(&tag)) return bad("empty");
  std::optional<NodeRef> top;
  if (tag == kTopPresent) {
    NodeRef ref;
    if (!ReadLevel(r, &ref.level)) return bad("bad level");
    if (!ReadBytes32(r, &ref.path)) return bad("truncated path");
    top = ref;
  } else if (tag != kTopEmpty) {
    return bad("unknown tag");
  }
  if (!r.done()) return bad("trailing bytes");
  return top;
}

std::string Describe(const NodeRef& ref) {
  return absl::StrCat("tree node at level ", ref.level, " path ", ToHex(ref.path));
}

absl::Status FromRocks(const rocksdb::Status& s, absl::string_view context) {
  std::string message = absl::StrCat("rocksdb node store: ", context, ": ", s.ToString());
  if (s.IsCorruption()) return absl::DataLossError(std::move(message));
  return absl::InternalError(std::move(message));
}

absl::Status Missing(const NodeRef& ref) {
  return absl::NotFoundError(absl::StrCat(Describe(ref), " not found"));
}

const rocksdb::ReadOptions& DefaultReadOptions() {
  static const rocksdb::ReadOptions options;
  return options;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RocksDbNodeStore>> RocksDbNodeStore::Open(
    rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, RocksDbNodeStoreOptions options) {
  POM_CHECK(db != nullptr);
  POM_CHECK(cf != nullptr);
  POM_CHECK(options.cache_nodes <= std::numeric_limits<uint32_t>::max());
  std::unique_ptr<RocksDbNodeStore> store(new RocksDbNodeStore(db, cf, options));
  std::string value;
  const rocksdb::Status s = db->Get(DefaultReadOptions(), cf, rocksdb::Slice(kTopKey), &value);
  if (s.IsNotFound()) return store;  // never flushed: the empty tree
  if (!s.ok()) return FromRocks(s, "reading the top");
  POM_ASSIGN_OR_RETURN(store->clean_top_, DecodeTop(value));
  return store;
}

RocksDbNodeStore::RocksDbNodeStore(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
                                   RocksDbNodeStoreOptions options)
    : db_(db), cf_(cf), options_(options) {}

absl::StatusOr<Node> RocksDbNodeStore::Get(const NodeRef& ref) const {
  if (auto it = dirty_.find(ref); it != dirty_.end()) {
    if (!it->second) return Missing(ref);
    return *it->second;
  }
  if (const Node* cached = CacheFind(ref)) {
    ++cache_hits_;
    return *cached;
  }
  ++cache_misses_;
  const NodeKey key = MakeNodeKey(ref);
  rocksdb::PinnableSlice value;
  const rocksdb::Status s = db_->Get(DefaultReadOptions(), cf_, AsSlice(key), &value);
  if (s.IsNotFound()) return Missing(ref);
  if (!s.ok()) return FromRocks(s, absl::StrCat("reading ", Describe(ref)));
  absl::StatusOr<Node> node = DecodeNode(value.ToStringView());
  if (!node.ok()) {
    return absl::DataLossError(absl::StrCat(Describe(ref), ": ", node.status().message()));
  }
  CacheInsert(ref, *node);
  return node;
}

absl::Status RocksDbNodeStore::Put(const NodeRef& ref, const Node& node) {
  POM_CHECK(ref.level <= kMaxLevel);
  dirty_.insert_or_assign(ref, node);
  ++changes_;
  return absl::OkStatus();
}

absl::Status RocksDbNodeStore::Delete(const NodeRef& ref) {
  POM_CHECK(ref.level <= kMaxLevel);
  // Always a tombstone: without a read we cannot tell whether the node is on disk.
  dirty_.insert_or_assign(ref, std::nullopt);
  ++changes_;
  return absl::OkStatus();
}

absl::StatusOr<std::optional<NodeRef>> RocksDbNodeStore::GetTop() const {
  return dirty_top_ ? *dirty_top_ : clean_top_;
}

absl::Status RocksDbNodeStore::SetTop(const std::optional<NodeRef>& top) {
  POM_CHECK(!top || top->level <= kMaxLevel);
  // A top equal to the one on disk is not a change (the tree sets the top on every Open).
  if (top == clean_top_) {
    dirty_top_.reset();
  } else {
    dirty_top_ = top;
  }
  ++changes_;
  return absl::OkStatus();
}

absl::Status RocksDbNodeStore::AddDirtyTo(rocksdb::WriteBatch* batch) {
  POM_CHECK(batch != nullptr);
  // Key order, so that a batch does not depend on the overlay's hash order.
  std::vector<const decltype(dirty_)::value_type*> entries;
  entries.reserve(dirty_.size());
  for (const auto& entry : dirty_) entries.push_back(&entry);
  std::sort(entries.begin(), entries.end(), [](const auto* a, const auto* b) {
    if (a->first.level != b->first.level) return a->first.level < b->first.level;
    return a->first.path.bytes < b->first.path.bytes;
  });
  for (const auto* entry : entries) {
    const NodeKey key = MakeNodeKey(entry->first);
    const rocksdb::Status s = entry->second
                                  ? batch->Put(cf_, AsSlice(key), EncodeNode(*entry->second))
                                  : batch->Delete(cf_, AsSlice(key));
    if (!s.ok()) return FromRocks(s, absl::StrCat("batching ", Describe(entry->first)));
  }
  if (dirty_top_) {
    const rocksdb::Status s = batch->Put(cf_, rocksdb::Slice(kTopKey), EncodeTop(*dirty_top_));
    if (!s.ok()) return FromRocks(s, "batching the top");
  }
  batched_at_ = changes_;
  return absl::OkStatus();
}

void RocksDbNodeStore::MarkFlushed() {
  POM_CHECK_MSG(batched_at_.has_value() && *batched_at_ == changes_,
                "MarkFlushed without AddDirtyTo, or the store changed after AddDirtyTo");
  for (auto& [ref, node] : dirty_) {
    if (node) {
      CacheInsert(ref, std::move(*node));
    } else {
      CacheErase(ref);
    }
  }
  dirty_.clear();
  if (dirty_top_) clean_top_ = *dirty_top_;
  dirty_top_.reset();
  batched_at_.reset();
}

void RocksDbNodeStore::DiscardDirty() {
  // The cache holds only what RocksDB holds (it is filled by reads and by MarkFlushed), so
  // nothing in it went stale.
  dirty_.clear();
  dirty_top_.reset();
  batched_at_.reset();
}

const Node* RocksDbNodeStore::CacheFind(const NodeRef& ref) const {
  auto it = cache_index_.find(ref);
  if (it == cache_index_.end()) return nullptr;
  CacheSlot& slot = cache_slots_[it->second];
  slot.referenced = true;
  return &slot.node;
}

void RocksDbNodeStore::CacheInsert(const NodeRef& ref, Node node) const {
  if (options_.cache_nodes == 0) return;
  if (auto it = cache_index_.find(ref); it != cache_index_.end()) {
    CacheSlot& slot = cache_slots_[it->second];
    slot.node = std::move(node);
    slot.referenced = true;
    return;
  }
  size_t index;
  if (cache_slots_.size() < options_.cache_nodes) {
    index = cache_slots_.size();
    cache_slots_.emplace_back();
  } else {
    // CLOCK: pass over recently used slots, clearing their bit; take the first other one.
    while (cache_slots_[cache_hand_].used && cache_slots_[cache_hand_].referenced) {
      cache_slots_[cache_hand_].referenced = false;
      cache_hand_ = (cache_hand_ + 1) % cache_slots_.size();
    }
    index = cache_hand_;
    cache_hand_ = (cache_hand_ + 1) % cache_slots_.size();
    if (cache_slots_[index].used) cache_index_.erase(cache_slots_[index].ref);
  }
  CacheSlot& slot = cache_slots_[index];
  slot.ref = ref;
  slot.node = std::move(node);
  slot.referenced = false;
  slot.used = true;
  cache_index_.emplace(ref, static_cast<uint32_t>(index));
}

void RocksDbNodeStore::CacheErase(const NodeRef& ref) const {
  auto it = cache_index_.find(ref);
  if (it == cache_index_.end()) return;
  CacheSlot& slot = cache_slots_[it->second];
  slot.used = false;
  slot.referenced = false;
  cache_index_.erase(it);
}

}  // namespace pom::matcher
