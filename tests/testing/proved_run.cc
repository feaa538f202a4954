#include "tests/testing/proved_run.h"

#include <gtest/gtest.h>

#include "matcher/engine.h"

namespace pom::testing {

ProvedRun Prove(uint64_t seed, uint64_t events, bool sign) {
  workload::Options o;
  o.seed = seed;
  o.events = events;
  o.users = 12;
  o.markets = 2;
  o.sign = sign;
  ProvedRun r{workload::Generate(o), {}};
  matcher::EngineOptions eo;
  eo.prover_id = r.w.genesis.prover_id;
  eo.operator_account = r.w.genesis.operator_key;
  eo.check_signatures = sign;
  matcher::Engine engine(eo);
  for (const auto& b : r.w.genesis.chain_balances) EXPECT_TRUE(engine.CreditChain(b.user, b.currency, b.amount).ok());
  for (const rules::Command& c : r.w.commands) {
    absl::StatusOr<rules::EventProof> p = engine.Submit(c);
    EXPECT_TRUE(p.ok()) << p.status();
    if (p.ok()) r.proofs.push_back(std::move(*p));
  }
  return r;
}

}  // namespace pom::testing
