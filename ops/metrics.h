// Helpers both daemons use to register Prometheus metrics (docs/operations.md "Metrics"): one
// unlabelled metric per family, and the latency buckets every histogram shares.
// Thread-safety: registration from one thread at start-up; the returned metrics are thread-safe.
#pragma once

#include <string>
#include <vector>

#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace pom::ops {

// Latency buckets in seconds, 5 µs to 10 s (about three per decade).
std::vector<double> LatencyBuckets();

prometheus::Counter& AddCounter(prometheus::Registry& r, const std::string& name, const std::string& help);
prometheus::Gauge& AddGauge(prometheus::Registry& r, const std::string& name, const std::string& help);
prometheus::Histogram& AddLatencyHistogram(prometheus::Registry& r, const std::string& name, const std::string& help);
// A family whose members the caller adds by label.
prometheus::Family<prometheus::Counter>& AddCounterFamily(prometheus::Registry& r, const std::string& name,
                                                          const std::string& help);

}  // namespace pom::ops
