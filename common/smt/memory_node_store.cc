#include "common/smt/memory_node_store.h"

#include "absl/strings/str_cat.h"

namespace pom::smt {
namespace {

absl::Status Missing(const NodeRef& ref) {
  return absl::NotFoundError(
      absl::StrCat("tree node at level ", ref.level, " path ", ToHex(ref.path), " not found"));
}

bool IsPlainLeaf(const NodeRef& ref, const Node& node) {
  return ref.level == 0 && node.kind == Node::Kind::kLeaf &&
         node.value.kind == MergeValue::Kind::kValue;
}

}  // namespace

absl::StatusOr<Node> MemoryNodeStore::Get(const NodeRef& ref) const {
  if (ref.level == 0) {
    auto it = leaves_.find(ref.path);
    if (it != leaves_.end()) {
      Node node;
      node.value = MergeValue::FromValue(it->second);
      return node;
    }
  }
  auto it = inner_.find(ref);
  if (it == inner_.end()) return Missing(ref);
  return it->second;
}

absl::Status MemoryNodeStore::Put(const NodeRef& ref, const Node& node) {
  if (IsPlainLeaf(ref, node)) {
    leaves_.insert_or_assign(ref.path, node.value.value);
    inner_.erase(ref);
  } else {
    if (ref.level == 0) leaves_.erase(ref.path);
    inner_.insert_or_assign(ref, node);
  }
  return absl::OkStatus();
}

absl::Status MemoryNodeStore::Delete(const NodeRef& ref) {
  if (ref.level == 0) leaves_.erase(ref.path);
  inner_.erase(ref);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<NodeRef>> MemoryNodeStore::GetTop() const { return top_; }

absl::Status MemoryNodeStore::SetTop(const std::optional<NodeRef>& top) {
  top_ = top;
  return absl::OkStatus();
}

}  // namespace pom::smt
