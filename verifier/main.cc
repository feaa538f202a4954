// pom-verifier: the light verifier.
//   pom-verifier check --proofs FILE --genesis FILE [--threads N] [--data DIR [--persist-every N]]
// With --data, the verifier's head (root, sequence, ledger) is kept in DIR: a run resumes after
// the stored sequence and commits the head every --persist-every proofs (default 1000), before
// reporting a rejection, and at the end.
// Exit 0 when every proof verifies (last lines: resumed_from=<seq>, root=<hex>, proofs=<n>, the
// proofs verified in this run); exit 1 naming the first failing sequence and its reason, or for
// an error (a data directory of another genesis or history, a corrupt store); exit 2 for usage
// errors.
//   pom-verifier serve [--config FILE] [--print-config] [--genesis FILE] [flags]
//                      (serve --help lists them; docs/operations.md: TOML file < flags < POM_VERIFIER_*)
// The daemon (docs/services.md): follows the matcher's proof feed, serves pom.v1.Verifier, and
// stops cleanly on SIGINT or SIGTERM (exit 0).
#include <algorithm>
#include <atomic>
#include <optional>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/flags.h"
#include "ops/config.h"
#include "ops/daemon.h"
#include "ops/log.h"
#include "ops/metrics.h"
#include "proto/rpc.h"
#include "verifier/check.h"
#include "verifier/daemon.h"

