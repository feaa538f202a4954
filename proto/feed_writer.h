// A resumable server-streaming feed on gRPC's callback API (the proof feed and the
// authorization feed). Each subscriber is a FeedWriter with its own position; it writes one
// message at a time and asks for the next only when gRPC reports the previous one written, so a
// slow reader holds back only its own stream (backpressure through HTTP/2 flow control) and the
// producer never blocks. When a writer has caught up it waits for FeedHub::Notify, which the
// producer calls after it made new items readable; the hub's own thread does the waking, so the
// producer only sets a flag.
//
// Thread-safety: FeedHub is thread-safe. A FeedWriter serializes its callbacks with its mutex;
// `fetch` runs under that mutex (one call at a time per writer) on gRPC or hub threads.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "proto/rpc.h"

namespace pom::rpc {

class FeedHub {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    // Try to write more (new items may be readable), or finish if the hub closed.
    virtual void Wake() = 0;
  };

  FeedHub() : thread_([this] { Run(); }) {}
  ~FeedHub() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  // Producers: new items are readable. Cheap; never blocks on subscribers.
  void Notify() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      pending_ = true;
    }
    cv_.notify_one();
  }

  // Ends every stream (UNAVAILABLE) and refuses new ones: the server is stopping.
  void Close() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
      pending_ = true;
    }
    cv_.notify_one();
  }
  bool closed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return closed_;
  }

  void Add(Listener* l) {
    std::lock_guard<std::mutex> lock(listeners_mu_);
    listeners_.insert(l);
  }
  // After Remove returns, Wake is not running on `l` and will not be called again.
  void Remove(Listener* l) {
    std::lock_guard<std::mutex> lock(listeners_mu_);
    listeners_.erase(l);
  }
  size_t subscribers() const {
    std::lock_guard<std::mutex> lock(listeners_mu_);
    return listeners_.size();
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      cv_.wait(lock, [this] { return pending_ || stop_; });
      if (stop_) return;
      pending_ = false;
      lock.unlock();
      {
        std::lock_guard<std::mutex> l(listeners_mu_);
        for (Listener* listener : listeners_) listener->Wake();
      }
      lock.lock();
    }
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool pending_ = false;
  bool closed_ = false;
  bool stop_ = false;
  mutable std::mutex listeners_mu_;
  absl::flat_hash_set<Listener*> listeners_;
  std::thread thread_;
};

// Waits until every stream of `hub` has ended (after Close), or `timeout`.
inline void AwaitNoSubscribers(const FeedHub& hub, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (hub.subscribers() > 0 && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// Deletes itself when gRPC is done with it. `fetch` fills the next message from the writer's
// position and returns true, or false when there is nothing new yet; an error ends the stream
// with that status (e.g. OUT_OF_RANGE for a pruned position).
template <typename Response>
class FeedWriter final : public grpc::ServerWriteReactor<Response>, public FeedHub::Listener {
 public:
  using Fetch = std::function<absl::StatusOr<bool>(Response*)>;

  // Starts streaming (the first fetch runs on the hub's thread, so a Finish never races this
  // constructor). The caller returns the writer from its service method.
  FeedWriter(FeedHub* hub, Fetch fetch) : hub_(hub), fetch_(std::move(fetch)) {
    hub_->Add(this);
    hub_->Notify();
  }

  void Wake() override {
    std::lock_guard<std::mutex> lock(mu_);
    Pump();
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mu_);
    writing_ = false;
    if (!ok) {
      FinishOnce(grpc::Status(grpc::StatusCode::CANCELLED, "the stream ended"));
      return;
    }
    Pump();
  }

  void OnCancel() override {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_ = true;
    if (!writing_) FinishOnce(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    hub_->Remove(this);  // waits out a Wake in progress on the hub's thread
    delete this;
  }

 private:
  void Pump() {
    if (writing_ || finished_) return;
    if (cancelled_) {
      FinishOnce(grpc::Status::CANCELLED);
      return;
    }
    if (hub_->closed()) {
      FinishOnce(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is stopping"));
      return;
    }
    response_.Clear();
    absl::StatusOr<bool> more = fetch_(&response_);
    if (!more.ok()) {
      FinishOnce(ToGrpc(more.status()));
      return;
    }
    if (!*more) return;  // caught up: the next Notify wakes us
    writing_ = true;
    this->StartWrite(&response_);
  }

  void FinishOnce(const grpc::Status& status) {
    if (finished_) return;
    finished_ = true;
    this->Finish(status);
  }

  FeedHub* hub_;
  Fetch fetch_;
  std::mutex mu_;
  Response response_;
  bool writing_ = false;
  bool cancelled_ = false;
  bool finished_ = false;
};

}  // namespace pom::rpc
