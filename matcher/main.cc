// pom-matcher: the prover. For now one subcommand, `demo`; the engine, replay, services and
// gateway arrive with their issues.
#include <cstdio>
#include <cstring>

#include "matcher/demo.h"

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "demo") == 0) {
    const absl::Status s = pom::matcher::RunDemo();
    if (!s.ok()) {
      std::fprintf(stderr, "pom-matcher demo: %s\n", s.ToString().c_str());
      return 1;
    }
    return 0;
  }
  std::fprintf(stderr, "usage: pom-matcher demo\n");
  return 2;
}
