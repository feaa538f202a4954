// NodeStore in memory. Leaves are kept apart from inner nodes as bare 32-byte values, since
// they are half the nodes and need nothing else.
// Thread-safety: not thread-safe; one owner.
#pragma once

#include <cstddef>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "common/smt/node_store.h"

namespace pom::smt {

class MemoryNodeStore final : public NodeStore {
 public:
  absl::StatusOr<Node> Get(const NodeRef& ref) const override;
  absl::Status Put(const NodeRef& ref, const Node& node) override;
  absl::Status Delete(const NodeRef& ref) override;
  absl::StatusOr<std::optional<NodeRef>> GetTop() const override;
  absl::Status SetTop(const std::optional<NodeRef>& top) override;

  size_t leaf_count() const { return leaves_.size(); }
  size_t inner_count() const { return inner_.size(); }

 private:
  absl::flat_hash_map<Bytes32, Bytes32> leaves_;
  absl::flat_hash_map<NodeRef, Node> inner_;
  std::optional<NodeRef> top_;
};

}  // namespace pom::smt
