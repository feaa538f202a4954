#include "bench/cycle_clock.h"

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

namespace pom::bench {

bool CycleClock::UsesTsc() {
#if defined(__x86_64__)
  static const bool uses = [] {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("flags", 0) != 0) continue;
      return line.find(" constant_tsc") != std::string::npos &&
             line.find(" nonstop_tsc") != std::string::npos;
    }
    return false;
  }();
  return uses;
#else
  return false;
#endif
}

int64_t CycleClock::MedianReadTicks() {
  std::vector<int64_t> d(100'001);
  for (int64_t& x : d) {
    const uint64_t a = Now();
    const uint64_t b = Now();
    x = static_cast<int64_t>(b - a);
  }
  std::nth_element(d.begin(), d.begin() + d.size() / 2, d.end());
  return d[d.size() / 2];
}

}  // namespace pom::bench
