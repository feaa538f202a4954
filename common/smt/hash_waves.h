// The tree's hashes as a plan: each hash is first recorded as a job (one of the three messages
// of docs/protocol.md "The tree") whose 32-byte operands are literals or earlier jobs' digests;
// Evaluate() then hashes every job in waves, a wave being all the jobs whose operands are
// ready, several messages at a time (written straight into their padded blocks for
// Sha256Hasher::DigestPaddedTwoBlocks, else through Hasher::DigestMany).
//
// Why: computed one by one, a path's hashes form a chain and the CPU's SHA unit idles between
// two dependent hashes. Planned, the independent hashes of different paths go side by side.
// Users: the verifier's root pairs (root_pair_plan.h) and the tree's updates (tree.h).
// Thread-safety: a plan is one caller's.
#pragma once

#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "common/bytes.h"
#include "common/hash.h"
#include "common/smt/merge_value.h"

namespace pom::smt {

// A 32-byte operand of a planned hash: >= 0 is that job's digest, < 0 the literal -1 - operand.
using HashOperand = int32_t;

class HashWaves {
 public:
  using Operand = HashOperand;
  static constexpr Operand kNone = INT32_MIN;  // the unused operand of a one-operand job

  enum class Kind : uint8_t {
    kBase,        // H(height || key || a): small = height, key = node key, a = value
    kMergeZeros,  // H(0x02 || a || key || small): a = base, key = zero bits, small = count
    kFork,        // H(0x01 || small || key || a || b): small = height, key = parent path
  };

  // A literal the caller keeps alive, unchanged, until Evaluate() returns.
  Operand Literal(const uint8_t* bytes) {
    literals_.push_back(bytes);
    return static_cast<Operand>(-static_cast<int32_t>(literals_.size()));
  }
  // A literal the plan keeps a copy of.
  Operand Copy(const Bytes32& bytes);

  // Plans one hash; returns its operand.
  Operand Add(Kind kind, uint8_t small, const Bytes32& key, Operand a, Operand b = kNone);

  // What has been planned so far, to drop what a failed caller planned after it.
  struct Mark {
    size_t jobs, literals, copies;
    uint16_t waves;
  };
  Mark mark() const { return {jobs_.size(), literals_.size(), copies_, waves_}; }
  void Rollback(const Mark& m);

  // Forgets every job and literal (keeping the buffers).
  void Clear();

  template <typename Hasher>
  void Evaluate(Hasher& hasher);

  // An operand's bytes. REQUIRES: a literal, or Evaluate() has run since its job was added.
  const uint8_t* Bytes(Operand o) const { return o >= 0 ? outputs_[o].data() : literals_[-1 - o]; }
  Bytes32 Resolve(Operand o) const;

  size_t jobs() const { return jobs_.size(); }

 private:
  struct Job {
    Bytes32 key;
    Operand a, b;
    uint16_t wave;  // 1 + the highest wave among its job operands
    Kind kind;
    uint8_t small;
  };
  static_assert(sizeof(Job) == 44);
  uint16_t WaveOf(Operand o) const { return o >= 0 ? jobs_[o].wave : 0; }
  // Writes a job's message into `buf`; returns its length.
  size_t WriteMessage(const Job& job, uint8_t* buf) const;

  std::vector<Job> jobs_;
  std::vector<Bytes32> outputs_;
  std::vector<const uint8_t*> literals_;
  uint16_t waves_ = 0;
  // Copied literals, in chunks that never move (kept across Clear).
  static constexpr size_t kCopyChunk = 256;
  std::vector<std::unique_ptr<std::array<Bytes32, kCopyChunk>>> copy_chunks_;
  size_t copies_ = 0;
  // Evaluate's scratch.
  std::vector<uint32_t> order_;
  std::vector<uint32_t> wave_start_, wave_next_;
  struct alignas(64) Block {
    std::array<uint8_t, 128> bytes;
    uint8_t* data() { return bytes.data(); }
  };
  std::vector<Block> blocks_;  // one wave's messages, padded in place
  std::vector<HashJob> batch_;
  std::vector<const uint8_t*> block_ptrs_;
  std::vector<Bytes32*> out_ptrs_;
};

template <typename Hasher>
void HashWaves::Evaluate(Hasher& hasher) {
  outputs_.resize(jobs_.size());
  // Jobs by wave (a counting sort), then one batch per wave.
  std::vector<uint32_t>& start = wave_start_;
  start.assign(static_cast<size_t>(waves_) + 2, 0);
  for (const Job& j : jobs_) ++start[j.wave + 1];
  for (size_t w = 1; w < start.size(); ++w) start[w] += start[w - 1];
  order_.resize(jobs_.size());
  wave_next_.assign(start.begin(), start.end() - 1);
  for (uint32_t i = 0; i < jobs_.size(); ++i) order_[wave_next_[jobs_[i].wave]++] = i;
  // Every tree message is two blocks long: a hasher that takes messages padded in place gets
  // them written straight into their blocks.
  constexpr bool kPadded = requires(Hasher& h, std::span<const uint8_t* const> b, std::span<Bytes32* const> o) {
    h.DigestPaddedTwoBlocks(b, o);
  };
  for (size_t w = 1; w + 1 < start.size(); ++w) {
    const uint32_t first = start[w], last = start[w + 1];
    if (first == last) continue;
    blocks_.resize(std::max<size_t>(blocks_.size(), last - first));
    batch_.clear();
    block_ptrs_.clear();
    out_ptrs_.clear();
    for (uint32_t k = first; k < last; ++k) {
      const uint32_t j = order_[k];
      uint8_t* buf = blocks_[k - first].data();
      const size_t len = WriteMessage(jobs_[j], buf);
      if constexpr (kPadded) {
        Hasher::PadTwoBlocks(buf, len);
        block_ptrs_.push_back(buf);
        out_ptrs_.push_back(&outputs_[j]);
      } else {
        batch_.push_back({std::span<const uint8_t>(buf, len), &outputs_[j]});
      }
    }
    if constexpr (kPadded) {
      hasher.DigestPaddedTwoBlocks(block_ptrs_, out_ptrs_);
    } else {
      hasher.DigestMany(batch_);
    }
  }
}

}  // namespace pom::smt
