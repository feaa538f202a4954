#include "common/smt/tree.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace pom::smt {
namespace {

absl::Status PrunedError(const Bytes32& path, int level) {
  return absl::FailedPreconditionError(absl::StrCat(
      "tree: ", ToHex(path), " lies in a pruned subtree at level ", level, " (imported proof)"));
}

}  // namespace

template <typename Hasher>
absl::StatusOr<SparseMerkleTree<Hasher>> SparseMerkleTree<Hasher>::Open(NodeStore* store) {
  SparseMerkleTree tree(store);
  POM_ASSIGN_OR_RETURN(std::optional<NodeRef> top, store->GetTop());
  if (top) {
    NodeHint hint = kNoHint;
    POM_ASSIGN_OR_RETURN(Node node, tree.Load(*top, &hint));
    tree.top_ = Entry{*top, node.value, hint};
  }
  const std::optional<Entry> entry = tree.top_;
  POM_RETURN_IF_ERROR(tree.SetTop(entry));
  return tree;
}

template <typename Hasher>
absl::StatusOr<Node> SparseMerkleTree<Hasher>::Load(const NodeRef& ref, NodeHint* hint) const {
  absl::StatusOr<Node> node = store_->GetHinted(ref, hint);
  if (absl::IsNotFound(node.status())) {
    return absl::DataLossError(absl::StrCat("tree: node at level ", ref.level, " path ",
                                            ToHex(ref.path), " is referenced but missing"));
  }
  return node;
}

template <typename Hasher>
absl::Status SparseMerkleTree<Hasher>::PutSimple(Entry& e, Node::Kind kind) {
  Node node;
  node.kind = kind;
  node.value = e.value;
  return store_->PutHinted(e.ref, node, &e.hint);
}

template <typename Hasher>
absl::Status SparseMerkleTree<Hasher>::SetTop(const std::optional<Entry>& top) {
  top_ = top;
  if (top) {
    POM_RETURN_IF_ERROR(store_->SetTop(top->ref));
    root_ = HashOf(hasher_, Lift(hasher_, top->value, top->ref.level, top->ref.path, 256));
  } else {
    POM_RETURN_IF_ERROR(store_->SetTop(std::nullopt));
    root_ = Bytes32();
  }
  return absl::OkStatus();
}

template <typename Hasher>
Node* SparseMerkleTree<Hasher>::CopyNode(const Node& node) {
  const size_t chunk = copies_used_ / kCopyChunk;
  if (chunk == copy_chunks_.size()) copy_chunks_.push_back(std::make_unique<std::array<Node, kCopyChunk>>());
  Node* copy = &(*copy_chunks_[chunk])[copies_used_ % kCopyChunk];
  ++copies_used_;
  *copy = node;
  return copy;
}

template <typename Hasher>
int32_t SparseMerkleTree<Hasher>::AddPending(const NodeRef& ref, NodeHint hint, const Node& node,
                                             Node* editable) {
  // Built in place, field by field (a PendingNode assembled on the stack and copied stalls).
  PendingNode& p = pending_.emplace_back();
  p.ref = ref;
  p.hint = hint;
  p.in_place = editable != nullptr;
  p.node = editable != nullptr ? editable : CopyNode(node);
  return static_cast<int32_t>(pending_.size() - 1);
}

