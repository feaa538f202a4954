// systemd's notify protocol (sd_notify(3)) for Type=notify units: READY=1 once recovery is done
// and the daemon serves, STOPPING=1 when a drain starts, STATUS= lines, and WATCHDOG=1 pings
// while the daemon's own liveness check passes. Without $NOTIFY_SOCKET (not under systemd)
// every call is a cheap no-op. Messages are sent without blocking (see systemd.cc); the watchdog
// interval comes from libsystemd's sd_watchdog_enabled ($WATCHDOG_USEC, $WATCHDOG_PID).
// Thread-safety: all functions are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string_view>
#include <thread>

namespace pom::ops {

void NotifyReady(std::string_view status);
void NotifyStopping(std::string_view status);
void NotifyStatus(std::string_view status);

// Pings WATCHDOG=1 every half of $WATCHDOG_USEC while `alive()` returns true; when it returns
// false the pings stop and systemd restarts the unit after WatchdogSec. Does nothing when the
// unit has no watchdog.
class Watchdog {
 public:
  explicit Watchdog(std::function<bool()> alive);
  ~Watchdog();  // stops the thread
  bool enabled() const { return interval_.count() > 0; }

 private:
  std::function<bool()> alive_;
  std::chrono::microseconds interval_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace pom::ops
