// Real child processes for integration tests: spawn a binary with its stdout and stderr in
// files, wait for a line, signal it, reap it. Also a free loopback port.
// Thread-safety: a Process belongs to one thread.
#pragma once

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace pom::testing {

// The directory of the pom binaries (POM_BIN_DIR, set by ctest).
inline std::string BinDir() {
  const char* dir = std::getenv("POM_BIN_DIR");
  return dir != nullptr ? dir : "build/bin";
}

// A loopback port nobody listens on right now (bound and released; tests use it at once).
inline int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class Process {
 public:
  // Starts `args` (args[0]: the binary's path) with stdout to `out` and stderr to `out`.err;
  // `env` entries (NAME=value) are added to the environment.
  Process(std::vector<std::string> args, std::string out, std::vector<std::string> env = {})
      : out_(std::move(out)) {
    pid_ = ::fork();
    if (pid_ == 0) {
      if (std::freopen(out_.c_str(), "w", stdout) == nullptr) _exit(120);
      if (std::freopen((out_ + ".err").c_str(), "w", stderr) == nullptr) _exit(120);
      for (const std::string& e : env) ::putenv(const_cast<char*>(e.c_str()));
      std::vector<char*> argv;
      for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      _exit(121);
    }
  }
  ~Process() {
    if (running()) {
      Signal(SIGKILL);
      Wait();
    }
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  bool running() const { return pid_ > 0 && !reaped_; }
  void Signal(int sig) {
    if (running()) ::kill(pid_, sig);
  }
  // Reaps the process; returns its exit code, or 128 + signal if a signal ended it.
  int Wait() {
    if (!reaped_ && pid_ > 0) {
      int status = 0;
      ::waitpid(pid_, &status, 0);
      reaped_ = true;
      code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    return code_;
  }
  // True once stdout holds a line containing `text`; false on timeout or if the process exited.
  bool WaitForOutput(const std::string& text, std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      if (output().find(text) != std::string::npos) return true;
      int status = 0;
      if (!reaped_ && ::waitpid(pid_, &status, WNOHANG) == pid_) {
        reaped_ = true;
        code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return output().find(text) != std::string::npos;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  std::string output() const { return ReadFile(out_); }
  std::string errors() const { return ReadFile(out_ + ".err"); }

 private:
  std::string out_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  int code_ = -1;
};

}  // namespace pom::testing