template <typename Hasher>
void SparseMerkleTree<Hasher>::SetChild(int32_t index, int fork, int side, const Entry& child) {
  using Kind = HashWaves::Kind;
  PendingNode& p = pending_[index];
  Node& branch = *p.node;
  branch.child[side] = child.ref;
  branch.child_hint[side] = child.hint;
  p.child[side] = child.pending;
  const int level = child.ref.level;
  MergeValue& lifted = branch.child_lifted[side];
  p.lifted[side] = HashWaves::kNone;
  p.hash[side] = HashWaves::kNone;
  // The child's value as an operand: a pending branch's is planned (always a plain value).
  HashOperand value = HashWaves::kNone;
  bool needs_base = false;
  // `lifted` is written field by field (see LiftShapeInto); its value, where planned, is filled
  // at Flush.
  if (child.pending >= 0) {
    value = pending_[child.pending].value;
    if (fork == level) {
      lifted.kind = MergeValue::Kind::kValue;  // a plain value
      lifted.zero_count = 0;
      lifted.zero_bits = Bytes32();
      p.lifted[side] = value;
      p.hash[side] = value;
      return;
    }
    // Lift's shape for a plain value; its base is the hash planned below.
    lifted.kind = MergeValue::Kind::kMergeWithZero;
    lifted.zero_count = static_cast<uint8_t>(fork - level);
    lifted.zero_bits = BitsInRange(child.ref.path, level, fork);
    needs_base = true;
  } else {
    LiftShapeInto(child.value, level, child.ref.path, fork, &needs_base, &lifted);
    if (needs_base) value = waves_.Copy(child.value.value);
  }
  if (needs_base) {
    p.lifted[side] = waves_.Add(Kind::kBase, static_cast<uint8_t>(level),
                                ParentPath(child.ref.path, level), value);
    p.hash[side] = waves_.Add(Kind::kMergeZeros, lifted.zero_count, lifted.zero_bits, p.lifted[side]);
  } else if (lifted.kind == MergeValue::Kind::kMergeWithZero) {
    // The node stays put until Flush, which leaves this base alone: a literal in place.
    p.hash[side] = waves_.Add(Kind::kMergeZeros, lifted.zero_count, lifted.zero_bits,
                              waves_.Literal(lifted.value.data()));
  } else {
    branch.child_hash[side] = lifted.value;
  }
}

template <typename Hasher>
void SparseMerkleTree<Hasher>::RehashBranch(int32_t index, int fork, const Bytes32& path) {
  PendingNode& p = pending_[index];
  std::array<HashOperand, 2> hash;
  for (int side = 0; side < 2; ++side) {
    // The node stays put until Flush: its unchanged side's hash is a literal in place.
    hash[side] = p.hash[side] != HashWaves::kNone ? p.hash[side] : waves_.Literal(p.node->child_hash[side].data());
  }
  p.value = waves_.Add(HashWaves::Kind::kFork, static_cast<uint8_t>(fork), path, hash[0], hash[1]);
}

template <typename Hasher>
void SparseMerkleTree<Hasher>::MakeBranch(const Entry& a, const Entry& b, int fork, Entry* out) {
  const NodeRef ref{static_cast<uint16_t>(fork + 1), ClearBitsBelow(a.ref.path, fork + 1)};
  Node node;
  node.kind = Node::Kind::kBranch;
  const int32_t index = AddPending(ref, kNoHint, node, nullptr);
  SetChild(index, fork, GetBit(a.ref.path, fork), a);
  SetChild(index, fork, GetBit(b.ref.path, fork), b);
  RehashBranch(index, fork, ref.path);
  out->ref = ref;
  out->hint = kNoHint;
  out->pending = index;
}

template <typename Hasher>
absl::Status SparseMerkleTree<Hasher>::Flush(std::optional<Entry>* e) {
  waves_.Evaluate(hasher_);
  work_.branches += pending_.size();
  work_.hashes += waves_.jobs();
  // Children were added before their parents: each child is stored, and its hint known, first.
  for (PendingNode& p : pending_) {
    Node& node = *p.node;
    node.value = MergeValue::FromValue(waves_.Resolve(p.value));
    for (int side = 0; side < 2; ++side) {
      if (p.lifted[side] != HashWaves::kNone) node.child_lifted[side].value = waves_.Resolve(p.lifted[side]);
      if (p.hash[side] != HashWaves::kNone) node.child_hash[side] = waves_.Resolve(p.hash[side]);
      if (p.child[side] >= 0) node.child_hint[side] = pending_[p.child[side]].hint;
    }
    if (p.in_place) continue;  // already the store's node
    absl::Status stored = store_->PutHinted(p.ref, node, &p.hint);
    if (!stored.ok()) {
      DiscardPending();
      return stored;
    }
  }
  if (e != nullptr && e->has_value() && (*e)->pending >= 0) {
    const PendingNode& p = pending_[(*e)->pending];
    (*e)->value = p.node->value;
    (*e)->hint = p.hint;
    (*e)->pending = -1;
  }
  DiscardPending();
  return absl::OkStatus();
}

