// The admin HTTP endpoint of a daemon (docs/operations.md "Metrics and health"), on its own
// port and I/O thread (Boost.Beast), apart from the trading and proof traffic:
//   GET /metrics  Prometheus text format 0.0.4 from the registry (with a token configured, only
//                 with "Authorization: Bearer <token>", else 401)
//   GET /livez    200 "ok" while the process runs
//   GET /readyz   200 "ready" when `readiness` returns "", else 503 with its reason
// Anything else: 404 (unknown path) or 405 (not GET or HEAD). Requests are small and bounded
// (8 KiB header, 5 s per request); one request per connection.
// Thread-safety: Start/Stop from one thread; `readiness` and `before_scrape` run on the I/O thread.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "prometheus/registry.h"

namespace pom::ops {

struct AdminOptions {
  std::string listen = "127.0.0.1:9151";  // host:port; port 0 picks a free one
  std::string metrics_token;              // empty: /metrics is open
};

class AdminServer {
 public:
  // `before_scrape` (may be empty) refreshes sampled gauges before each /metrics.
  // Errors: InvalidArgument for a bad address, Unavailable if it cannot be bound.
  static absl::StatusOr<std::unique_ptr<AdminServer>> Start(AdminOptions options,
                                                             std::shared_ptr<prometheus::Registry> registry,
                                                             std::function<std::string()> readiness,
                                                             std::function<void()> before_scrape = {});
  ~AdminServer();
  int port() const;
  void Stop();  // idempotent

  class Impl;

 private:
  explicit AdminServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Splits "host:port" (IPv6 hosts in brackets). Errors: InvalidArgument naming the address.
absl::Status SplitHostPort(const std::string& address, std::string* host, uint16_t* port);

}  // namespace pom::ops
