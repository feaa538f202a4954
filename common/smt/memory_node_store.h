// NodeStore in memory. Nodes live in slots of two arenas: plain leaves as bare key and value
// (64 bytes, one cache line; half the nodes need nothing else), every other node whole. A hint
// is a slot number, so the tree reaches a child it has seen in one memory access; the hash
// indexes (key or ref to slot) are only used without a valid hint and change only when a node
// is created or deleted, not when one is rewritten. Freed slots are reused; a stale hint then
// fails its check (the slot's key or ref differs) and the lookup goes through the index.
// Slots live in chunks that never move, and a delete leaves a slot's node in place until a put
// reuses it: what Peek's contract needs.
// Thread-safety: not thread-safe; one owner.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "common/smt/node_store.h"

namespace pom::smt {

class MemoryNodeStore final : public NodeStore {
 public:
  absl::StatusOr<Node> Get(const NodeRef& ref) const override;
  absl::Status Put(const NodeRef& ref, const Node& node) override;
  absl::Status Delete(const NodeRef& ref) override;
  absl::StatusOr<Node> GetHinted(const NodeRef& ref, NodeHint* hint) const override;
  absl::Status PutHinted(const NodeRef& ref, const Node& node, NodeHint* hint) override;
  absl::Status DeleteHinted(const NodeRef& ref, NodeHint hint) override;
  void Prefetch(NodeHint hint) const override;
  const Node* Peek(const NodeRef& ref, NodeHint hint) const override;
  Node* Edit(const NodeRef& ref, NodeHint hint) override;
  absl::StatusOr<std::optional<NodeRef>> GetTop() const override;
  absl::Status SetTop(const std::optional<NodeRef>& top) override;

  size_t leaf_count() const { return leaf_index_.size(); }
  size_t inner_count() const { return inner_index_.size(); }

 private:
  // A slot number with this bit set is in the inner arena, else in the leaf arena.
  static constexpr NodeHint kInnerBit = 0x80000000u;

  // A plain leaf: a leaf node at level 0 whose value is a non-zero Value. A free slot has a
  // zero value.
  // Slots are cache-line aligned: a leaf then takes one line, an inner node six (unaligned,
  // most would straddle one more).
  struct alignas(64) LeafSlot {
    Bytes32 key;
    Bytes32 value;
  };
  static_assert(sizeof(LeafSlot) == 64);
  // Any other node. A free slot has level kFreeLevel (real levels are 0..256).
  static constexpr uint16_t kFreeLevel = 0xffff;
  struct alignas(64) InnerSlot {
    NodeRef ref;
    Node node;
  };
  static_assert(sizeof(InnerSlot) == 384);

  // Slots in chunks that never move; freed numbers are reused first. Chunks grow from 64 slots,
  // doubling up to kMaxChunk, then stay at kMaxChunk: a small store costs little to create, and
  // a large one never stalls on allocating (and zeroing) one huge chunk.
  template <typename Slot>
  class Arena {
   public:
    Slot* Find(uint32_t i) { return i < size_ ? At(i) : nullptr; }
    const Slot* Find(uint32_t i) const { return i < size_ ? At(i) : nullptr; }
    uint32_t Allocate();
    void Free(uint32_t i) { free_.push_back(i); }

   private:
    static constexpr int kFirstBits = 6;
    static constexpr int kDoublings = 8;  // chunks of 64, 128, ..., 16384 slots
    static constexpr uint32_t kMaxChunk = uint32_t{64} << kDoublings;
    static constexpr uint32_t kGrowing = (uint32_t{2} * kMaxChunk - 1) - 63;  // slots in them
    Slot* At(uint32_t i) const {
      if (i < kGrowing) {
        const uint32_t q = (i >> kFirstBits) + 1;
        const int c = std::bit_width(q) - 1;
        return &chunks_[c][i - (((uint32_t{1} << c) - 1) << kFirstBits)];
      }
      const uint32_t j = i - kGrowing;
      return &chunks_[kDoublings + 1 + j / kMaxChunk][j % kMaxChunk];
    }
    std::vector<std::unique_ptr<Slot[]>> chunks_;
    std::vector<uint32_t> free_;
    uint32_t size_ = 0;
    uint32_t capacity_ = 0;
  };

  // Where `ref` is kept: `hint` if it checks out, else the index's answer; kNoHint if absent.
  NodeHint Locate(const NodeRef& ref, NodeHint hint) const;
  void Release(const NodeRef& ref, NodeHint at);

  Arena<LeafSlot> leaves_;
  Arena<InnerSlot> inner_;
  absl::flat_hash_map<Bytes32, uint32_t> leaf_index_;
  absl::flat_hash_map<NodeRef, uint32_t> inner_index_;
  std::optional<NodeRef> top_;
};

}  // namespace pom::smt
