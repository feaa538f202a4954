// The sparse Merkle tree of docs/protocol.md "The tree": 256 levels, Fusotao-compatible merge
// rules, compressed so that only forks and leaves are stored and only non-empty levels cost a
// hash. The hasher is a template parameter (Sha256Hasher for pom's proofs, Blake2b256Hasher to
// reproduce Fusotao's roots).
//
// Usage:
//   smt::MemoryNodeStore store;
//   POM_ASSIGN_OR_RETURN(auto tree, smt::SparseMerkleTree<Sha256Hasher>::Open(&store));
//   POM_RETURN_IF_ERROR(tree.Update(key, value));     // a zero value deletes
//   POM_ASSIGN_OR_RETURN(auto proof, tree.Multiproof(keys));
//   smt::ComputeMultiproofRoot(hasher, proof, leaves) == tree.root()
//
// Each mutation records the branches it writes and plans their hashes; at its end the hashes
// are computed in waves (hash_waves.h) and the branches stored, children first. Children are
// reached through the store's hints (node_store.h).
//
// Errors: operations return the store's errors; DataLoss if a referenced node is missing;
// FailedPrecondition for keys inside a pruned (opaque) subtree. After any error from a
// mutation the tree and its store may be partly updated (a batch edits the branches it has
// walked in place): reopen the tree from a consistent store.
// Thread-safety: not thread-safe, including const methods (they share the hasher).
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/bytes.h"
#include "common/hash.h"
#include "common/smt/hash_waves.h"
#include "common/smt/merge_value.h"
#include "common/smt/multiproof.h"
#include "common/smt/node_store.h"

namespace pom::smt {

template <typename Hasher>
class SparseMerkleTree {
 public:
  // Opens the tree held by `store` (empty, or written by an earlier tree with the same hasher).
  // `store` is not owned and must outlive the tree.
  static absl::StatusOr<SparseMerkleTree> Open(NodeStore* store);

  SparseMerkleTree(SparseMerkleTree&&) = default;
  SparseMerkleTree& operator=(SparseMerkleTree&&) = default;

  // What the mutations so far have cost, summed: how many batches and leaves they applied (a
  // single Update counts as a batch of one), how many branches they rewrote or created and how
  // many hashes those took. Kept for benchmarks (pom-bench prove reports them per event).
  struct Work {
    uint64_t batches = 0;
    uint64_t leaves = 0;
    uint64_t branches = 0;
    uint64_t hashes = 0;
  };
  const Work& work() const { return work_; }

  // The root: all-zero for the empty tree.
  const Bytes32& root() const { return root_; }
  bool empty() const { return !top_.has_value(); }

  // The value at `key` (all-zero if absent).
  absl::StatusOr<Bytes32> Get(const Bytes32& key) const;

  // Sets `key` to `value`; an all-zero value deletes the key.
  absl::Status Update(const Bytes32& key, const Bytes32& value);

  // Sets every leaf's key to its value (zero deletes; a leaf may keep its current value) in one
  // pass over the union of their paths: each node on it is read once, each changed fork is
  // rehashed and stored once, and the root is hashed once. If `multiproof` is non-null it
  // receives the compiled multiproof of all the leaves' keys, collected on the same pass: the
  // program Multiproof(keys) gives, which proves the values before the batch against the old
  // root and those after it against the new root (every changed leaf is one of the keys, so
  // every sibling is an unchanged subtree). The result equals applying Update leaf by leaf.
  // Errors: InvalidArgument if `leaves` is empty or repeats a key (nothing changed); then, as
  // for any mutation, FailedPrecondition for a key inside a pruned subtree and the store's errors.
  absl::Status UpdateBatch(std::vector<SmtLeaf> leaves, std::vector<uint8_t>* multiproof = nullptr);

  // The compiled multiproof of `keys` (present or absent; any order).
  // Errors: InvalidArgument if `keys` is empty or repeats a key.
  absl::StatusOr<std::vector<uint8_t>> Multiproof(std::span<const Bytes32> keys) const;

