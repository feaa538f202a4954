// Per-operation latency percentiles for Google Benchmark suites: time each operation with
// steady_clock (about 20 ns of overhead per sample on this machine), then report p50, p90,
// p99, p99.9 and max in nanoseconds as user counters next to the suite's mean.
// Thread-safety: one recorder per benchmark thread.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

#include <benchmark/benchmark.h>

namespace pom::bench {

class LatencyRecorder {
 public:
  LatencyRecorder() { samples_.reserve(1 << 20); }

  void Start() { start_ = std::chrono::steady_clock::now(); }
  void Stop() {
    const auto end = std::chrono::steady_clock::now();
    samples_.push_back(
        std::chrono::duration_cast<std::chrono::nanoseconds>(end - start_).count());
  }

  void Report(benchmark::State& state) {
    if (samples_.empty()) return;
    std::sort(samples_.begin(), samples_.end());
    auto at = [&](double q) {
      const size_t i = std::min(samples_.size() - 1, static_cast<size_t>(q * samples_.size()));
      return static_cast<double>(samples_[i]);
    };
    state.counters["p50_ns"] = at(0.50);
    state.counters["p90_ns"] = at(0.90);
    state.counters["p99_ns"] = at(0.99);
    state.counters["p999_ns"] = at(0.999);
    state.counters["max_ns"] = static_cast<double>(samples_.back());
  }

 private:
  std::chrono::steady_clock::time_point start_;
  std::vector<int64_t> samples_;
};

}  // namespace pom::bench
