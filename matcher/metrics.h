// pom-matcher's Prometheus metrics (docs/operations.md "Metrics"). Labels carry only small fixed
// sets (command kinds, reject codes, refusal reasons, WebSocket methods and error codes), never
// an account, order or hash. Counters and histograms are updated where the work happens (engine
// thread, gRPC threads); gauges and the gateway's counters are sampled at each scrape (Sample).
// Thread-safety: all methods are thread-safe.
#pragma once

#include <array>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "common/rules/commands.h"
#include "common/rules/types.h"
#include "matcher/durable_matcher.h"
#include "matcher/gateway/ws_gateway.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace pom::matcher {

// Why a command was not sequenced (the label values of pom_matcher_refused_total).
enum class Refusal { kBadSignature, kDuplicate, kQueueFull, kStopping, kInvalid, kHalted, kCount };

class MatcherMetrics final : public DurableMatcherObserver {
 public:
  explicit MatcherMetrics(prometheus::Registry& registry);

  // ---- DurableMatcherObserver (engine thread) ----
  void OnEvent(double seconds, size_t proof_bytes) override;
  void OnJournalSync(double seconds) override;
  void OnSnapshot(double seconds) override;

  void Sequenced(rules::CommandKind kind, rules::RejectCode reject);
  void Refused(Refusal reason);
  void Answered(std::chrono::steady_clock::time_point enqueued);  // pom_matcher_submit_seconds

  // The sampled values, set before each scrape.
  struct Sampled {
    uint64_t queue_depth = 0;
    uint64_t sequence = 0;
    uint64_t proof_subscribers = 0;
    bool halted = false;
    double recovery_seconds = 0;
    uint64_t recovery_replayed = 0;
  };
  void Sample(const Sampled& values, const gateway::GatewayStats* gateway);

  prometheus::Gauge& ready() { return ready_; }

 private:
  prometheus::Family<prometheus::Counter>& events_family_;
  prometheus::Family<prometheus::Counter>& rejects_family_;
  prometheus::Family<prometheus::Counter>& refused_family_;
  std::array<prometheus::Counter*, 8> events_{};
  std::array<prometheus::Counter*, rules::kRejectCodeMax + 1> rejects_{};
  std::array<prometheus::Counter*, static_cast<size_t>(Refusal::kCount)> refused_{};
  prometheus::Histogram& proof_build_;
  prometheus::Counter& proof_bytes_;
  prometheus::Histogram& submit_;
  prometheus::Counter& journal_syncs_;
  prometheus::Histogram& journal_sync_;
  prometheus::Counter& snapshots_;
  prometheus::Gauge& queue_depth_;
  prometheus::Gauge& sequence_;
  prometheus::Gauge& proof_subscribers_;
  prometheus::Gauge& ws_connections_;
  prometheus::Family<prometheus::Counter>& ws_requests_family_;
  prometheus::Family<prometheus::Counter>& ws_errors_family_;
  prometheus::Counter& ws_resyncs_;
  prometheus::Gauge& ready_;
  prometheus::Gauge& halted_;
  prometheus::Gauge& recovery_seconds_;
  prometheus::Gauge& recovery_replayed_;

  // Gateway counters are cumulative atomics; the scrape adds what changed since the last one.
  std::mutex sample_mu_;
  std::array<uint64_t, gateway::GatewayStats::kMethodCount> seen_requests_{};
  std::array<uint64_t, gateway::GatewayStats::kErrorCodes> seen_errors_{};
  uint64_t seen_resyncs_ = 0;
};

std::string_view CommandKindLabel(rules::CommandKind kind);

}  // namespace pom::matcher
