// `pom-matcher demo`: a small end-to-end run of common/ (keys, money, tree, multiproof) that
// prints the roots of a demo state. Stands in for the matcher until the engine lands.
// Thread-safety: single-threaded.
#pragma once

#include "absl/status/status.h"

namespace pom::matcher {

// Builds a tree of demo account leaves with each hasher, proves all of them, checks the proof
// and prints the roots (the last line is `sha256 root=<hex>`).
absl::Status RunDemo();

}  // namespace pom::matcher
