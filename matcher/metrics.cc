#include "matcher/metrics.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "ops/metrics.h"

namespace pom::matcher {

namespace {

constexpr std::array<std::string_view, static_cast<size_t>(Refusal::kCount)> kRefusals = {
    "bad_signature", "duplicate", "queue_full", "stopping", "invalid", "halted"};

}  // namespace

std::string_view CommandKindLabel(rules::CommandKind kind) {
  switch (kind) {
    case rules::CommandKind::kPlaceOrder:
      return "place";
    case rules::CommandKind::kCancelOrder:
      return "cancel";
    case rules::CommandKind::kAmendOrder:
      return "amend";
    case rules::CommandKind::kWithdraw:
      return "withdraw";
    case rules::CommandKind::kDeposit:
      return "deposit";
    case rules::CommandKind::kCreateMarket:
      return "market_create";
    case rules::CommandKind::kUpdateMarket:
      return "market_update";
    case rules::CommandKind::kSetMarketStatus:
      return "market_status";
  }
  return "unknown";
}

MatcherMetrics::MatcherMetrics(prometheus::Registry& r)
    : events_family_(ops::AddCounterFamily(r, "pom_matcher_events_total", "Events sequenced (each with its proof), by command kind")),
      rejects_family_(ops::AddCounterFamily(r, "pom_matcher_rejects_total", "Sequenced events whose outcome is a business reject, by reject code")),
      refused_family_(ops::AddCounterFamily(r, "pom_matcher_refused_total", "Commands not sequenced, by reason")),
      proof_build_(ops::AddLatencyHistogram(r, "pom_matcher_proof_build_seconds",
                                "Per event: applying the rules and building the proof")),
      proof_bytes_(ops::AddCounter(r, "pom_matcher_proof_bytes_total", "Bytes of serialized proofs produced")),
      submit_(ops::AddLatencyHistogram(r, "pom_matcher_submit_seconds",
                           "Per command: queued to answered (includes the group commit's sync)")),
      journal_syncs_(ops::AddCounter(r, "pom_matcher_journal_syncs_total", "Journal syncs (one per group commit)")),
      journal_sync_(ops::AddLatencyHistogram(r, "pom_matcher_journal_sync_seconds", "Journal append and sync per group commit")),
      snapshots_(ops::AddCounter(r, "pom_matcher_snapshots_total", "State snapshots written")),
      queue_depth_(ops::AddGauge(r, "pom_matcher_queue_depth", "Commands and queries waiting for the engine thread")),
      sequence_(ops::AddGauge(r, "pom_matcher_sequence", "Sequence of the last event")),
      proof_subscribers_(ops::AddGauge(r, "pom_matcher_proof_subscribers", "Open proof-feed streams")),
      ws_connections_(ops::AddGauge(r, "pom_matcher_websocket_connections", "Open WebSocket connections")),
      ws_requests_family_(ops::AddCounterFamily(r, "pom_matcher_websocket_requests_total", "WebSocket requests, by method")),
      ws_errors_family_(ops::AddCounterFamily(r, "pom_matcher_websocket_errors_total", "WebSocket error replies, by error code (docs/websocket-api.md)")),
      ws_resyncs_(ops::AddCounter(r, "pom_matcher_websocket_resyncs_total", "Book resyncs sent to slow readers")),
      ready_(ops::AddGauge(r, "pom_matcher_ready", "1 when recovered, serving and not draining")),
      halted_(ops::AddGauge(r, "pom_matcher_halted", "1 when the matcher halted (fail-stop) and sequences nothing")),
      recovery_seconds_(ops::AddGauge(r, "pom_matcher_recovery_seconds", "Duration of the last recovery")),
      recovery_replayed_(ops::AddGauge(r, "pom_matcher_recovery_replayed_events",
                                  "Journal records replayed by the last recovery")) {
  for (uint8_t k = 0; k < events_.size(); ++k) {
    events_[k] = &events_family_.Add({{"kind", std::string(CommandKindLabel(static_cast<rules::CommandKind>(k)))}});
  }
  for (uint8_t c = 1; c < rejects_.size(); ++c) {
    rejects_[c] = &rejects_family_.Add({{"code", std::string(rules::RejectCodeName(static_cast<rules::RejectCode>(c)))}});
  }
  for (size_t i = 0; i < refused_.size(); ++i) refused_[i] = &refused_family_.Add({{"reason", std::string(kRefusals[i])}});
  // Every method and documented error code from the start, so each family is always exported.
  for (std::string_view method : gateway::GatewayStats::kMethods) {
    ws_requests_family_.Add({{"method", std::string(method)}});
  }
  for (int code = gateway::GatewayStats::kFirstErrorCode; code <= gateway::GatewayStats::kLastErrorCode; ++code) {
    ws_errors_family_.Add({{"code", absl::StrCat(code)}});
  }
}

void MatcherMetrics::OnEvent(double seconds, size_t proof_bytes) {
  proof_build_.Observe(seconds);
  proof_bytes_.Increment(static_cast<double>(proof_bytes));
}

void MatcherMetrics::OnJournalSync(double seconds) {
  journal_syncs_.Increment();
  journal_sync_.Observe(seconds);
}

void MatcherMetrics::OnSnapshot(double) { snapshots_.Increment(); }

void MatcherMetrics::Sequenced(rules::CommandKind kind, rules::RejectCode reject) {
  const auto k = static_cast<size_t>(kind);
  if (k < events_.size()) events_[k]->Increment();
  const auto c = static_cast<size_t>(reject);
  if (c != 0 && c < rejects_.size()) rejects_[c]->Increment();
}

void MatcherMetrics::Refused(Refusal reason) { refused_[static_cast<size_t>(reason)]->Increment(); }

void MatcherMetrics::Answered(std::chrono::steady_clock::time_point enqueued) {
  submit_.Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - enqueued).count());
}

