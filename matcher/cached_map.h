// A flat hash map that remembers the last element it found or wrote. The rules read a leaf and
// then write the same leaf (a balance, an order, a level), so the write, and repeated reads,
// skip the hash and the probe.
//
// The remembered pointer stays valid because absl::flat_hash_map moves elements only on an
// insert (one that grows the table, or compacts its tombstones in place; the element inserted
// is then the one remembered) and erase leaves the others in place; erasing the remembered key
// forgets it. Copies and moves start empty.
// Reads for other code go through the const view (find, contains, at, iteration) of the map.
// Thread-safety: not thread-safe.
#pragma once

#include <utility>

#include "absl/container/flat_hash_map.h"

namespace pom::matcher {

template <class K, class V, class Hash = absl::Hash<K>>
class CachedMap {
 public:
  using Map = absl::flat_hash_map<K, V, Hash>;
  using const_iterator = typename Map::const_iterator;

  CachedMap() = default;
  CachedMap(const CachedMap& other) : map_(other.map_) {}
  CachedMap(CachedMap&& other) noexcept : map_(std::move(other.map_)) { other.last_ = nullptr; }
  CachedMap& operator=(const CachedMap& other) {
    map_ = other.map_;
    last_ = nullptr;
    return *this;
  }
  CachedMap& operator=(CachedMap&& other) noexcept {
    map_ = std::move(other.map_);
    last_ = nullptr;
    other.last_ = nullptr;
    return *this;
  }

  // The value at `key`, or nullptr. Valid until the next Put or Erase. (The remembered case
  // inlines into the caller; the probe is a call.)
  __attribute__((always_inline)) V* Find(const K& key) {
    if (last_ != nullptr && last_key_ == key) return last_;
    return FindSlow(key);
  }

  __attribute__((always_inline)) void Put(const K& key, const V& value) {
    if (last_ != nullptr && last_key_ == key) {
      *last_ = value;
      return;
    }
    PutSlow(key, value);
  }

  // The value at `key`, inserted default-constructed if absent (one probe either way), and
  // whether it was inserted. Valid until the next Put or Erase.
  __attribute__((always_inline)) std::pair<V*, bool> FindOrInsert(const K& key) {
    if (last_ != nullptr && last_key_ == key) return {last_, false};
    return FindOrInsertSlow(key);
  }

  void Erase(const K& key) {
    if (last_ != nullptr && last_key_ == key) last_ = nullptr;
    map_.erase(key);
  }

  // Erases every element for which pred(key, value) holds.
  template <class Pred>
  void EraseIf(Pred pred) {
    last_ = nullptr;
    for (auto it = map_.begin(); it != map_.end();) {
      if (pred(it->first, it->second)) {
        map_.erase(it++);
      } else {
        ++it;
      }
    }
  }

  const Map& map() const { return map_; }
  auto begin() const { return map_.begin(); }
  auto end() const { return map_.end(); }
  auto find(const K& key) const { return map_.find(key); }
  bool contains(const K& key) const { return map_.contains(key); }
  const V& at(const K& key) const { return map_.at(key); }
  size_t size() const { return map_.size(); }
  bool empty() const { return map_.empty(); }

 private:
  V* FindSlow(const K& key) {
    auto it = map_.find(key);
    if (it == map_.end()) return nullptr;
    Remember(key, &it->second);
    return last_;
  }
  std::pair<V*, bool> FindOrInsertSlow(const K& key) {
    auto [it, inserted] = map_.try_emplace(key);
    Remember(key, &it->second);
    return {last_, inserted};
  }
  void PutSlow(const K& key, const V& value) {
    auto [it, inserted] = map_.insert_or_assign(key, value);
    Remember(key, &it->second);
  }

  void Remember(const K& key, V* value) {
    last_key_ = key;
    last_ = value;
  }

  Map map_;
  K last_key_{};
  V* last_ = nullptr;
};

}  // namespace pom::matcher
