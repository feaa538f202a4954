// The verifier's root pairs computed as a plan: each program is first run without hashing,
// producing the hashes it needs as jobs whose operands are literals (leaf values, siblings) or
// earlier jobs' digests; then every job of every planned program is hashed in waves, a wave
// being all the jobs whose operands are ready, four messages at a time (written straight into
// their padded blocks for Sha256Hasher::DigestPaddedTwoBlocks, else through Hasher::DigestMany).
//
// Why: run node by node, a program waits on each hash before the next (a path is a chain of
// hashes), so the CPU's SHA unit idles between two dependent hashes. The plan puts the
// independent hashes of different paths, lanes and programs side by side instead.
//
// The program rules and error messages are those of the interpreter in multiproof.h (RunProgram,
// which ComputeMultiproofRoot still uses); tests and the multiproof fuzz target compare the two.
// One difference is deliberate: the plan decides which nodes are empty before hashing, so it
// takes a digest never to be all zero (the interpreter would treat such a digest as an empty
// node). Finding a SHA-256 or BLAKE2b preimage of zero is infeasible.
// Thread-safety: a plan is one caller's.
#pragma once

#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "common/bytes.h"
#include "common/hash.h"
#include "common/smt/merge_value.h"

namespace pom::smt {

// A leaf's key and its value before and after an event (the verifier's case: one program
// proves both).
struct LeafChange {
  Bytes32 key;
  Bytes32 old_value;
  Bytes32 new_value;
};
struct RootPair {
  Bytes32 old_root;
  Bytes32 new_root;
};

namespace multiproof_internal {

// A 32-byte operand of a planned hash: >= 0 is that job's digest, < 0 the literal -1 - operand.
using PlanOperand = int32_t;

// A node value as MergeValue has it, with its 32-byte part as an operand.
struct PlanValue {
  bool mwz = false;       // a MergeWithZero (else a plain value)
  bool zero = false;      // a plain value that is all zero: the empty node
  uint8_t count = 0;      // mwz: levels lifted
  PlanOperand value = 0;  // plain: the value; mwz: the base
  int32_t hash_job = -1;  // mwz: the job hashing this value, once planned
  Bytes32 bits;           // mwz: zero bits
};

class RootPairPlan {
 public:
  using Operand = PlanOperand;

  // Plans the program `proof` over `leaves`; on success `*roots` names the old and the new root
  // once Evaluate() has run. On error nothing is planned. Errors: those of ComputeMultiproofRoot.
  // `proof` must stay alive until Evaluate() returns; `leaves` is kept by the plan.
  absl::Status Add(std::span<const uint8_t> proof, std::vector<LeafChange> leaves, std::array<Operand, 2>* roots);

  // Forgets every planned program (keeping the buffers for the next ones).
  void Clear();

  // Hashes every planned job, wave by wave.
  template <typename Hasher>
  void Evaluate(Hasher& hasher);

  // An operand's bytes. REQUIRES: Evaluate() has run.
  Bytes32 Resolve(Operand o) const;

  size_t jobs() const { return jobs_.size(); }

 private:
  enum class JobKind : uint8_t { kBase, kMergeZeros, kFork };
  struct Job {
    Bytes32 key;     // kBase: the node key; kMergeZeros: the zero bits; kFork: the parent path
    Operand a, b;    // kBase: the value; kMergeZeros: the base; kFork: left and right hash
    uint16_t wave;   // 1 + the highest wave among its job operands
    JobKind kind;
    uint8_t small;   // kBase, kFork: the height; kMergeZeros: the zero count
  };
  static_assert(sizeof(Job) == 44);
  using Sym = PlanValue;
  struct Item {
    int height;
    Bytes32 key;
    std::array<Sym, 2> v;
  };

  static bool Same(const Sym& a, const Sym& b);
  Operand Literal(const uint8_t* bytes) {
    literals_.push_back(bytes);
    return static_cast<Operand>(-static_cast<int32_t>(literals_.size()));
  }
  int32_t AddJob(JobKind kind, uint8_t small, const Bytes32& key, Operand a, Operand b = kNone);
  Operand HashOf(Sym& s);
  void Merge(int h, const Bytes32& parent, Sym& left, Sym& right, Sym& out);
  // out = the merge of each lane; `out` may be the storage of an operand.
  void MergeLanes(int h, const Bytes32& parent, std::array<Sym*, 2> left, std::array<Sym*, 2> right,
                  std::array<Sym, 2>& out);
  void Lift(Sym& v, int level, const Bytes32& path, int target);
  const uint8_t* OperandBytes(Operand o) const { return o >= 0 ? outputs_[o].data() : literals_[-1 - o]; }
  static constexpr Operand kNone = INT32_MIN;  // the unused operand of a one-operand job
  uint16_t WaveOf(Operand o) const { return o >= 0 ? jobs_[o].wave : 0; }
  // Writes job j's message into `buf`; returns its length.
  size_t WriteMessage(const Job& job, uint8_t* buf) const;

  std::vector<Job> jobs_;
  std::vector<Bytes32> outputs_;
  std::vector<const uint8_t*> literals_;
  std::vector<std::vector<LeafChange>> leaves_;  // each program's, sorted (literals point here)
  uint16_t waves_ = 0;
  Operand zero_ = kNone;  // the literal all-zero value
  std::vector<Item> stack_;                       // scratch for Add
  std::vector<uint32_t> order_;                   // scratch for Evaluate: jobs by wave
  std::vector<uint32_t> wave_start_, wave_next_;
  struct alignas(64) Block {
    std::array<uint8_t, 128> bytes;
    uint8_t* data() { return bytes.data(); }
  };
  std::vector<Block> blocks_;                     // one wave's messages, padded in place
  std::vector<HashJob> batch_;
  std::vector<const uint8_t*> block_ptrs_;
  std::vector<Bytes32*> out_ptrs_;
};

template <typename Hasher>
void RootPairPlan::Evaluate(Hasher& hasher) {
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

}  // namespace multiproof_internal
}  // namespace pom::smt
