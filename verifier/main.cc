// pom-verifier: the light verifier.
//   pom-verifier check --proofs FILE --genesis FILE [--threads N]
// Exit 0 when every proof verifies (last lines: root=<hex>, proofs=<n>); exit 1 naming the
// first failing sequence and its reason; exit 2 for usage errors.
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "common/flags.h"
#include "verifier/check.h"

namespace {

int Usage() {
  std::fprintf(stderr, "usage: pom-verifier check --proofs FILE --genesis FILE [--threads N]\n");
  return 2;
}

int RunCheck(int argc, char** argv) {
  pom::Flags flags({"proofs", "genesis", "threads"}, {});
  if (absl::Status s = flags.Parse(argc, argv, 2); !s.ok()) {
    std::fprintf(stderr, "pom-verifier: %s\n", s.ToString().c_str());
    return Usage();
  }
  pom::verify::CheckOptions o;
  auto proofs = flags.Get("proofs");
  auto genesis = flags.Get("genesis");
  auto threads = flags.GetU64Or("threads", std::max(1u, std::thread::hardware_concurrency()));
  for (const absl::Status& s : {proofs.status(), genesis.status(), threads.status()}) {
    if (!s.ok()) {
      std::fprintf(stderr, "pom-verifier: %s\n", s.ToString().c_str());
      return Usage();
    }
  }
  o.proofs_path = *proofs;
  o.genesis_path = *genesis;
  o.threads = static_cast<int>(std::min<uint64_t>(*threads, 256));
  absl::StatusOr<pom::verify::CheckResult> r = pom::verify::Check(o);
  if (!r.ok()) {
    std::fprintf(stderr, "pom-verifier: %s\n", r.status().ToString().c_str());
    return 1;
  }
  if (!r->verdict.ok()) {
    std::printf("rejected sequence=%llu reason=%s%s%s\n", static_cast<unsigned long long>(r->failed_sequence),
                std::string(pom::verify::RejectReasonName(r->verdict.reason)).c_str(),
                r->verdict.detail.empty() ? "" : " detail=", r->verdict.detail.c_str());
    std::printf("root=%s\nproofs=%llu\n", pom::ToHex(r->root).c_str(), static_cast<unsigned long long>(r->proofs));
    return 1;
  }
  std::printf("root=%s\nproofs=%llu\n", pom::ToHex(r->root).c_str(), static_cast<unsigned long long>(r->proofs));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "check") == 0) return RunCheck(argc, argv);
  return Usage();
}