namespace {

int Usage() {
  std::fprintf(stderr,
               "usage: pom-verifier check --proofs FILE --genesis FILE [--threads N] "
               "[--data DIR [--persist-every N]]\n"
               "       pom-verifier serve [--config FILE] [--print-config] [--genesis FILE] [flags]"
               "  (serve --help lists them)\n");
  return 2;
}

// The last lines of every completed run.
void PrintTail(const pom::verify::CheckResult& r) {
  std::printf("resumed_from=%llu\nroot=%s\nproofs=%llu\n", static_cast<unsigned long long>(r.resumed_from),
              pom::ToHex(r.root).c_str(), static_cast<unsigned long long>(r.proofs));
}

int RunCheck(int argc, char** argv) {
  pom::Flags flags({"proofs", "genesis", "threads", "data", "persist-every"}, {});
  if (absl::Status s = flags.Parse(argc, argv, 2); !s.ok()) {
    std::fprintf(stderr, "pom-verifier: %s\n", s.ToString().c_str());
    return Usage();
  }
  pom::verify::CheckOptions o;
  auto proofs = flags.Get("proofs");
  auto genesis = flags.Get("genesis");
  auto threads = flags.GetU64Or("threads", std::max(1u, std::thread::hardware_concurrency()));
  auto persist_every = flags.GetU64Or("persist-every", 1000);
  for (const absl::Status& s : {proofs.status(), genesis.status(), threads.status(), persist_every.status()}) {
    if (!s.ok()) {
      std::fprintf(stderr, "pom-verifier: %s\n", s.ToString().c_str());
      return Usage();
    }
  }
  o.proofs_path = *proofs;
  o.genesis_path = *genesis;
  o.threads = static_cast<int>(std::min<uint64_t>(*threads, 256));
  o.data_dir = flags.GetOr("data", "");
  if (*persist_every == 0) {
    std::fprintf(stderr, "pom-verifier: --persist-every must be at least 1\n");
    return Usage();
  }
  o.persist_every = *persist_every;
  absl::StatusOr<pom::verify::CheckResult> r = pom::verify::Check(o);
  if (!r.ok()) {
    std::fprintf(stderr, "pom-verifier: %s\n", r.status().ToString().c_str());
    return 1;
  }
  if (!r->verdict.ok()) {
    std::printf("rejected sequence=%llu reason=%s%s%s\n", static_cast<unsigned long long>(r->failed_sequence),
                std::string(pom::verify::RejectReasonName(r->verdict.reason)).c_str(),
                r->verdict.detail.empty() ? "" : " detail=", r->verdict.detail.c_str());
    PrintTail(*r);
    return 1;
  }
  PrintTail(*r);
  return 0;
}

pom::ops::ConfigSchema VerifierSchema() {
  pom::ops::ConfigSchema c("verifier");
  c.String("verifier.genesis", "genesis", "", "genesis file (the prover, the operator, chain-side balances)")
      .Required()
      .String("verifier.data", "data", "./var/verifier", "data directory (the verified head, authorizations)")
      .String("verifier.listen", "listen", "127.0.0.1:50052", "gRPC address (pom.v1.Verifier)")
      .String("verifier.matcher", "matcher", "127.0.0.1:50051", "the matcher whose proof feed it follows")
      .Integer("verifier.threads", "threads", std::max(1u, std::thread::hardware_concurrency()), 1, 256,
               "threads checking signatures");
  pom::ops::AddCommonKeys(c, "127.0.0.1:9152");
  return c;
}

int RunServe(int argc, char** argv) {
  pom::rpc::BlockTerminationSignals();  // before any thread starts: only sigwait sees them
  const pom::ops::ConfigSchema schema = VerifierSchema();
  int exit_code = 0;
  std::optional<pom::ops::Config> config =
      pom::ops::LoadOrExit(schema, "pom-verifier serve", argc, argv, 2, &exit_code);
  if (!config.has_value()) return exit_code;
  const pom::ops::Config& c = *config;
  auto registry = std::make_shared<prometheus::Registry>();
  prometheus::Gauge& ready = pom::ops::AddGauge(*registry, "pom_verifier_ready", "1 when recovered, serving and not draining");
  std::atomic<pom::verify::VerifierServer*> serving{nullptr};
  absl::StatusOr<std::unique_ptr<pom::ops::Lifecycle>> life = pom::ops::Lifecycle::Start(
      c, "pom-verifier", registry,
      [&] {
        if (pom::verify::VerifierServer* s = serving.load()) s->SampleMetrics();
      },
      &ready);
  if (!life.ok()) {
    std::fprintf(stderr, "pom-verifier: %s\n", life.status().ToString().c_str());
    return 1;
  }
  std::printf("admin port=%d\n", (*life)->admin_port());
  std::fflush(stdout);
  pom::verify::VerifierServiceOptions o;
  o.genesis_path = c.String("verifier.genesis");
  o.data_dir = c.String("verifier.data");
  o.listen = c.String("verifier.listen");
  o.matcher = c.String("verifier.matcher");
  o.threads = static_cast<int>(c.Integer("verifier.threads"));
  o.metrics = registry.get();
  absl::StatusOr<std::unique_ptr<pom::verify::VerifierServer>> server = pom::verify::VerifierServer::Start(o);
  if (!server.ok()) {
    pom::log::Error("start failed", {{"error", server.status().ToString()}});
    std::fprintf(stderr, "pom-verifier: %s\n", server.status().ToString().c_str());
    return 1;
  }
  pom::verify::VerifierServer* s = server->get();
  serving.store(s);
  std::printf("resumed_from=%llu\nlistening port=%d\n", static_cast<unsigned long long>(s->resumed_from()),
              s->port());
  std::fflush(stdout);
  pom::log::Info("serving", {{"grpc_port", s->port()}, {"resumed_from", s->resumed_from()}, {"matcher", o.matcher}});
  (*life)->Ready(absl::StrCat("verifying from ", s->resumed_from()), [s] { return s->Health(); },
                 [s] { return s->Alive(); });
  (*life)->WaitForStop();
  s->Shutdown();
  serving.store(nullptr);
  (*life)->Stopped();
  std::printf("stopped\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "check") == 0) return RunCheck(argc, argv);
  if (argc >= 2 && std::strcmp(argv[1], "serve") == 0) return RunServe(argc, argv);
  return Usage();
}
