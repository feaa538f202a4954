#include "bench/cycle_clock.h"

#include <fstream>
#include <string>

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

}  // namespace pom::bench
