// pom-bench: workloads and replays.
//   pom-bench gen --seed S --events N --users U --markets M --out FILE [--unsigned]
//       writes FILE (length-delimited pom.v1.Command) and FILE.genesis (pom.v1.Genesis JSON)
#include <cstdio>
#include <cstring>
#include <fstream>

#include "bench/workload.h"
#include "common/flags.h"
#include "proto/codec.h"
#include "proto/stream.h"

namespace {

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "pom-bench: %s\n", s.ToString().c_str());
  return 1;
}

int Gen(int argc, char** argv) {
  pom::Flags flags({"seed", "events", "users", "markets", "out"}, {"unsigned"});
  if (absl::Status s = flags.Parse(argc, argv, 2); !s.ok()) return Fail(s);
  pom::workload::Options o;
  auto seed = flags.GetU64("seed");
  auto events = flags.GetU64("events");
  auto users = flags.GetU64Or("users", 100);
  auto markets = flags.GetU64Or("markets", 2);
  auto out = flags.Get("out");
  for (const absl::Status& s : {seed.status(), events.status(), users.status(), markets.status(), out.status()}) {
    if (!s.ok()) return Fail(s);
  }
  if (*users < 2 || *users > 1'000'000 || *markets < 1 || *markets > 10'000) {
    return Fail(absl::InvalidArgumentError("--users must be 2..1000000 and --markets 1..10000"));
  }
  o.seed = *seed;
  o.events = *events;
  o.users = static_cast<uint32_t>(*users);
  o.markets = static_cast<uint32_t>(*markets);
  o.sign = !flags.Has("unsigned");
  const pom::workload::Workload w = pom::workload::Generate(o);
  auto writer = pom::codec::DelimitedWriter::Create(*out);
  if (!writer.ok()) return Fail(writer.status());
  pom::v1::Command wire;
  for (const pom::rules::Command& c : w.commands) {
    pom::codec::ToProto(c, &wire);
    if (absl::Status s = (*writer)->Write(wire); !s.ok()) return Fail(s);
  }
  if (absl::Status s = (*writer)->Close(); !s.ok()) return Fail(s);
  std::ofstream genesis(*out + ".genesis");
  genesis << pom::codec::GenesisToJson(w.genesis);
  if (!genesis.good()) return Fail(absl::DataLossError("cannot write " + *out + ".genesis"));
  std::printf("commands=%zu\nout=%s\ngenesis=%s.genesis\n", w.commands.size(), out->c_str(), out->c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "gen") == 0) return Gen(argc, argv);
  std::fprintf(stderr, "usage: pom-bench gen --seed S --events N --users U --markets M --out FILE [--unsigned]\n");
  return 2;
}
