#include "ops/daemon.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "ops/log.h"
#include "proto/rpc.h"

namespace pom::ops {

void AddCommonKeys(ConfigSchema& schema, const std::string& default_admin_listen) {
  schema.String("admin.listen", "admin-listen", default_admin_listen,
                "HTTP address for /metrics, /livez and /readyz (port 0: any free port)");
  schema.String("admin.metrics_token", "metrics-token", "",
                "bearer token that /metrics requires (empty: none)")
      .Secret();
  schema.String("log.level", "log-level", "info", "trace, debug, info, warn or error")
      .Choices({"trace", "debug", "info", "warn", "error"});
  schema.String("log.format", "log-format", "json", "json (one object per line) or text").Choices({"json", "text"});
  schema.String("log.file", "log-file", "", "append logs to this file (empty: stderr)");
  schema.Integer("shutdown.drain_timeout_seconds", "drain-timeout", 10, 1, 3600,
                 "on SIGTERM, the longest the drain may take before the process exits with status 1");
}

std::optional<Config> LoadOrExit(const ConfigSchema& schema, const std::string& program, int argc, char** argv,
                                 int first, int* exit_code) {
  std::vector<std::string> args(argv + first, argv + argc);
  absl::StatusOr<Config> config = LoadConfig(schema, program, args, ProcessEnvironment());
  if (!config.ok()) {
    std::fprintf(stderr, "%s: %s\n", program.c_str(), std::string(config.status().message()).c_str());
    *exit_code = 2;
    return std::nullopt;
  }
  if (config->help()) {
    std::fputs(config->help_text().c_str(), stdout);
    *exit_code = 0;
    return std::nullopt;
  }
  if (config->print_config()) {
    std::fputs(config->Render().c_str(), stdout);
    *exit_code = 0;
    return std::nullopt;
  }
  return *std::move(config);
}

absl::StatusOr<std::unique_ptr<Lifecycle>> Lifecycle::Start(const Config& config, const std::string& daemon,
                                                            std::shared_ptr<prometheus::Registry> registry,
                                                            std::function<void()> before_scrape,
                                                            prometheus::Gauge* ready_gauge) {
  if (absl::Status s = log::Init(daemon, config.String("log.level"), config.String("log.format"),
                                 config.String("log.file"));
      !s.ok()) {
    return s;
  }
  std::unique_ptr<Lifecycle> life(new Lifecycle);
  life->daemon_ = daemon;
  life->drain_timeout_ = std::chrono::seconds(config.Integer("shutdown.drain_timeout_seconds"));
  life->ready_gauge_ = ready_gauge;
  if (ready_gauge != nullptr) ready_gauge->Set(0);
  AdminOptions admin;
  admin.listen = config.String("admin.listen");
  admin.metrics_token = config.String("admin.metrics_token");
  Lifecycle* raw = life.get();
  absl::StatusOr<std::unique_ptr<AdminServer>> server =
      AdminServer::Start(admin, std::move(registry), [raw] { return raw->Readiness(); }, std::move(before_scrape));
  if (!server.ok()) return server.status();
  life->admin_ = *std::move(server);
  log::Info("starting", {{"admin_port", life->admin_->port()}, {"config_file", config.file()}});
  for (const std::string& name : UnknownEnvironment(config.schema())) {
    log::Warn("ignoring an environment variable that is no configuration key", {{"name", name}});
  }
  NotifyStatus("recovering");
  // systemd's watchdog runs from the start: a long recovery pings too (TimeoutStartSec bounds it).
  life->watchdog_ = std::make_unique<Watchdog>([raw] { return raw->Alive(); });
  return life;
}

Lifecycle::~Lifecycle() { Stopped(); }

std::string Lifecycle::Readiness() {
  std::function<std::string()> check;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!not_ready_.empty()) return not_ready_;
    check = check_;
  }
  return check ? check() : std::string();
}

bool Lifecycle::Alive() {
  std::function<bool()> alive;
  {
    std::lock_guard<std::mutex> lock(mu_);
    alive = alive_;
  }
  return !alive || alive();
}

void Lifecycle::Ready(const std::string& status, std::function<std::string()> check, std::function<bool()> alive) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    not_ready_.clear();
    check_ = std::move(check);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    alive_ = std::move(alive);
  }
  if (ready_gauge_ != nullptr) ready_gauge_->Set(1);
  NotifyReady(status);
  log::Info("ready", {{"status", status}, {"watchdog", watchdog_->enabled()}});
}

int Lifecycle::WaitForStop() {
  const int signal = rpc::WaitForTerminationSignal();
  {
    std::lock_guard<std::mutex> lock(mu_);
    not_ready_ = "draining";
  }
  if (ready_gauge_ != nullptr) ready_gauge_->Set(0);
  NotifyStopping("draining");
  log::Info("draining", {{"signal", signal}, {"drain_timeout_seconds", static_cast<int64_t>(drain_timeout_.count())}});
  deadline_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    if (deadline_cv_.wait_for(lock, drain_timeout_, [this] { return stopped_; })) return;
    log::Error("drain deadline passed; exiting with status 1",
               {{"drain_timeout_seconds", static_cast<int64_t>(drain_timeout_.count())}});
    std::fprintf(stderr, "%s: drain deadline passed; exiting with status 1\n", daemon_.c_str());
    log::Flush();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::_Exit(1);
  });
  return signal;
}

void Lifecycle::Stopped() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  deadline_cv_.notify_all();
  if (deadline_.joinable()) deadline_.join();
  watchdog_.reset();
  if (admin_) admin_->Stop();
  log::Info("stopped");
  log::Shutdown();
}

}  // namespace pom::ops
