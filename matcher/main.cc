// pom-matcher: the prover.
//   pom-matcher replay --commands FILE [--genesis FILE] [--proofs-out FILE]
//   pom-matcher demo
#include <cstdio>
#include <cstring>
#include <string>

#include "common/flags.h"
#include "matcher/demo.h"
#include "matcher/replay.h"

namespace {

int Usage() {
  std::fprintf(stderr,
               "usage: pom-matcher replay --commands FILE [--genesis FILE] [--proofs-out FILE]\n"
               "       pom-matcher demo\n");
  return 2;
}

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "pom-matcher: %s\n", s.ToString().c_str());
  return 1;
}

int RunReplay(int argc, char** argv) {
  pom::Flags flags({"commands", "genesis", "proofs-out"}, {});
  if (absl::Status s = flags.Parse(argc, argv, 2); !s.ok()) return Fail(s);
  pom::matcher::ReplayOptions options;
  absl::StatusOr<std::string> commands = flags.Get("commands");
  if (!commands.ok()) return Fail(commands.status());
  options.commands_path = *commands;
  options.genesis_path = flags.GetOr("genesis", "");
  options.proofs_out_path = flags.GetOr("proofs-out", "");
  absl::StatusOr<pom::matcher::ReplayResult> r = pom::matcher::Replay(options);
  if (!r.ok()) return Fail(r.status());
  std::printf("refused=%llu\n", static_cast<unsigned long long>(r->refused));
  std::printf("proof_bytes=%llu\n", static_cast<unsigned long long>(r->proof_bytes));
  std::printf("root=%s\n", pom::ToHex(r->root).c_str());
  std::printf("events=%llu\n", static_cast<unsigned long long>(r->events));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "replay") == 0) return RunReplay(argc, argv);
  if (argc == 2 && std::strcmp(argv[1], "demo") == 0) {
    const absl::Status s = pom::matcher::RunDemo();
    return s.ok() ? 0 : Fail(s);
  }
  return Usage();
}