template <typename Hasher>
absl::StatusOr<typename SparseMerkleTree<Hasher>::PlaceResult> SparseMerkleTree<Hasher>::Place(
    const std::optional<Entry>& at_entry, Entry m, Node::Kind kind) {
  if (!at_entry) {
    if (m.value.IsZero()) return PlaceResult{std::nullopt, false};
    POM_RETURN_IF_ERROR(PutSimple(m, kind));
    return PlaceResult{m, true};
  }
  const NodeRef* at = &at_entry->ref;
  Entry self = *at_entry;
  POM_ASSIGN_OR_RETURN(Node node, Load(*at, &self.hint));
  self.value = node.value;
  const int shared_from = std::max(at->level, m.ref.level);
  const int fork = HighestDiffBit(at->path, m.ref.path, shared_from);
  if (fork >= 0) {
    // `m` lies beside this subtree: a new fork joins them (nothing to do to delete an absent key).
    if (m.value.IsZero()) return PlaceResult{self, false};
    POM_RETURN_IF_ERROR(PutSimple(m, kind));
    PlaceResult placed{Entry(), true};
    MakeBranch(self, m, fork, &*placed.top);
    return placed;
  }
  if (at->level == m.ref.level) {
    if (node.kind == Node::Kind::kLeaf && kind == Node::Kind::kLeaf) {
      if (m.value.IsZero()) {
        POM_RETURN_IF_ERROR(store_->DeleteHinted(*at, self.hint));
        return PlaceResult{std::nullopt, true};
      }
      if (node.value == m.value) return PlaceResult{self, false};
      m.hint = self.hint;
      POM_RETURN_IF_ERROR(PutSimple(m, kind));
      return PlaceResult{m, true};
    }
    if (node.kind == kind && node.value == m.value) return PlaceResult{self, false};
    return absl::FailedPreconditionError(absl::StrCat(
        "tree: conflicting nodes at level ", at->level, " path ", ToHex(at->path)));
  }
  if (at->level < m.ref.level) return PrunedError(at->path, m.ref.level);
  if (node.kind != Node::Kind::kBranch) return PrunedError(m.ref.path, at->level);

  const int h = at->level - 1;
  const int side = GetBit(m.ref.path, h);
  POM_ASSIGN_OR_RETURN(PlaceResult child, Place(ChildAt(node, side), m, kind));
  if (!child.changed) return PlaceResult{self, false};
  if (!child.top) {
    // One side emptied: the fork disappears and the other side takes its place.
    POM_RETURN_IF_ERROR(store_->DeleteHinted(*at, self.hint));
    Entry other = ChildAt(node, 1 - side);
    POM_ASSIGN_OR_RETURN(Node other_node, Load(other.ref, &other.hint));
    other.value = other_node.value;
    return PlaceResult{other, true};
  }
  const int32_t index = AddPending(*at, self.hint, node, nullptr);
  SetChild(index, h, side, *child.top);
  RehashBranch(index, h, at->path);
  return PlaceResult{Entry{*at, MergeValue(), self.hint, index}, true};
}

template <typename Hasher>
absl::StatusOr<Bytes32> SparseMerkleTree<Hasher>::Get(const Bytes32& key) const {
  std::optional<Entry> at = top_;
  while (at) {
    POM_ASSIGN_OR_RETURN(Node node, Load(at->ref, &at->hint));
    if (HighestDiffBit(key, at->ref.path, at->ref.level) >= 0) return Bytes32();
    if (node.kind == Node::Kind::kLeaf) return node.value.value;
    if (node.kind == Node::Kind::kOpaque) return PrunedError(key, at->ref.level);
    at = ChildAt(node, GetBit(key, at->ref.level - 1));
  }
  return Bytes32();
}

