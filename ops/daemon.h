// What pom-matcher serve and pom-verifier serve share around their own work
// (docs/operations.md): the keys every daemon has (admin, log, shutdown), the admin endpoint,
// structured logs, readiness, systemd notification and the watchdog, and the drain deadline.
//
//   auto life = Lifecycle::Start(config, "pom-matcher", registry);   // logs, admin (not ready)
//   ... recover, start serving ...
//   life->Ready("serving at 12", alive);       // /readyz 200, READY=1, watchdog pings
//   int signal = life->WaitForStop();          // SIGTERM/SIGINT: /readyz 503, STOPPING=1, deadline armed
//   ... drain ...
//   life->Stopped();                           // deadline disarmed, admin stopped, logs flushed
//
// If the drain outlives shutdown.drain_timeout_seconds, the process logs it and exits with
// status 1 (every acknowledged command is already durable; nothing is lost by exiting).
// Thread-safety: Start/Ready/WaitForStop/Stopped from main; SetNotReady from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "ops/admin_server.h"
#include "ops/config.h"
#include "ops/systemd.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace pom::ops {

// Adds admin.listen, admin.metrics_token, log.level, log.format, log.file and
// shutdown.drain_timeout_seconds.
void AddCommonKeys(ConfigSchema& schema, const std::string& default_admin_listen);

// Loads the config for `program` (argv after the subcommand, the process environment) and handles
// --help and --print-config. Returns nullopt with `exit_code` set when the process should exit
// now (help, print-config: 0; a bad config: 2, with the problem on stderr).
std::optional<Config> LoadOrExit(const ConfigSchema& schema, const std::string& program, int argc, char** argv,
                                 int first, int* exit_code);

class Lifecycle {
 public:
  // Starts logging and the admin endpoint; /readyz answers 503 "recovering" until Ready.
  // `ready_gauge`: set to 1 while ready (may be null).
  static absl::StatusOr<std::unique_ptr<Lifecycle>> Start(const Config& config, const std::string& daemon,
                                                           std::shared_ptr<prometheus::Registry> registry,
                                                           std::function<void()> before_scrape,
                                                           prometheus::Gauge* ready_gauge);
  ~Lifecycle();

  int admin_port() const { return admin_->port(); }
  // `check`: extra readiness ("" when fine, else the reason: halted, store failed); `alive`: the
  // watchdog's liveness check.
  void Ready(const std::string& status, std::function<std::string()> check, std::function<bool()> alive);
  int WaitForStop();
  void Stopped();

 private:
  Lifecycle() = default;
  std::string Readiness();
  bool Alive();

  std::string daemon_;
  std::chrono::seconds drain_timeout_{10};
  std::unique_ptr<AdminServer> admin_;
  prometheus::Gauge* ready_gauge_ = nullptr;
  std::mutex mu_;
  std::string not_ready_ = "recovering";
  std::function<std::string()> check_;
  std::function<bool()> alive_;  // empty until Ready: recovering counts as alive
  std::unique_ptr<Watchdog> watchdog_;
  std::thread deadline_;
  std::condition_variable deadline_cv_;
  bool stopped_ = false;
};

}  // namespace pom::ops
