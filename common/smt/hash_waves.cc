#include "common/smt/hash_waves.h"

#include <cstring>

#include "common/check.h"

namespace pom::smt {

HashWaves::Operand HashWaves::Copy(const Bytes32& bytes) {
  const size_t chunk = copies_ / kCopyChunk;
  if (chunk == copy_chunks_.size()) {
    copy_chunks_.push_back(std::make_unique<std::array<Bytes32, kCopyChunk>>());
  }
  Bytes32& slot = (*copy_chunks_[chunk])[copies_ % kCopyChunk];
  ++copies_;
  slot = bytes;
  return Literal(slot.data());
}

HashWaves::Operand HashWaves::Add(Kind kind, uint8_t small, const Bytes32& key, Operand a, Operand b) {
  // Bounded by the tree's height (each job lifts or merges a node, at most ~3 jobs per level).
  const uint16_t below = std::max(WaveOf(a), WaveOf(b));
  POM_CHECK(below < UINT16_MAX);
  const uint16_t wave = static_cast<uint16_t>(below + 1);
  waves_ = std::max(waves_, wave);
  // Built in place: a Job assembled on the stack and copied costs a store-forwarding stall.
  Job& job = jobs_.emplace_back();
  job.key = key;
  job.a = a;
  job.b = b;
  job.wave = wave;
  job.kind = kind;
  job.small = small;
  return static_cast<Operand>(jobs_.size() - 1);
}

void HashWaves::Rollback(const Mark& m) {
  jobs_.resize(m.jobs);
  literals_.resize(m.literals);
  copies_ = m.copies;
  waves_ = m.waves;
}

void HashWaves::Clear() {
  jobs_.clear();
  literals_.clear();
  outputs_.clear();
  copies_ = 0;
  waves_ = 0;
}

size_t HashWaves::WriteMessage(const Job& job, uint8_t* buf) const {
  switch (job.kind) {
    case Kind::kBase:
      buf[0] = job.small;
      std::memcpy(buf + 1, job.key.data(), 32);
      std::memcpy(buf + 33, Bytes(job.a), 32);
      return kBaseNodeBytes;
    case Kind::kMergeZeros:
      buf[0] = kMergeZerosTag;
      std::memcpy(buf + 1, Bytes(job.a), 32);
      std::memcpy(buf + 33, job.key.data(), 32);
      buf[65] = job.small;
      return kMergeZerosBytes;
    case Kind::kFork:
      buf[0] = kMergeNormalTag;
      buf[1] = job.small;
      std::memcpy(buf + 2, job.key.data(), 32);
      std::memcpy(buf + 34, Bytes(job.a), 32);
      std::memcpy(buf + 66, Bytes(job.b), 32);
      return kForkBytes;
  }
  POM_CHECK_MSG(false, "unknown job kind");
  return 0;
}

Bytes32 HashWaves::Resolve(Operand o) const {
  Bytes32 out;
  std::memcpy(out.data(), Bytes(o), 32);
  return out;
}

}  // namespace pom::smt
