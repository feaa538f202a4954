#include "common/smt/memory_node_store.h"

#include "absl/strings/str_cat.h"
#include "common/check.h"

namespace pom::smt {
namespace {

absl::Status Missing(const NodeRef& ref) {
  return absl::NotFoundError(
      absl::StrCat("tree node at level ", ref.level, " path ", ToHex(ref.path), " not found"));
}

// Kept in the leaf arena. A zero value marks a free leaf slot, so a zero-valued leaf (which
// the tree never stores, but a store must keep what it is given) goes to the inner arena.
bool IsPlainLeaf(const NodeRef& ref, const Node& node) {
  return ref.level == 0 && node.kind == Node::Kind::kLeaf &&
         node.value.kind == MergeValue::Kind::kValue && !node.value.value.IsZero();
}

Node LeafNode(const Bytes32& value) {
  Node node;
  node.value = MergeValue::FromValue(value);
  return node;
}

}  // namespace

template <typename Slot>
uint32_t MemoryNodeStore::Arena<Slot>::Allocate() {
  if (!free_.empty()) {
    const uint32_t i = free_.back();
    free_.pop_back();
    return i;
  }
  // Slot numbers stay below kInnerBit.
  POM_CHECK(size_ < kInnerBit);
  if (size_ == capacity_) {
    const uint32_t n = chunks_.size() <= kDoublings ? uint32_t{64} << chunks_.size() : kMaxChunk;
    chunks_.push_back(std::make_unique<Slot[]>(n));
    capacity_ += n;
  }
  return size_++;
}

NodeHint MemoryNodeStore::Locate(const NodeRef& ref, NodeHint hint) const {
  if (hint != kNoHint) {
    if ((hint & kInnerBit) != 0) {
      const InnerSlot* s = inner_.Find(hint & ~kInnerBit);
      if (s != nullptr && s->ref == ref) return hint;
    } else if (ref.level == 0) {
      const LeafSlot* s = leaves_.Find(hint);
      if (s != nullptr && s->key == ref.path && !s->value.IsZero()) return hint;
    }
  }
  if (ref.level == 0) {
    auto it = leaf_index_.find(ref.path);
    if (it != leaf_index_.end()) return it->second;
  }
  auto it = inner_index_.find(ref);
  return it == inner_index_.end() ? kNoHint : (it->second | kInnerBit);
}

void MemoryNodeStore::Release(const NodeRef& ref, NodeHint at) {
  if ((at & kInnerBit) != 0) {
    const uint32_t i = at & ~kInnerBit;
    inner_.Find(i)->ref.level = kFreeLevel;
    inner_.Free(i);
    inner_index_.erase(ref);
  } else {
    leaves_.Find(at)->value = Bytes32();
    leaves_.Free(at);
    leaf_index_.erase(ref.path);
  }
}

absl::StatusOr<Node> MemoryNodeStore::GetHinted(const NodeRef& ref, NodeHint* hint) const {
  const NodeHint at = Locate(ref, *hint);
  *hint = at;
  if (at == kNoHint) return Missing(ref);
  if ((at & kInnerBit) != 0) return inner_.Find(at & ~kInnerBit)->node;
  return LeafNode(leaves_.Find(at)->value);
}

absl::Status MemoryNodeStore::PutHinted(const NodeRef& ref, const Node& node, NodeHint* hint) {
  NodeHint at = Locate(ref, *hint);
  const bool plain_leaf = IsPlainLeaf(ref, node);
  if (at != kNoHint && ((at & kInnerBit) != 0) == plain_leaf) {
    // Kept in the other arena: move it.
    Release(ref, at);
    at = kNoHint;
  }
  if (plain_leaf) {
    if (at == kNoHint) {
      at = leaves_.Allocate();
      leaves_.Find(at)->key = ref.path;
      leaf_index_[ref.path] = at;
    }
    leaves_.Find(at)->value = node.value.value;
  } else {
    if (at == kNoHint) {
      const uint32_t i = inner_.Allocate();
      inner_.Find(i)->ref = ref;
      inner_index_[ref] = i;
      at = i | kInnerBit;
    }
    Node& kept = inner_.Find(at & ~kInnerBit)->node;
    kept = node;
  }
  *hint = at;
  return absl::OkStatus();
}

absl::Status MemoryNodeStore::DeleteHinted(const NodeRef& ref, NodeHint hint) {
  const NodeHint at = Locate(ref, hint);
  if (at != kNoHint) Release(ref, at);
  return absl::OkStatus();
}

void MemoryNodeStore::Prefetch(NodeHint hint) const {
  if (hint == kNoHint) return;
  const char* p;
  size_t size;
  if ((hint & kInnerBit) != 0) {
    p = reinterpret_cast<const char*>(inner_.Find(hint & ~kInnerBit));
    size = sizeof(InnerSlot);
  } else {
    p = reinterpret_cast<const char*>(leaves_.Find(hint));
    size = sizeof(LeafSlot);
  }
  if (p == nullptr) return;
  for (size_t off = 0; off < size; off += 64) __builtin_prefetch(p + off);
  __builtin_prefetch(p + size - 1);
}

const Node* MemoryNodeStore::Peek(const NodeRef& ref, NodeHint hint) const {
  if (hint == kNoHint || (hint & kInnerBit) == 0) return nullptr;
  const InnerSlot* s = inner_.Find(hint & ~kInnerBit);
  // Not the leaves the inner arena keeps (zero or merge-with-zero valued): NodeStore's contract.
  return s != nullptr && s->ref == ref && s->node.kind != Node::Kind::kLeaf ? &s->node : nullptr;
}

Node* MemoryNodeStore::Edit(const NodeRef& ref, NodeHint hint) {
  return const_cast<Node*>(Peek(ref, hint));
}

absl::StatusOr<Node> MemoryNodeStore::Get(const NodeRef& ref) const {
  NodeHint hint = kNoHint;
  return GetHinted(ref, &hint);
}

absl::Status MemoryNodeStore::Put(const NodeRef& ref, const Node& node) {
  NodeHint hint = kNoHint;
  return PutHinted(ref, node, &hint);
}

absl::Status MemoryNodeStore::Delete(const NodeRef& ref) { return DeleteHinted(ref, kNoHint); }

absl::StatusOr<std::optional<NodeRef>> MemoryNodeStore::GetTop() const { return top_; }

absl::Status MemoryNodeStore::SetTop(const std::optional<NodeRef>& top) {
  top_ = top;
  return absl::OkStatus();
}

}  // namespace pom::smt