void MatcherMetrics::Sample(const Sampled& v, const gateway::GatewayStats* g) {
  queue_depth_.Set(static_cast<double>(v.queue_depth));
  sequence_.Set(static_cast<double>(v.sequence));
  proof_subscribers_.Set(static_cast<double>(v.proof_subscribers));
  halted_.Set(v.halted ? 1 : 0);
  recovery_seconds_.Set(v.recovery_seconds);
  recovery_replayed_.Set(static_cast<double>(v.recovery_replayed));
  if (g == nullptr) return;
  std::lock_guard<std::mutex> lock(sample_mu_);
  const uint64_t opened = g->connections_opened.load(std::memory_order_relaxed);
  const uint64_t closed = g->connections_closed.load(std::memory_order_relaxed);
  ws_connections_.Set(static_cast<double>(opened >= closed ? opened - closed : 0));
  for (size_t i = 0; i < seen_requests_.size(); ++i) {
    const uint64_t now = g->requests[i].load(std::memory_order_relaxed);
    if (now > seen_requests_[i]) {
      ws_requests_family_.Add({{"method", std::string(gateway::GatewayStats::kMethods[i])}})
          .Increment(static_cast<double>(now - seen_requests_[i]));
      seen_requests_[i] = now;
    }
  }
  for (size_t i = 0; i < seen_errors_.size(); ++i) {
    const uint64_t now = g->errors[i].load(std::memory_order_relaxed);
    if (now > seen_errors_[i]) {
      ws_errors_family_.Add({{"code", absl::StrCat(gateway::GatewayStats::kFirstErrorCode + static_cast<int>(i))}})
          .Increment(static_cast<double>(now - seen_errors_[i]));
      seen_errors_[i] = now;
    }
  }
  const uint64_t resyncs = g->resyncs.load(std::memory_order_relaxed);
  if (resyncs > seen_resyncs_) {
    ws_resyncs_.Increment(static_cast<double>(resyncs - seen_resyncs_));
    seen_resyncs_ = resyncs;
  }
}

}  // namespace pom::matcher