  // Builds the tree of `leaves` in one pass (each fork hashed once, not once per insertion):
  // how a snapshot's state becomes a tree again. Zero values are skipped. REQUIRES: the tree
  // is empty. Errors: InvalidArgument if a key repeats; FailedPrecondition if not empty.
  absl::Status BuildFromLeaves(std::vector<SmtLeaf> leaves);

  // Builds a pruned tree from a multiproof and its leaves: the leaves become real leaves and the
  // proof's siblings opaque subtrees. The result has the root the proof proves and can produce
  // the same proof, and update the proven leaves. REQUIRES: the tree is empty.
  // Errors: InvalidArgument for a malformed proof; FailedPrecondition if the tree is not empty.
  absl::Status ImportMultiproof(std::span<const uint8_t> proof, std::span<const SmtLeaf> leaves);

 private:
  // A node: where it is, its value, and where the store said it keeps it. A position that is
  // only to be read (a child or the top) leaves `value` unset. A branch written by the current
  // operation is `pending` (its index in pending_): its value is known once Flush has hashed.
  struct Entry {
    NodeRef ref;
    MergeValue value;
    NodeHint hint = kNoHint;
    int32_t pending = -1;
  };
  // A branch the current operation writes. `node` is the store's own node, edited in place
  // (NodeStore::Edit), or a copy that Flush puts once its hashes are computed. Each operand,
  // when set, names the planned hash that fills the matching field.
  struct PendingNode {
    NodeRef ref;
    NodeHint hint = kNoHint;
    Node* node = nullptr;
    bool in_place = false;
    HashOperand value = HashWaves::kNone;                               // node->value
    std::array<HashOperand, 2> lifted{HashWaves::kNone, HashWaves::kNone};  // child_lifted[s].value
    std::array<HashOperand, 2> hash{HashWaves::kNone, HashWaves::kNone};    // child_hash[s]
    std::array<int32_t, 2> child{-1, -1};  // a pending child: its hint is known once stored
  };
  struct PlaceResult {
    // User-provided: an implicit constructor has GCC zero all of `top`'s storage first, which
    // the batch walk pays for twice per node.
    PlaceResult() {}
    PlaceResult(std::optional<Entry> t, bool c) : top(std::move(t)), changed(c) {}
    std::optional<Entry> top;
    bool changed = false;
  };

  explicit SparseMerkleTree(NodeStore* store) : store_(store) {}

  // Reads the node at `ref`; `*hint` as for NodeStore::GetHinted.
  absl::StatusOr<Node> Load(const NodeRef& ref, NodeHint* hint) const;
  // Stores `e` as a node without children and sets its hint.
  absl::Status PutSimple(Entry& e, Node::Kind kind);
  // The position of a branch's child `side`.
  static Entry ChildAt(const Node& branch, int side) {
    return Entry{branch.child[side], MergeValue(), branch.child_hint[side]};
  }
  absl::Status SetTop(const std::optional<Entry>& top);
  // Starts a pending branch at `ref` with the content `node`: `editable` itself if given (the
  // store's node, from NodeStore::Edit, and `node` is it), else a copy. Returns its index.
  int32_t AddPending(const NodeRef& ref, NodeHint hint, const Node& node, Node* editable);
  // A copy that stays put until DiscardPending (HashWaves literals may point into it).
  Node* CopyNode(const Node& node);
  // Sets pending branch `p`'s child `side` to `child`, lifted to the fork height `fork`.
  void SetChild(int32_t p, int fork, int side, const Entry& child);
  // Plans pending branch `p`'s value: the fork hash of its two children's hashes.
  void RehashBranch(int32_t p, int fork, const Bytes32& path);
  // Plans the new branch over `a` and `b` forking at `fork`; `*out` becomes its (pending) entry.
  void MakeBranch(const Entry& a, const Entry& b, int fork, Entry* out);
  // Hashes the plan in waves, stores every pending branch (children first) and makes `*e`, if
  // given and pending, a stored entry. Ends the operation's plan.
  absl::Status Flush(std::optional<Entry>* e);
  void DiscardPending() {
    pending_.clear();
    copies_used_ = 0;
    waves_.Clear();
  }
  // Puts `m` (a leaf, possibly zero to delete, or an opaque node) into the subtree at `at`.
  absl::StatusOr<PlaceResult> Place(const std::optional<Entry>& at, Entry m, Node::Kind kind);
  // Stores the subtree of sorted, distinct leaves [first, last) and returns its top. With
  // `flush`, every subtree of up to kFlushLeaves leaves is flushed as soon as it is built (a
  // bulk build's plan stays small) and the top returned is stored; else it may be pending.
  static constexpr size_t kFlushLeaves = 4096;
  absl::StatusOr<Entry> BuildRange(std::span<const SmtLeaf> leaves, bool flush);

