// pom-verifier: the light verifier.
//   pom-verifier check --proofs FILE --genesis FILE [--threads N] [--data DIR [--persist-every N]]
// With --data, the verifier's head (root, sequence, ledger) is kept in DIR: a run resumes after
// the stored sequence and commits the head every --persist-every proofs (default 1000), before
// reporting a rejection, and at the end.
// Exit 0 when every proof verifies (last lines: resumed_from=<seq>, root=<hex>, proofs=<n>, the
// proofs verified in this run); exit 1 naming the first failing sequence and its reason, or for
// an error (a data directory of another genesis or history, a corrupt store); exit 2 for usage
// errors.
//   pom-verifier serve --genesis FILE [--data DIR] [--listen HOST:PORT] [--matcher HOST:PORT]
//                      [--threads N]
// The daemon (docs/services.md): follows the matcher's proof feed, serves pom.v1.Verifier, and
// stops cleanly on SIGINT or SIGTERM (exit 0).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "common/flags.h"
#include "proto/rpc.h"
#include "verifier/check.h"
#include "verifier/daemon.h"

namespace {

int Usage() {
  std::fprintf(stderr,
               "usage: pom-verifier check --proofs FILE --genesis FILE [--threads N] "
               "[--data DIR [--persist-every N]]\n"
               "       pom-verifier serve --genesis FILE [--data DIR] [--listen HOST:PORT] "
               "[--matcher HOST:PORT] [--threads N]\n");
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

int RunServe(int argc, char** argv) {
  pom::rpc::BlockTerminationSignals();  // before any thread starts: only sigwait sees them
  pom::Flags flags({"genesis", "data", "listen", "matcher", "threads"}, {});
  if (absl::Status s = flags.Parse(argc, argv, 2); !s.ok()) {
    std::fprintf(stderr, "pom-verifier: %s\n", s.ToString().c_str());
    return Usage();
  }
  pom::verify::VerifierServiceOptions o;
  auto genesis = flags.Get("genesis");
  auto threads = flags.GetU64Or("threads", std::max(1u, std::thread::hardware_concurrency()));
  for (const absl::Status& s : {genesis.status(), threads.status()}) {
    if (!s.ok()) {
      std::fprintf(stderr, "pom-verifier: %s\n", s.ToString().c_str());
      return Usage();
    }
  }
  o.genesis_path = *genesis;
  o.data_dir = flags.GetOr("data", o.data_dir);
  o.listen = flags.GetOr("listen", o.listen);
  o.matcher = flags.GetOr("matcher", o.matcher);
  o.threads = static_cast<int>(std::clamp<uint64_t>(*threads, 1, 256));
  absl::StatusOr<std::unique_ptr<pom::verify::VerifierServer>> server = pom::verify::VerifierServer::Start(o);
  if (!server.ok()) {
    std::fprintf(stderr, "pom-verifier: %s\n", server.status().ToString().c_str());
    return 1;
  }
  std::printf("resumed_from=%llu\nlistening port=%d\n", static_cast<unsigned long long>((*server)->resumed_from()),
              (*server)->port());
  std::fflush(stdout);
  const int signal = pom::rpc::WaitForTerminationSignal();
  std::fprintf(stderr, "pom-verifier: signal %d: stopping\n", signal);
  (*server)->Shutdown();
  std::printf("stopped\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "check") == 0) return RunCheck(argc, argv);
  if (argc >= 2 && std::strcmp(argv[1], "serve") == 0) return RunServe(argc, argv);
  return Usage();
}
