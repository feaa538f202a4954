#include "ops/metrics.h"

namespace pom::ops {

std::vector<double> LatencyBuckets() {
  return {5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3,
          1e-2, 2.5e-2, 5e-2, 0.1,  0.25, 0.5,    1,    2.5,  5,    10};
}

prometheus::Counter& AddCounter(prometheus::Registry& r, const std::string& name, const std::string& help) {
  return AddCounterFamily(r, name, help).Add({});
}

prometheus::Gauge& AddGauge(prometheus::Registry& r, const std::string& name, const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r).Add({});
}

prometheus::Histogram& AddLatencyHistogram(prometheus::Registry& r, const std::string& name, const std::string& help) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(r).Add({}, LatencyBuckets());
}

prometheus::Family<prometheus::Counter>& AddCounterFamily(prometheus::Registry& r, const std::string& name,
                                                          const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r);
}

}  // namespace pom::ops