template <typename Hasher>
absl::Status SparseMerkleTree<Hasher>::Update(const Bytes32& key, const Bytes32& value) {
  const Entry m{NodeRef{0, key}, MergeValue::FromValue(value)};
  ++work_.batches;
  ++work_.leaves;
  DiscardPending();
  POM_ASSIGN_OR_RETURN(PlaceResult result, Place(top_, m, Node::Kind::kLeaf));
  POM_RETURN_IF_ERROR(Flush(&result.top));
  if (result.changed) POM_RETURN_IF_ERROR(SetTop(result.top));
  return absl::OkStatus();
}

template <typename Hasher>
absl::Status SparseMerkleTree<Hasher>::UpdateBatch(std::vector<SmtLeaf> leaves,
                                                   std::vector<uint8_t>* multiproof) {
  POM_RETURN_IF_ERROR(SortLeavesForProof(leaves));
  ++work_.batches;
  work_.leaves += leaves.size();
  PrefetchPaths(leaves);
  // The multiproof's material, kept across batches (each key's siblings keep their capacity).
  std::span<KeySiblings> material;
  if (multiproof) {
    if (proof_material_.size() < leaves.size()) proof_material_.resize(leaves.size());
    material = std::span(proof_material_).first(leaves.size());
    for (size_t i = 0; i < leaves.size(); ++i) {
      material[i].key = leaves[i].key;
      material[i].siblings.clear();
    }
  }
  DiscardPending();
  PlaceResult result;
  POM_RETURN_IF_ERROR(PlaceBatch(top_ ? &top_->ref : nullptr, top_ ? top_->hint : kNoHint,
                                 BatchItems{leaves, material}, &result));
  POM_RETURN_IF_ERROR(Flush(&result.top));
  if (result.changed) POM_RETURN_IF_ERROR(SetTop(result.top));
  if (multiproof) *multiproof = CompileMultiproof(material);
  return absl::OkStatus();
}

template <typename Hasher>
void SparseMerkleTree<Hasher>::PrefetchPaths(std::span<const SmtLeaf> leaves) const {
  if (!top_ || leaves.empty()) return;
  std::vector<PrefetchVisit>& frontier = prefetch_frontier_;
  std::vector<PrefetchVisit>& next = prefetch_next_;
  frontier.assign(1, PrefetchVisit{&top_->ref, top_->hint, 0, static_cast<uint32_t>(leaves.size())});
  while (!frontier.empty()) {
    for (const PrefetchVisit& v : frontier) store_->Prefetch(v.hint);
    next.clear();
    for (const PrefetchVisit& v : frontier) {
      const Node* node = store_->Peek(*v.ref, v.hint);
      if (node == nullptr || node->kind != Node::Kind::kBranch) continue;
      const int level = v.ref->level;
      // Sorted in tree order: the items inside this subtree are contiguous, left side first.
      uint32_t a = v.first, b = v.last;
      while (a < b && HighestDiffBit(v.ref->path, leaves[a].key, level) >= 0) ++a;
      while (b > a && HighestDiffBit(v.ref->path, leaves[b - 1].key, level) >= 0) --b;
      uint32_t m = a;
      while (m < b && GetBit(leaves[m].key, level - 1) == 0) ++m;
      if (m > a) next.push_back({&node->child[0], node->child_hint[0], a, m});
      if (b > m) next.push_back({&node->child[1], node->child_hint[1], m, b});
    }
    frontier.swap(next);
  }
}

template <typename Hasher>
absl::Status SparseMerkleTree<Hasher>::BuildBatch(BatchItems items, PlaceResult* out) {
  std::vector<SmtLeaf> present;
  for (const SmtLeaf& l : items.leaves) {
    if (!l.value.IsZero()) present.push_back(l);
  }
  out->changed = !present.empty();
  if (present.empty()) {
    out->top.reset();
    return absl::OkStatus();
  }
  POM_ASSIGN_OR_RETURN(out->top.emplace(), BuildRange(present, false));
  return absl::OkStatus();
}

