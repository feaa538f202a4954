// A reproducible workload of signed commands (pom-bench gen): market creation, deposits, and a
// mix of limit (GTC, IOC, FOK, post-only), market, cancel, amend, withdraw and deposit commands
// around a random-walking mid price per market, with a share of bad commands the rules must
// reject (off tick or lot, below minimum, unfunded, someone else's order, unknown market).
// Everything derives from the seed: user keys, the operator key, the prover id, the stream.
// Thread-safety: pure function of its options.
#pragma once

#include <cstdint>
#include <vector>

#include "common/rules/commands.h"
#include "proto/codec.h"

namespace pom::workload {

struct Options {
  uint64_t seed = 1;
  uint64_t events = 10'000;  // commands generated, setup included
  uint32_t users = 100;
  uint32_t markets = 2;
  bool sign = true;          // off: signatures left zero (for engines that skip the check)
};

struct Workload {
  codec::Genesis genesis;
  std::vector<rules::Command> commands;
  size_t setup_commands = 0;  // the leading market creation and initial deposits
};

Workload Generate(const Options& options);

// The keys Generate uses, for tools that need them again.
KeyPair OperatorKey(uint64_t seed);
KeyPair UserKey(uint64_t seed, uint32_t index);
Bytes32 ProverId(uint64_t seed);

}  // namespace pom::workload