  // UpdateBatch's walk. `leaves` are sorted and all lie in the subtree's region; each item's
  // siblings (height, lifted value), highest first, go to the matching `siblings` entry.
  struct BatchItems {
    std::span<const SmtLeaf> leaves;
    std::span<KeySiblings> siblings;  // empty: not collecting
    BatchItems first(size_t n) const {
      return {leaves.first(n), siblings.empty() ? siblings : siblings.first(n)};
    }
    BatchItems subspan(size_t n) const {
      return {leaves.subspan(n), siblings.empty() ? siblings : siblings.subspan(n)};
    }
    // Records `sibling` at `height` for every item (when collecting).
    void AddSibling(int height, const MergeValue& sibling) const {
      for (KeySiblings& s : siblings) s.siblings.emplace_back(height, sibling);
    }
  };
  // The walk at the node `at` kept under `hint` (null: an empty subtree).
  // Results go to `*out`, written in place.
  absl::Status PlaceBatch(const NodeRef* at, NodeHint hint, BatchItems items, PlaceResult* out);
  // `self` is the node at the position, `node` its content (self.value == node.value). If
  // `editable` is given it is `node`, the store's own (NodeStore::Edit): a rewrite edits it in place.
  absl::Status PlaceBatchAt(const Entry& self, const Node& node, Node* editable, BatchItems items,
                            PlaceResult* out);
  // The subtree of `items` where the tree was empty (zero values skipped): no siblings.
  absl::Status BuildBatch(BatchItems items, PlaceResult* out);
  // The non-empty siblings on `key`'s path, highest first (KeySiblings' order).
  absl::StatusOr<std::vector<std::pair<int, MergeValue>>> SiblingsOf(const Bytes32& key) const;
  // Walks the union of the sorted leaves' paths one level at a time, starting every node of a
  // level on its way into the CPU cache before reading any of them: the nodes a batch update is
  // about to visit then arrive together, not one cache miss after another. Only what the store
  // lets it Peek at is walked; changes nothing.
  void PrefetchPaths(std::span<const SmtLeaf> leaves) const;
  // A node PrefetchPaths visits and the items [first, last) that may lie inside it. The ref
  // points into top_ or into a node the store keeps (nothing changes them during the walk).
  struct PrefetchVisit {
    const NodeRef* ref;
    NodeHint hint;
    uint32_t first, last;
  };

  NodeStore* store_;
  mutable Hasher hasher_;
  std::vector<PendingNode> pending_;
  std::vector<KeySiblings> proof_material_;  // UpdateBatch's multiproof material
  // CopyNode's nodes, in chunks that never move (kept across operations).
  static constexpr size_t kCopyChunk = 64;
  std::vector<std::unique_ptr<std::array<Node, kCopyChunk>>> copy_chunks_;
  size_t copies_used_ = 0;
  HashWaves waves_;
  mutable std::vector<PrefetchVisit> prefetch_frontier_, prefetch_next_;  // PrefetchPaths' scratch
  std::optional<Entry> top_;
  Bytes32 root_;
  Work work_;
};

extern template class SparseMerkleTree<Sha256Hasher>;
extern template class SparseMerkleTree<Blake2b256Hasher>;

}  // namespace pom::smt