template <typename Hasher>
absl::Status SparseMerkleTree<Hasher>::PlaceBatch(const NodeRef* at, NodeHint hint,
                                                  BatchItems items, PlaceResult* out) {
  if (at == nullptr) return BuildBatch(items, out);
  // Field by field: an Entry assembled in a temporary and copied stalls on store forwarding.
  Entry self;
  self.ref = *at;
  self.hint = hint;
  // The walk below may read the node in place, and edit it there once its children are done:
  // until Flush it puts only leaves and opaque nodes at other refs, and reads a node it
  // deleted only before putting anything.
  if (Node* kept = store_->Edit(self.ref, self.hint)) {
    self.value = kept->value;
    return PlaceBatchAt(self, *kept, kept, items, out);
  }
  POM_ASSIGN_OR_RETURN(Node node, Load(self.ref, &self.hint));
  self.value = node.value;
  return PlaceBatchAt(self, node, nullptr, items, out);
}

template <typename Hasher>
absl::Status SparseMerkleTree<Hasher>::PlaceBatchAt(const Entry& self, const Node& node,
                                                    Node* editable, BatchItems items,
                                                    PlaceResult* out) {
  // Results are written into `*out` field by field (see PlaceBatch).
  auto unchanged = [&] {
    out->top = self;
    out->changed = false;
    return absl::OkStatus();
  };
  auto emptied_here = [&] {
    out->top.reset();
    out->changed = true;
    return absl::OkStatus();
  };
  const NodeRef& at = self.ref;
  const std::span<const SmtLeaf> leaves = items.leaves;
  // Sorted: the highest bit at which any item leaves this subtree's path is where the first or
  // the last item leaves it.
  const int fork = std::max(HighestDiffBit(at.path, leaves.front().key, at.level),
                            HighestDiffBit(at.path, leaves.back().key, at.level));
  if (fork >= 0) {
    // Some items lie beside this subtree: split them at the fork. Those on the subtree's side
    // go into it; the others start where the tree is empty.
    const int own_side = GetBit(at.path, fork);
    const size_t left_size = static_cast<size_t>(
        std::partition_point(leaves.begin(), leaves.end(),
                             [fork](const SmtLeaf& l) { return GetBit(l.key, fork) == 0; }) -
        leaves.begin());
    const BatchItems own = own_side == 0 ? items.first(left_size) : items.subspan(left_size);
    const BatchItems other = own_side == 0 ? items.subspan(left_size) : items.first(left_size);
    PlaceResult mine;
    if (own.leaves.empty()) {
      if (!other.siblings.empty()) other.AddSibling(fork, Lift(hasher_, node.value, at.level, at.path, fork));
      mine.top = self;
    } else {
      POM_RETURN_IF_ERROR(PlaceBatchAt(self, node, editable, own, &mine));
    }
    PlaceResult beside;
    POM_RETURN_IF_ERROR(BuildBatch(other, &beside));
    if (!beside.top || !mine.top) {
      *out = beside.top ? beside : mine;
      return absl::OkStatus();
    }
    MakeBranch(*mine.top, *beside.top, fork, &out->top.emplace());
    out->changed = true;
    return absl::OkStatus();
  }
  // Every item lies inside this subtree.
  if (node.kind == Node::Kind::kOpaque) return PrunedError(leaves.front().key, at.level);
  if (node.kind == Node::Kind::kLeaf) {
    // Only this leaf's own key lies inside it (keys are distinct).
    const SmtLeaf& leaf = leaves.front();
    if (leaf.value.IsZero()) {
      POM_RETURN_IF_ERROR(store_->DeleteHinted(at, self.hint));
      return emptied_here();
    }
    if (node.value == MergeValue::FromValue(leaf.value)) return unchanged();
    Entry& updated = out->top.emplace();
    updated.ref = at;
    updated.value = MergeValue::FromValue(leaf.value);
    updated.hint = self.hint;
    out->changed = true;
    return PutSimple(updated, Node::Kind::kLeaf);
  }
  const int h = at.level - 1;
  const size_t left_size = static_cast<size_t>(
      std::partition_point(leaves.begin(), leaves.end(),
                           [h](const SmtLeaf& l) { return GetBit(l.key, h) == 0; }) -
      leaves.begin());
  const std::array<BatchItems, 2> side_items{items.first(left_size), items.subspan(left_size)};
  PlaceResult result[2];
  bool visited[2] = {false, false};
  for (int side = 0; side < 2; ++side) {
    const BatchItems& mine = side_items[side];
    if (mine.leaves.empty()) continue;
    // Alone on this side of the fork: the other side is every item's sibling here.
    if (side_items[1 - side].leaves.empty()) mine.AddSibling(h, node.child_lifted[1 - side]);
    POM_RETURN_IF_ERROR(PlaceBatch(&node.child[side], node.child_hint[side], mine, &result[side]));
    visited[side] = true;
  }
  const bool changed = (visited[0] && result[0].changed) || (visited[1] && result[1].changed);
  if (!changed) return unchanged();
  const bool emptied[2] = {visited[0] && !result[0].top, visited[1] && !result[1].top};
  if (emptied[0] || emptied[1]) {
    // A side emptied: the fork disappears and the other side (if any) takes its place.
    POM_RETURN_IF_ERROR(store_->DeleteHinted(at, self.hint));
    if (emptied[0] && emptied[1]) return emptied_here();
    const int other = emptied[0] ? 1 : 0;
    out->changed = true;
    if (visited[other]) {
      out->top = result[other].top;
      return absl::OkStatus();
    }
    Entry& kept = out->top.emplace();
    kept.ref = node.child[other];
    kept.hint = node.child_hint[other];
    POM_ASSIGN_OR_RETURN(Node other_node, Load(kept.ref, &kept.hint));
    kept.value = other_node.value;
    return absl::OkStatus();
  }
  const int32_t index = AddPending(at, self.hint, node, editable);
  for (int side = 0; side < 2; ++side) {
    if (visited[side] && result[side].changed) SetChild(index, h, side, *result[side].top);
  }
  RehashBranch(index, h, at.path);
  Entry& top = out->top.emplace();
  top.ref = at;
  top.hint = self.hint;
  top.pending = index;
  out->changed = true;
  return absl::OkStatus();
}

