// Where the tree keeps its nodes. The tree is compressed: only leaves and forks (branches whose
// two sides are both non-empty) are stored; the empty levels between them cost neither a node
// nor a hash. A NodeRef names a node by its level and path:
//   - a leaf sits at level 0 and its path is its full key;
//   - a branch forking at height h sits at level h + 1; its path is the shared key prefix,
//     with bits 0..h clear;
//   - an opaque node (a pruned subtree known only by its value, imported from a multiproof)
//     sits at the height at which the proof gave it, bits below that level clear.
// Hints: a store may say where it keeps a node (an opaque slot number, NodeHint). The tree keeps
// the hint of each branch's children in the branch and passes it back when it reads, rewrites
// or deletes that child, so a store that keeps nodes in slots can skip its index lookup. A hint
// never changes a result: a stale or wrong one costs only the lookup it would have saved.
// Thread-safety: implementations say their own; the tree calls a store from one thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/bytes.h"
#include "common/smt/merge_value.h"

namespace pom::smt {

struct NodeRef {
  uint16_t level = 0;  // 0..256
  Bytes32 path;

  friend bool operator==(const NodeRef&, const NodeRef&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const NodeRef& r) {
    return H::combine(std::move(h), r.level, r.path);
  }
};

using NodeHint = uint32_t;
inline constexpr NodeHint kNoHint = 0xffffffffu;

struct Node {
  enum class Kind : uint8_t { kLeaf = 0, kBranch = 1, kOpaque = 2 };

  Kind kind = Kind::kLeaf;
  // The node's value at its own level: Value(leaf value) for a leaf, Value(merge hash) for a
  // branch, whatever the proof gave for an opaque node.
  MergeValue value;
  // Branch only: the children (index 0 = left, bit clear), each lifted to the fork height, and
  // the hash of each lifted child (cached so an update rehashes only the side that changed).
  std::array<NodeRef, 2> child{};
  std::array<MergeValue, 2> child_lifted{};
  std::array<Bytes32, 2> child_hash{};
  // Where the store said it keeps each child (not part of the node's content: stores that do
  // not use hints neither keep nor compare them).
  std::array<NodeHint, 2> child_hint{kNoHint, kNoHint};
};

class NodeStore {
 public:
  virtual ~NodeStore() = default;

  // Errors: NotFound if no node is stored under `ref`; others from the backing storage.
  virtual absl::StatusOr<Node> Get(const NodeRef& ref) const = 0;
  virtual absl::Status Put(const NodeRef& ref, const Node& node) = 0;
  // Deleting an absent node is not an error.
  virtual absl::Status Delete(const NodeRef& ref) = 0;

  // The same with a hint: `*hint` in is where the node may be (kNoHint: unknown); out, where
  // the store keeps it now (kNoHint: the store does not say). The defaults ignore hints.
  virtual absl::StatusOr<Node> GetHinted(const NodeRef& ref, NodeHint* hint) const {
    *hint = kNoHint;
    return Get(ref);
  }
  virtual absl::Status PutHinted(const NodeRef& ref, const Node& node, NodeHint* hint) {
    *hint = kNoHint;
    return Put(ref, node);
  }
  virtual absl::Status DeleteHinted(const NodeRef& ref, NodeHint /*hint*/) { return Delete(ref); }

  // For speed only, optional. Prefetch starts moving the node kept at `hint` into the CPU cache.
  // Peek returns the branch or opaque node at `ref` if the store keeps it in memory and `hint`
  // names it, else null (always null for stores that keep no such nodes). The pointer stays
  // valid, and the node unchanged, while `ref` is neither put nor deleted, and after a delete of
  // `ref` until the next put of any node. Neither changes the store.
  virtual void Prefetch(NodeHint /*hint*/) const {}
  virtual const Node* Peek(const NodeRef& /*ref*/, NodeHint /*hint*/) const { return nullptr; }
  // Edit is Peek for a caller that changes the node: what it writes through the pointer is the
  // node's new content, as if put (same ref; the hint stays valid). Null where Peek is null.
  virtual Node* Edit(const NodeRef& /*ref*/, NodeHint /*hint*/) { return nullptr; }
  // The topmost node (nullopt: the tree is empty).
  virtual absl::StatusOr<std::optional<NodeRef>> GetTop() const = 0;
  virtual absl::Status SetTop(const std::optional<NodeRef>& top) = 0;
};

}  // namespace pom::smt
