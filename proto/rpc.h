// gRPC plumbing shared by pom-matcher, pom-verifier, pom-cli and pom-bench: status conversion,
// client deadlines and channels, reconnect backoff, and server start-up with grpc.health.v1 and
// reflection. No pom state here.
// Thread-safety: free functions are thread-safe; a Backoff belongs to one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/bytes.h"
#include "grpcpp/grpcpp.h"

namespace pom::rpc {

// absl and gRPC share the canonical code numbers; messages are kept.
grpc::Status ToGrpc(const absl::Status& status);
absl::Status FromGrpc(const grpc::Status& status);

// A channel with keepalive (a dead peer is noticed within ~20 s) and a 64 MiB receive limit
// (proof batches). `address` is host:port.
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address);

// Every unary client call sets one (DEADLINE_EXCEEDED otherwise never comes).
inline void SetDeadline(grpc::ClientContext& context, std::chrono::milliseconds timeout) {
  context.set_deadline(std::chrono::system_clock::now() + timeout);
}
constexpr std::chrono::milliseconds kDefaultDeadline{5000};

// Exponential reconnect delay with jitter: 100 ms doubling to `max`; Reset after a success.
class Backoff {
 public:
  explicit Backoff(std::chrono::milliseconds max = std::chrono::milliseconds(5000), uint64_t seed = 1)
      : max_(max), rng_(seed) {}
  std::chrono::milliseconds Next();
  void Reset() { current_ = std::chrono::milliseconds(0); }

 private:
  std::chrono::milliseconds max_;
  std::chrono::milliseconds current_{0};
  std::mt19937_64 rng_;
};

// Builds and starts a server on `address` with the given services, the default
// grpc.health.v1 service (each name in `health_names` set SERVING, and the overall "" too), and
// reflection. Errors: Unavailable if the address cannot be bound.
struct StartedServer {
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};
absl::StatusOr<StartedServer> StartServer(const std::string& address,
                                          const std::vector<grpc::Service*>& services,
                                          const std::vector<std::string>& health_names);

// Wire bytes <-> fixed-size values, with a clear InvalidArgument naming the field.
inline std::string WireBytes(const Bytes32& b) { return std::string(reinterpret_cast<const char*>(b.data()), Bytes32::kSize); }
absl::StatusOr<Bytes32> Bytes32FromWire(const std::string& bytes, std::string_view field);

// Daemons: BlockTerminationSignals (first thing in main, before any thread) makes SIGINT and
// SIGTERM pending instead of fatal in every thread; WaitForTerminationSignal then returns the
// one that arrived, so shutdown runs on the main thread, not in a signal handler.
void BlockTerminationSignals();
int WaitForTerminationSignal();

}  // namespace pom::rpc