template <typename Hasher>
absl::StatusOr<std::vector<std::pair<int, MergeValue>>> SparseMerkleTree<Hasher>::SiblingsOf(
    const Bytes32& key) const {
  std::vector<std::pair<int, MergeValue>> out;
  std::optional<Entry> at = top_;
  while (at) {
    POM_ASSIGN_OR_RETURN(Node node, Load(at->ref, &at->hint));
    const int fork = HighestDiffBit(key, at->ref.path, at->ref.level);
    if (fork >= 0) {
      // The key's path leaves this subtree at `fork`: the whole subtree is its sibling there.
      out.emplace_back(fork, Lift(hasher_, node.value, at->ref.level, at->ref.path, fork));
      break;
    }
    if (node.kind == Node::Kind::kLeaf) break;  // the key itself
    if (node.kind == Node::Kind::kOpaque) return PrunedError(key, at->ref.level);
    const int h = at->ref.level - 1;
    const int side = GetBit(key, h);
    out.emplace_back(h, node.child_lifted[1 - side]);
    at = ChildAt(node, side);
  }
  return out;
}

template <typename Hasher>
absl::StatusOr<std::vector<uint8_t>> SparseMerkleTree<Hasher>::Multiproof(
    std::span<const Bytes32> keys) const {
  std::vector<SmtLeaf> sorted;
  sorted.reserve(keys.size());
  for (const Bytes32& k : keys) sorted.push_back({k, Bytes32()});
  POM_RETURN_IF_ERROR(SortLeavesForProof(sorted));
  std::vector<KeySiblings> material(sorted.size());
  for (size_t i = 0; i < sorted.size(); ++i) {
    material[i].key = sorted[i].key;
    POM_ASSIGN_OR_RETURN(material[i].siblings, SiblingsOf(sorted[i].key));
  }
  return CompileMultiproof(material);
}

