// Shared by the benchmarks that run the daemons as real processes (pom-bench e2e, load --ws):
// a temporary directory, a genesis whose users are funded on the chain side, the market 1/2,
// the users' deposits, the order mix, and percentiles.
// Thread-safety: plain functions and a value type; BenchDir belongs to one thread.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cli/client.h"
#include "common/ed25519.h"
#include "common/rules/commands.h"

namespace pom::bench {

inline constexpr rules::MarketId kBenchMarket{rules::Currency{1}, rules::Currency{2}};
inline constexpr u128 kBenchUnit = 1'000'000'000'000'000'000ull;  // 1.0

// A temporary directory, removed with everything in it when this goes.
class BenchDir {
 public:
  explicit BenchDir(const std::string& prefix);
  ~BenchDir();
  BenchDir(const BenchDir&) = delete;
  BenchDir& operator=(const BenchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct BenchAccounts {
  KeyPair op;
  std::vector<KeyPair> users;
  std::vector<uint64_t> nonces;  // each user's next nonce
};

// Writes `path` (a genesis: prover id and keys derived from `seed` and `tag`, each user with a
// billion of currencies 1 and 2 on the chain side) and returns the keys.
BenchAccounts WriteFundedGenesis(const std::string& path, uint64_t seed, uint8_t tag, uint32_t users);

// Creates market 1/2 (operator-signed) and deposits `amount` of both currencies for every user,
// through the verifier's Authorize or, for a standalone matcher, through Submit.
absl::Status CreateMarketAndDeposit(client::Client& client, BenchAccounts& accounts, u128 amount, bool authorize);

// A limit order of the benchmark mix: GTC (a quarter IOC), within 5 ticks of 100.00, 0.001 to
// 0.020 base, so about half of them trade.
rules::PlaceOrder BenchOrder(std::mt19937_64& rng);

// The q-quantile of `v` (sorts it); 0 for an empty vector.
double Percentile(std::vector<double>& v, double q);

}  // namespace pom::bench
