#include "bench/daemon_bench.h"

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "common/status_macros.h"
#include "proto/codec.h"

namespace pom::bench {
namespace {

KeyPair KeyFor(uint64_t seed, uint8_t tag, uint32_t index) {
  Bytes32 s;
  for (int i = 0; i < 8; ++i) s[i] = static_cast<uint8_t>(seed >> (8 * i));
  for (int i = 0; i < 4; ++i) s[8 + i] = static_cast<uint8_t>(index >> (8 * i));
  s[31] = tag;
  return KeyPairFromSeed(s);
}

}  // namespace

BenchDir::BenchDir(const std::string& prefix) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  path_ = ::mkdtemp(tmpl.data());
}

BenchDir::~BenchDir() { std::filesystem::remove_all(path_); }

BenchAccounts WriteFundedGenesis(const std::string& path, uint64_t seed, uint8_t tag, uint32_t users) {
  BenchAccounts accounts;
  accounts.op = KeyFor(seed, tag, 0xffffffff);
  codec::Genesis genesis;
  genesis.prover_id[0] = tag;
  genesis.operator_key = accounts.op.public_key;
  for (uint32_t u = 0; u < users; ++u) {
    accounts.users.push_back(KeyFor(seed, tag, u));
    for (uint32_t c : {1u, 2u}) {
      genesis.chain_balances.push_back(
          {accounts.users.back().public_key, rules::Currency{c}, Amount::FromRaw(kBenchUnit * 1'000'000'000)});
    }
  }
  accounts.nonces.assign(users, 1);
  std::ofstream(path) << codec::GenesisToJson(genesis);
  return accounts;
}

absl::Status CreateMarketAndDeposit(client::Client& client, BenchAccounts& accounts, u128 amount, bool authorize) {
  rules::Command create;
  rules::MarketRecord params;
  params.status = rules::MarketStatus::kOpen;
  params.price_decimals = 2;
  params.amount_decimals = 3;
  params.maker_fee_ppm = 100;
  params.taker_fee_ppm = 200;
  params.max_makers = 20;
  create.body = rules::CreateMarket{kBenchMarket, params};
  POM_RETURN_IF_ERROR(client.Sign(accounts.op, create));
  POM_RETURN_IF_ERROR(client.Submit(create).status());
  for (size_t u = 0; u < accounts.users.size(); ++u) {
    for (uint32_t c : {1u, 2u}) {
      rules::Command d;
      d.nonce = accounts.nonces[u]++;
      d.body = rules::Deposit{rules::Currency{c}, Amount::FromRaw(amount)};
      POM_RETURN_IF_ERROR(client.Sign(accounts.users[u], d));
      POM_RETURN_IF_ERROR(authorize ? client.Authorize(d).status() : client.Submit(d).status());
    }
  }
  return absl::OkStatus();
}

rules::PlaceOrder BenchOrder(std::mt19937_64& rng) {
  rules::PlaceOrder p;
  p.market = kBenchMarket;
  p.side = rng() % 2 ? rules::Side::kBuy : rules::Side::kSell;
  const int64_t offset = static_cast<int64_t>(rng() % 11) - 5;
  const u128 ticks = static_cast<u128>(10'000 + (p.side == rules::Side::kBuy ? -offset : offset));
  p.price = Price::FromRaw(ticks * (kBenchUnit / 100));
  p.amount = Amount::FromRaw(static_cast<u128>(1 + rng() % 20) * (kBenchUnit / 1000));
  p.time_in_force = rng() % 4 == 0 ? rules::TimeInForce::kIoc : rules::TimeInForce::kGtc;
  return p;
}

double Percentile(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

}  // namespace pom::bench
