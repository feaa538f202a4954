// The pom-verifier daemon (docs/services.md): follows the matcher's proof feed from its stored
// head, verifies every proof (signatures on worker threads, the root chain serially), commits
// the head (with the authorizations its deposits consumed) every 20 ms while it advances, and
// at once on a rejection and at shutdown; and serves pom.v1.Verifier (head, balances, deposit
// authorizations and their feed, status), grpc.health.v1 and reflection.
//
// On a rejected proof it stops following for good (this process), keeps and persists the last
// good head, and reports the faulty sequence and reason in Status. A broken connection is
// retried with exponential backoff from the stored head (no gap, no duplicate).
// Thread-safety: Start/Shutdown from one thread; everything else is internal.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "prometheus/registry.h"

namespace pom::verify {

struct VerifierServiceOptions {
  std::string genesis_path;
  std::string data_dir = "./var/verifier";
  std::string listen = "127.0.0.1:50052";
  std::string matcher = "127.0.0.1:50051";
  int threads = 2;  // signature checks
  bool check_signatures = true;
  // pom_verifier_* metrics are registered here (docs/operations.md); null: none.
  prometheus::Registry* metrics = nullptr;
};

class VerifierServer {
 public:
  // Opens the store (resuming its head), starts the server and the follower.
  // Errors: the genesis file's and the store's (verifier/store.h); Unavailable if the address
  // cannot be bound.
  static absl::StatusOr<std::unique_ptr<VerifierServer>> Start(VerifierServiceOptions options);
  ~VerifierServer();

  int port() const;
  uint64_t resumed_from() const;
  // Readiness: "" while it serves; the reason otherwise (its store failed). A rejected proof
  // does not make it unready: it keeps serving the last good head (pom_verifier_faulty says so).
  std::string Health() const;
  // The follower and committer threads are running or stopped on purpose (the watchdog).
  bool Alive() const;
  // Refreshes the sampled gauges (before a scrape).
  void SampleMetrics();
  // Stops following, ends the authorization streams with UNAVAILABLE, stops the server.
  // Idempotent; the destructor calls it.
  void Shutdown();

  class Impl;

 private:
  explicit VerifierServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pom::verify
