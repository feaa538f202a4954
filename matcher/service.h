// The pom-matcher daemon (docs/services.md): the durable matcher behind the gRPC service
// pom.v1.Matcher, plus grpc.health.v1 and reflection.
//
// Threads: one engine thread owns the DurableMatcher. gRPC handlers decode and check what they
// can, then put tasks on a bounded queue; the engine thread takes up to `max_batch` commands at
// a time, runs them as one group commit (DurableMatcher::SubmitBatch), answers each call, and
// wakes the proof feed. Queries (GetAccount, GetBook) run on the engine thread between batches,
// so they see one consistent state and root. The proof feed reads the proof store directly
// (FeedWriter, one position per subscriber). With a verifier address, a follower thread streams
// the verifier's deposit authorizations and queues each as a deposit; the duplicate index
// makes a re-delivered authorization a no-op, so each is sequenced exactly once.
// Thread-safety: Start/Shutdown from one thread; everything else is internal.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "matcher/durable_matcher.h"
#include "matcher/gateway/ws_gateway.h"
#include "matcher/metrics.h"

namespace pom::matcher {

struct MatcherServiceOptions {
  std::string listen = "127.0.0.1:50051";
  // The verifier whose authorizations this matcher follows; deposits then come only from it
  // (Submit refuses them). Empty: no follower; Submit takes deposits backed by the genesis.
  std::string verifier;
  size_t max_batch = 256;       // commands per group commit
  size_t queue_limit = 65'536;  // queued commands before Submit answers RESOURCE_EXHAUSTED
  uint32_t feed_batch = 256;    // proofs per feed message (a subscriber may ask for fewer)
  // Test only: the proof feed serves the proof of this sequence with its new root altered
  // (the stored proof is untouched). 0: off.
  uint64_t corrupt_proof_at = 0;
  // The trader WebSocket gateway (docs/websocket-api.md); empty listen address: none. The
  // matcher must be opened with keep_proofs.
  std::string ws_listen;
  gateway::GatewayOptions gateway;
  // Not owned; may be null. The matcher must have been opened with it as its observer too.
  MatcherMetrics* metrics = nullptr;
  // At shutdown, write a snapshot after the drain (restarts replay nothing).
  bool snapshot_on_shutdown = true;
};

class MatcherServer {
 public:
  // Takes the recovered matcher (opened with signatures_prechecked: this server verifies every
  // signature before queueing), starts the engine thread, the server and the follower.
  // Errors: Unavailable if the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<MatcherServer>> Start(std::unique_ptr<DurableMatcher> matcher,
                                                               MatcherServiceOptions options);
  ~MatcherServer();

  int port() const;
  int ws_port() const;  // 0 without a gateway
  // Readiness: "" while serving; the reason otherwise (halted).
  std::string Health() const;
  // The engine thread took work or woke up within the last 15 s (the systemd watchdog).
  bool EngineAlive() const;
  // Refreshes the sampled gauges of options.metrics (before a scrape).
  void SampleMetrics();
  // The drain: health NOT_SERVING, WebSockets closed with 1001 (going away), new commands refused
  // with UNAVAILABLE ("the matcher is stopping"), every queued command answered (so each
  // acknowledged one is durable), proof streams ended with UNAVAILABLE, a snapshot written, the
  // threads stopped. Idempotent; the destructor calls it.
  void Shutdown();

  class Impl;

 private:
  explicit MatcherServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pom::matcher