template <typename Hasher>
absl::Status SparseMerkleTree<Hasher>::BuildFromLeaves(std::vector<SmtLeaf> leaves) {
  if (top_) return absl::FailedPreconditionError("tree: bulk build into a non-empty tree");
  std::erase_if(leaves, [](const SmtLeaf& l) { return l.value == Bytes32(); });
  if (leaves.empty()) return absl::OkStatus();
  // Tree order: bit 255 first, so compare bytes from the last one down.
  auto before = [](const SmtLeaf& a, const SmtLeaf& b) {
    for (int i = 31; i >= 0; --i) {
      if (a.key[i] != b.key[i]) return a.key[i] < b.key[i];
    }
    return false;
  };
  std::sort(leaves.begin(), leaves.end(), before);
  for (size_t i = 1; i < leaves.size(); ++i) {
    if (leaves[i - 1].key == leaves[i].key) {
      return absl::InvalidArgumentError(
          absl::StrCat("tree: bulk build repeats key ", ToHex(leaves[i].key)));
    }
  }
  DiscardPending();
  POM_ASSIGN_OR_RETURN(Entry top, BuildRange(leaves, true));
  return SetTop(top);
}

template <typename Hasher>
absl::StatusOr<typename SparseMerkleTree<Hasher>::Entry> SparseMerkleTree<Hasher>::BuildRange(
    std::span<const SmtLeaf> leaves, bool flush) {
  if (flush && leaves.size() <= kFlushLeaves) {
    POM_ASSIGN_OR_RETURN(Entry top, BuildRange(leaves, false));
    std::optional<Entry> stored = top;
    POM_RETURN_IF_ERROR(Flush(&stored));
    return *stored;
  }
  if (leaves.size() == 1) {
    Entry leaf{NodeRef{0, leaves[0].key}, MergeValue::FromValue(leaves[0].value)};
    POM_RETURN_IF_ERROR(PutSimple(leaf, Node::Kind::kLeaf));
    return leaf;
  }
  // Sorted: the first and the last key differ at the range's fork, and every key with the fork
  // bit clear comes before every key with it set.
  const int fork = HighestDiffBit(leaves.front().key, leaves.back().key, 0);
  const auto split = std::partition_point(leaves.begin(), leaves.end(), [fork](const SmtLeaf& l) {
    return GetBit(l.key, fork) == 0;
  });
  const size_t left_size = static_cast<size_t>(split - leaves.begin());
  POM_ASSIGN_OR_RETURN(Entry left, BuildRange(leaves.first(left_size), flush));
  POM_ASSIGN_OR_RETURN(Entry right, BuildRange(leaves.subspan(left_size), flush));
  std::optional<Entry> stored(std::in_place);
  MakeBranch(left, right, fork, &*stored);
  if (!flush) return *stored;
  POM_RETURN_IF_ERROR(Flush(&stored));
  return *stored;
}

template <typename Hasher>
absl::Status SparseMerkleTree<Hasher>::ImportMultiproof(std::span<const uint8_t> proof,
                                                        std::span<const SmtLeaf> leaves) {
  if (top_) return absl::FailedPreconditionError("tree: import into a non-empty tree");
  std::vector<ProofSibling> siblings;
  POM_ASSIGN_OR_RETURN(
      Bytes32 proven,
      ComputeMultiproofRoot(hasher_, proof, std::vector<SmtLeaf>(leaves.begin(), leaves.end()),
                            &siblings));
  for (const ProofSibling& s : siblings) {
    // The sibling is the subtree beside the item's path at height s.height.
    Bytes32 path = s.key;
    path[s.height >> 3] ^= static_cast<uint8_t>(1u << (s.height & 7));
    const Entry opaque{NodeRef{static_cast<uint16_t>(s.height), ClearBitsBelow(path, s.height)},
                       s.value};
    DiscardPending();
    POM_ASSIGN_OR_RETURN(PlaceResult r, Place(top_, opaque, Node::Kind::kOpaque));
    POM_RETURN_IF_ERROR(Flush(&r.top));
    if (r.changed) POM_RETURN_IF_ERROR(SetTop(r.top));
  }
  for (const SmtLeaf& leaf : leaves) POM_RETURN_IF_ERROR(Update(leaf.key, leaf.value));
  if (root_ != proven) {
    return absl::InvalidArgumentError("tree: imported proof does not rebuild its own root");
  }
  return absl::OkStatus();
}

template class SparseMerkleTree<Sha256Hasher>;
template class SparseMerkleTree<Blake2b256Hasher>;

}  // namespace pom::smt
