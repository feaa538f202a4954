#include "ops/systemd.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "systemd/sd-daemon.h"

namespace pom::ops {

void NotifyReady(std::string_view status) {
  sd_notify(0, absl::StrCat("READY=1\nSTATUS=", std::string(status)).c_str());
}

void NotifyStopping(std::string_view status) {
  sd_notify(0, absl::StrCat("STOPPING=1\nSTATUS=", std::string(status)).c_str());
}

void NotifyStatus(std::string_view status) { sd_notify(0, absl::StrCat("STATUS=", std::string(status)).c_str()); }

Watchdog::Watchdog(std::function<bool()> alive) : alive_(std::move(alive)) {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return;
  interval_ = std::chrono::microseconds(usec / 2);
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      if (alive_()) sd_notify(0, "WATCHDOG=1");
      cv_.wait_for(lock, interval_, [this] { return stop_; });
    }
  });
}

Watchdog::~Watchdog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace pom::ops
