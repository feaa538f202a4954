#include "bench/e2e.h"

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/daemon_bench.h"
#include "cli/client.h"
#include "common/status_macros.h"
#include "proto/codec.h"
#include "tests/testing/process.h"

namespace pom::bench {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

}  // namespace

absl::StatusOr<E2eResult> RunE2e(const E2eOptions& o) {
  if (o.users < o.clients || o.clients == 0) return absl::InvalidArgumentError("need users >= clients >= 1");
  BenchDir work("pom-e2e");
  const std::string dir = work.path();
  BenchAccounts accounts = WriteFundedGenesis(dir + "/genesis.json", o.seed, 0xe2, o.users);
  const std::vector<KeyPair>& users = accounts.users;
  std::vector<uint64_t>& nonces = accounts.nonces;

  const int mport = testing::FreePort();
  int vport = testing::FreePort();
  while (vport == mport) vport = testing::FreePort();
  const std::string maddr = absl::StrCat("127.0.0.1:", mport), vaddr = absl::StrCat("127.0.0.1:", vport);
  testing::Process verifier({o.bin_dir + "/pom-verifier", "serve", "--genesis", dir + "/genesis.json", "--data",
                             dir + "/verifier", "--listen", vaddr, "--matcher", maddr, "--admin-listen", "127.0.0.1:0"},
                            dir + "/verifier.out");
  testing::Process matcher({o.bin_dir + "/pom-matcher", "serve", "--genesis", dir + "/genesis.json", "--data",
                            dir + "/matcher", "--listen", maddr, "--verifier", vaddr, "--ws-listen", "127.0.0.1:0",
                            "--admin-listen", "127.0.0.1:0"},
                           dir + "/matcher.out");
  if (!verifier.WaitForOutput("listening", std::chrono::seconds(30)) ||
      !matcher.WaitForOutput("listening", std::chrono::seconds(30))) {
    return absl::UnavailableError(absl::StrCat("the daemons did not start: ", matcher.errors(), verifier.errors()));
  }
  client::Client setup(maddr, vaddr, milliseconds(30'000));

  // The market and the deposits, authorized at the verifier (untimed).
  POM_RETURN_IF_ERROR(CreateMarketAndDeposit(setup, accounts, kBenchUnit * 1'000'000, /*authorize=*/true));
  const uint64_t setup_events = 1 + 2ull * o.users;
  POM_RETURN_IF_ERROR(setup.WaitVerified(setup_events, milliseconds(120'000)).status());

  // Pre-signed orders around a mid price: about half of them cross.
  std::vector<std::vector<rules::Command>> per_client(o.clients);
  std::mt19937_64 rng(o.seed);
  for (uint64_t i = 0; i < o.events; ++i) {
    const uint32_t u = static_cast<uint32_t>(i % o.users);
    const rules::PlaceOrder p = BenchOrder(rng);
    rules::Command c;
    c.nonce = nonces[u]++;
    c.body = p;
    POM_RETURN_IF_ERROR(setup.Sign(users[u], c));
    per_client[u % o.clients].push_back(std::move(c));
  }

  // The verifier's head over time, polled, so each event's verification time is known.
  std::mutex heads_mu;
  std::vector<std::pair<Clock::time_point, uint64_t>> heads;
  std::atomic<bool> polling{true};
  std::vector<double> lags;  // matcher head - verifier head, in events, per poll
  std::thread poller([&] {
    client::Client c(maddr, vaddr, milliseconds(5000));
    while (polling) {
      absl::StatusOr<v1::MatcherStatus> m = c.MatcherStatus();
      absl::StatusOr<v1::Head> h = c.VerifierHead();
      if (h.ok()) {
        std::lock_guard<std::mutex> lock(heads_mu);
        heads.emplace_back(Clock::now(), h->sequence());
        if (m.ok()) lags.push_back(static_cast<double>(m->sequence()) - static_cast<double>(h->sequence()));
      }
      std::this_thread::sleep_for(milliseconds(1));
    }
  });

  struct Sent {
    Clock::time_point submitted;
    Clock::time_point acked;
    uint64_t sequence;
  };
  std::vector<std::vector<Sent>> sent(o.clients);
  std::atomic<uint64_t> errors{0};
  const Clock::time_point start = Clock::now();
  std::vector<std::thread> threads;
  for (uint32_t t = 0; t < o.clients; ++t) {
    threads.emplace_back([&, t] {
      client::Client c(maddr, vaddr, milliseconds(30'000));
      for (const rules::Command& command : per_client[t]) {
        const Clock::time_point before = Clock::now();
        absl::StatusOr<v1::SubmitResponse> r = c.Submit(command);
        if (!r.ok()) {
          ++errors;
          continue;
        }
        sent[t].push_back({before, Clock::now(), r->sequence()});
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const Clock::time_point acked_all = Clock::now();
  uint64_t last = 0;
  for (const auto& v : sent) {
    for (const Sent& s : v) last = std::max(last, s.sequence);
  }
  POM_RETURN_IF_ERROR(setup.WaitVerified(last, milliseconds(300'000)).status());
  const Clock::time_point verified_all = Clock::now();
  std::this_thread::sleep_for(milliseconds(5));
  polling = false;
  poller.join();

  E2eResult r;
  r.events = o.events - errors;
  r.errors = errors;
  r.seconds_acked = std::chrono::duration<double>(acked_all - start).count();
  r.seconds_verified = std::chrono::duration<double>(verified_all - start).count();
  std::vector<double> ack_us, verified_us;
  for (const auto& v : sent) {
    for (const Sent& s : v) {
      ack_us.push_back(std::chrono::duration<double, std::micro>(s.acked - s.submitted).count());
      auto it = std::lower_bound(heads.begin(), heads.end(), s.sequence,
                                 [](const auto& h, uint64_t seq) { return h.second < seq; });
      if (it != heads.end()) {
        verified_us.push_back(std::chrono::duration<double, std::micro>(it->first - s.submitted).count());
      }
    }
  }
  r.ack_p50_us = Percentile(ack_us, 0.5);
  r.ack_p99_us = Percentile(ack_us, 0.99);
  r.ack_p999_us = Percentile(ack_us, 0.999);
  r.verified_p50_us = Percentile(verified_us, 0.5);
  r.verified_p99_us = Percentile(verified_us, 0.99);
  r.verified_p999_us = Percentile(verified_us, 0.999);
  r.lag_p50_events = Percentile(lags, 0.5);
  r.lag_max_events = lags.empty() ? 0 : *std::max_element(lags.begin(), lags.end());
  matcher.Signal(SIGTERM);
  verifier.Signal(SIGTERM);
  if (matcher.Wait() != 0 || verifier.Wait() != 0) {
    return absl::InternalError(absl::StrCat("a daemon did not stop cleanly: ", matcher.errors(), verifier.errors()));
  }
  return r;
}

}  // namespace pom::bench
