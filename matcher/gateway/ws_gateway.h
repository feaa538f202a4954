// The trader WebSocket gateway inside pom-matcher (Boost.Beast; docs/websocket-api.md): JSON
// requests {"id","method","params"} answered {"id","result"} or {"id","error":{"code","message"}},
// session logon by signing a challenge, signed orders (the gateway never holds user keys),
// balances, open orders, order status, account proofs, and streams: books (snapshot, then
// deltas with a per-market sequence and a CRC32 of the top 10 levels), trades, the account's
// executions (each with its event's sequence and root), heartbeats.
//
// Threads: one I/O thread runs every connection and owns the market data. Commands go to the
// matcher's engine queue through GatewayBackend; answers and events come back as posts to the
// I/O thread, events in sequence order.
// Thread-safety: Publish may be called from any one thread (the engine's); Start/Stop from the
// owner.
#pragma once

#include <chrono>
#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/rules/proof.h"
#include "matcher/durable_matcher.h"

namespace pom::gateway {

using matcher::DurableMatcher;
using matcher::SubmitResult;

struct GatewayOptions {
  std::string listen = "127.0.0.1:8080";
  size_t max_frame_bytes = 16 * 1024;          // larger frames: close 1009
  double requests_per_second = 50;             // per connection (token bucket)
  double burst = 100;                          // bucket size per connection
  double account_requests_per_second = 100;    // per logged-on account, all its connections
  size_t max_subscriptions = 32;               // per connection
  size_t max_connections_per_address = 32;     // more: close 1013
  size_t max_queued_messages = 4096;           // per connection; past it books resync
  std::chrono::milliseconds heartbeat{1000};
  std::chrono::seconds idle_timeout{60};       // no traffic nor pong: the connection is dropped
  std::chrono::seconds handshake_timeout{30};  // no completed handshake (half-open): dropped
};

// Counters for metrics, written by the I/O thread and read by a scrape (relaxed atomics).
struct GatewayStats {
  static constexpr std::array<std::string_view, 14> kMethods = {
      "ping",   "logon", "markets",    "subscribe", "unsubscribe", "place",         "cancel",
      "amend",  "cancel_all", "balances", "open_orders", "order_status", "account_proof", "unknown"};
  static constexpr size_t kMethodCount = kMethods.size();
  static constexpr int kFirstErrorCode = 1000;
  static constexpr int kLastErrorCode = 1015;  // the last documented code (docs/websocket-api.md)
  static constexpr size_t kErrorCodes = 32;   // 1000..1031
  std::array<std::atomic<uint64_t>, kMethodCount> requests{};
  std::array<std::atomic<uint64_t>, kErrorCodes> errors{};
  std::atomic<uint64_t> resyncs{0};
  std::atomic<uint64_t> connections_opened{0};
  std::atomic<uint64_t> connections_closed{0};
};

// What the gateway needs from the matcher. Callbacks run on the engine thread.
class GatewayBackend {
 public:
  virtual ~GatewayBackend() = default;
  virtual const Bytes32& prover_id() const = 0;
  // Queues a signed command whose signature the gateway checked. `done` gets the result (or
  // an error status in it if the command could not be queued).
  virtual void Submit(rules::Command command, std::function<void(const SubmitResult&)> done) = 0;
  // Runs `query` on the engine thread (or answers Unavailable through `unavailable`).
  virtual void Query(std::function<void(DurableMatcher&)> query, std::function<void()> unavailable) = 0;
};

class Gateway {
 public:
  // Loads the books from `matcher`'s current state (call on the engine thread, or before it
  // starts) and starts listening. Errors: Unavailable if the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<Gateway>> Start(GatewayOptions options, GatewayBackend* backend,
                                                         const DurableMatcher& matcher);
  ~Gateway();

  int port() const;
  const GatewayStats& stats() const;
  // The events of one group commit, in sequence order (the engine thread, after the sync).
  void Publish(std::vector<std::shared_ptr<const rules::EventProof>> events);
  // Closes every connection with 1001 (going away) and stops the I/O thread. Idempotent. The
  // backend may still call back (posts are dropped) until the gateway is destroyed; destroy it
  // only after the backend stopped calling back.
  void Stop();

  class Impl;

 private:
  explicit Gateway(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pom::gateway
