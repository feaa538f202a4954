// A cheap interval clock for per-message timing: the CPU's time-stamp counter, read after an
// lfence (so earlier instructions finish first), ~17 ns per read on this VM against ~26 ns for
// steady_clock::now() (kvm-clock through the vDSO). Only where the kernel reports an invariant
// TSC (constant_tsc and nonstop_tsc in /proc/cpuinfo); otherwise it falls back to steady_clock.
// Ticks convert to nanoseconds with a rate measured against steady_clock over the caller's own
// run (Calibration), so no frequency is assumed.
// Thread-safety: Now() is safe anywhere; a Calibration belongs to one thread.
#pragma once

#include <chrono>
#include <cstdint>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace pom::bench {

class CycleClock {
 public:
  // True if Now() reads the TSC (decided once per process).
  static bool UsesTsc();

  static uint64_t Now() {
#if defined(__x86_64__)
    if (UsesTsc()) {
      _mm_lfence();
      return __rdtsc();
    }
#endif
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count());
  }

  // The median, over many back-to-back pairs of Now(), of the ticks between them: what one
  // read adds to an interval measured with two.
  static int64_t MedianReadTicks();

  // Ticks per nanosecond between Start() and NsPerTick(); call them at the start and end of
  // the timed run (longer runs give a better rate).
  class Calibration {
   public:
    void Start() {
      wall_ = std::chrono::steady_clock::now();
      ticks_ = Now();
    }
    double NsPerTick() const {
      const uint64_t ticks = Now() - ticks_;
      const double ns = static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                std::chrono::steady_clock::now() - wall_)
                                                .count());
      return ticks == 0 ? 1.0 : ns / static_cast<double>(ticks);
    }

   private:
    std::chrono::steady_clock::time_point wall_;
    uint64_t ticks_ = 0;
  };
};

}  // namespace pom::bench
