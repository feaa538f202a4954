// The verifier's root pairs computed as a plan: each program is first run without hashing,
// producing the hashes it needs as jobs whose operands are literals (leaf values, siblings) or
// earlier jobs' digests; then every job of every planned program is hashed in waves (hash_waves.h),
// a wave being all the jobs whose operands are ready, several messages at a time.
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
#include "common/smt/hash_waves.h"
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
using PlanOperand = HashOperand;

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
  void Evaluate(Hasher& hasher) {
    waves_.Evaluate(hasher);
  }

  // An operand's bytes. REQUIRES: Evaluate() has run.
  Bytes32 Resolve(Operand o) const { return waves_.Resolve(o); }

  size_t jobs() const { return waves_.jobs(); }

 private:
  using JobKind = HashWaves::Kind;
  using Sym = PlanValue;
  struct Item {
    int height;
    Bytes32 key;
    std::array<Sym, 2> v;
  };

  static bool Same(const Sym& a, const Sym& b);
  Operand Literal(const uint8_t* bytes) { return waves_.Literal(bytes); }
  int32_t AddJob(JobKind kind, uint8_t small, const Bytes32& key, Operand a, Operand b = kNone) {
    return waves_.Add(kind, small, key, a, b);
  }
  Operand HashOf(Sym& s);
  void Merge(int h, const Bytes32& parent, Sym& left, Sym& right, Sym& out);
  // out = the merge of each lane; `out` may be the storage of an operand.
  void MergeLanes(int h, const Bytes32& parent, std::array<Sym*, 2> left, std::array<Sym*, 2> right,
                  std::array<Sym, 2>& out);
  void Lift(Sym& v, int level, const Bytes32& path, int target);
  static constexpr Operand kNone = HashWaves::kNone;  // the unused operand of a one-operand job

  HashWaves waves_;
  std::vector<std::vector<LeafChange>> leaves_;  // each program's, sorted (literals point here)
  Operand zero_ = kNone;  // the literal all-zero value
  std::vector<Item> stack_;  // scratch for Add
};

}  // namespace multiproof_internal
}  // namespace pom::smt
