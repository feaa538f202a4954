#include "ops/systemd.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "systemd/sd-daemon.h"

namespace pom::ops {

namespace {

// sd_notify(3)'s protocol, sent without blocking: libsystemd's sd_notify uses a blocking
// sendmsg, and a notify socket that is not being read (a stuck supervisor, a test harness) would
// then stall the caller, the main thread in a drain included. A message that does not fit in the
// socket's queue is dropped (systemd reads its queue promptly; a dropped WATCHDOG=1 is followed
// by the next one).
void Send(const std::string& message) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || path[0] == '\0') return;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const size_t length = std::strlen(path);
  if (length >= sizeof(address.sun_path)) return;
  std::memcpy(address.sun_path, path, length);
  if (path[0] == '@') address.sun_path[0] = '\0';  // the abstract namespace
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return;
  (void)::sendto(fd, message.data(), message.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
                 reinterpret_cast<const sockaddr*>(&address),
                 static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + length));
  ::close(fd);
}

}  // namespace

void NotifyReady(std::string_view status) { Send(absl::StrCat("READY=1\nSTATUS=", std::string(status))); }

void NotifyStopping(std::string_view status) { Send(absl::StrCat("STOPPING=1\nSTATUS=", std::string(status))); }

void NotifyStatus(std::string_view status) { Send(absl::StrCat("STATUS=", std::string(status))); }

Watchdog::Watchdog(std::function<bool()> alive) : alive_(std::move(alive)) {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return;
  interval_ = std::chrono::microseconds(usec / 2);
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      if (alive_()) Send("WATCHDOG=1");
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
