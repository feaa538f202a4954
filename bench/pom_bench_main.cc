// pom-bench: workloads and replays.
//   pom-bench gen --seed S --events N --users U --markets M --out FILE [--unsigned]
//       writes FILE (length-delimited pom.v1.Command) and FILE.genesis (pom.v1.Genesis JSON)
//   pom-bench replay --lobster-messages F --lobster-book F --levels L [--proofs] [--json]
//       replays a LOBSTER day through the engine; with --json the last line is one JSON object
//   pom-bench verify --proofs F --genesis F [--threads N] [--no-signatures]
//       times pom-verifier's check of a proof file (signature checks on N threads, or none)
//   pom-bench prove --users U --events N [--markets M] [--seed S]
//       builds a state of about 4 leaves per user (deposits, untimed), then times N generated
//       events with proofs: events/s, per-event latency percentiles, proof bytes per event kind,
//       the tree's work per event, and the floor under an event here (the rules alone, timed
//       on an engine without proofs, plus the tree's hashes at the best SHA-256 rate)
//   pom-bench e2e [--events N] [--users U] [--clients C] [--seed S] [--bin DIR] [--json]
//       starts pom-verifier and pom-matcher on loopback and times signed orders from gRPC Submit
//       until the verifier has verified them (bench/e2e.h)
//   pom-bench load --ws [--rate R[,R...]] [--duration S] [--users U] [--seed S] [--bin DIR] [--trace CSV] [--json]
//       open-loop signed orders over the WebSocket gateway; order -> acknowledgement latency
//       from the planned send time (bench/ws_load.h)
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <fstream>
#include <string>

#include "bench/e2e.h"
#include "bench/ws_load.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "bench/lobster.h"
#include "bench/workload.h"
#include "verifier/check.h"
#include "matcher/engine.h"
#include <chrono>
#include <map>
#include "common/flags.h"
#include "common/hash.h"
#include "common/status_macros.h"
#include <array>
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

int Verify(int argc, char** argv) {
  pom::Flags flags({"proofs", "genesis", "threads"}, {"no-signatures"});
  if (absl::Status s = flags.Parse(argc, argv, 2); !s.ok()) return Fail(s);
  pom::verify::CheckOptions o;
  auto proofs = flags.Get("proofs");
  auto genesis = flags.Get("genesis");
  auto threads = flags.GetU64Or("threads", 1);
  for (const absl::Status& s : {proofs.status(), genesis.status(), threads.status()}) {
    if (!s.ok()) return Fail(s);
  }
  o.proofs_path = *proofs;
  o.genesis_path = *genesis;
  o.threads = static_cast<int>(std::min<uint64_t>(*threads, 256));
  o.check_signatures = !flags.Has("no-signatures");
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<pom::verify::CheckResult> r = pom::verify::Check(o);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!r.ok()) return Fail(r.status());
  if (!r->verdict.ok()) return Fail(absl::DataLossError("a proof was rejected"));
  std::printf("proofs=%llu seconds=%.3f proofs_per_second=%.0f signatures=%s threads=%d\n",
              static_cast<unsigned long long>(r->proofs), seconds, static_cast<double>(r->proofs) / seconds,
              o.check_signatures ? "on" : "off", o.threads);
  return 0;
}

// The best rate of the SHA-256 messages the tree hashes (98 bytes, two blocks), four at a time
// as the tree's hash waves give them at best: nanoseconds per message, the fastest of 5 rounds.
double ShaTwoBlockNs() {
  constexpr size_t kWidth = 4, kRounds = 5, kBatches = 1 << 16;
  alignas(64) uint8_t blocks[kWidth][128] = {};
  std::array<const uint8_t*, kWidth> in;
  std::array<pom::Bytes32, kWidth> digests;
  std::array<pom::Bytes32*, kWidth> out;
  for (size_t i = 0; i < kWidth; ++i) {
    blocks[i][0] = static_cast<uint8_t>(i);
    pom::Sha256Hasher::PadTwoBlocks(blocks[i], 98);
    in[i] = blocks[i];
    out[i] = &digests[i];
  }
  pom::Sha256Hasher hasher;
  double best = 0;
  for (size_t r = 0; r < kRounds; ++r) {
    const auto start = std::chrono::steady_clock::now();
    for (size_t b = 0; b < kBatches; ++b) {
      hasher.DigestPaddedTwoBlocks(in, out);
      blocks[0][1] = digests[0][0];  // each batch depends on the one before: nothing is hoisted
    }
    const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() /
                      static_cast<double>(kBatches * kWidth);
    if (r == 0 || ns < best) best = ns;
  }
  return best;
}

// The same commands through an engine without proofs (no tree, no recording): the rules'
// own cost, in nanoseconds per timed event (one clock around the timed loop).
absl::StatusOr<double> UnprovedNsPerEvent(const pom::workload::Workload& w, pom::matcher::EngineOptions eo) {
  eo.prove = false;
  pom::matcher::Engine engine(eo);
  for (const auto& b : w.genesis.chain_balances) POM_RETURN_IF_ERROR(engine.CreditChain(b.user, b.currency, b.amount));
  for (uint64_t i = 0; i < w.setup_commands; ++i) POM_RETURN_IF_ERROR(engine.SubmitUnproved(w.commands[i]).status());
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t i = w.setup_commands; i < w.commands.size(); ++i) {
    POM_RETURN_IF_ERROR(engine.SubmitUnproved(w.commands[i]).status());
  }
  const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
  return ns / static_cast<double>(w.commands.size() - w.setup_commands);
}

int Prove(int argc, char** argv) {
  pom::Flags flags({"users", "events", "markets", "seed"}, {});
  if (absl::Status s = flags.Parse(argc, argv, 2); !s.ok()) return Fail(s);
  auto users = flags.GetU64Or("users", 250'000);
  auto events = flags.GetU64Or("events", 100'000);
  auto markets = flags.GetU64Or("markets", 2);
  auto seed = flags.GetU64Or("seed", 1);
  for (const absl::Status& s : {users.status(), events.status(), markets.status(), seed.status()}) {
    if (!s.ok()) return Fail(s);
  }
  pom::workload::Options o;
  o.seed = *seed;
  o.users = static_cast<uint32_t>(*users);
  o.markets = static_cast<uint32_t>(*markets);
  // Setup: market creation (plus one closed market) and one deposit per user and currency.
  o.events = o.markets + 2 + static_cast<uint64_t>(o.users) * (1 + o.markets) + *events;
  o.sign = false;
  const pom::workload::Workload w = pom::workload::Generate(o);
  const uint64_t setup = w.setup_commands;
  pom::matcher::EngineOptions eo;
  eo.prover_id = w.genesis.prover_id;
  eo.operator_account = w.genesis.operator_key;
  eo.check_signatures = false;  // Ed25519 checks run apart, in parallel (see pom_hash_bench)
  pom::matcher::Engine engine(eo);
  for (const auto& b : w.genesis.chain_balances) {
    if (absl::Status s = engine.CreditChain(b.user, b.currency, b.amount); !s.ok()) return Fail(s);
  }
  for (uint64_t i = 0; i < setup; ++i) {
    if (auto p = engine.Submit(w.commands[i]); !p.ok()) return Fail(p.status());
  }
  const size_t leaves_before = engine.live_leaves();
  const pom::smt::SparseMerkleTree<pom::Sha256Hasher>::Work work_before = engine.tree_work();
  std::vector<int64_t> ns;
  std::vector<std::pair<int64_t, uint64_t>> ns_hashes;  // each event's time and tree hashes
  ns_hashes.reserve(*events);
  ns.reserve(*events);
  std::map<size_t, std::pair<uint64_t, uint64_t>> bytes;  // kind -> (events, proof bytes)
  pom::v1::Proof wire;
  for (uint64_t i = setup; i < w.commands.size(); ++i) {
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<pom::rules::EventProof> p = engine.Submit(w.commands[i]);
    ns.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count());
    ns_hashes.emplace_back(ns.back(), engine.tree_work().hashes);
    if (!p.ok()) return Fail(p.status());
    pom::codec::ToProto(*p, &wire);
    auto& [n, b] = bytes[w.commands[i].body.index()];
    ++n;
    b += wire.ByteSizeLong();
  }
  int64_t total = 0;
  for (int64_t x : ns) total += x;
  std::sort(ns.begin(), ns.end());
  auto pct = [&](double q) { return ns.empty() ? 0 : ns[std::min(ns.size() - 1, static_cast<size_t>(q * static_cast<double>(ns.size())))]; };
  std::printf("live_leaves=%zu (before timed events) %zu (after)\n", leaves_before, engine.live_leaves());
  std::printf("timed_events=%zu events_per_second=%.0f\n", ns.size(), static_cast<double>(ns.size()) * 1e9 / static_cast<double>(total));
  std::printf("ns_per_event mean=%.0f p50=%lld p90=%lld p99=%lld p999=%lld max=%lld\n",
              static_cast<double>(total) / static_cast<double>(ns.size()), (long long)pct(0.5), (long long)pct(0.9),
              (long long)pct(0.99), (long long)pct(0.999), (long long)ns.back());
  const char* names[] = {"place", "cancel", "amend", "withdraw", "deposit", "create_market", "update_market", "set_market_status"};
  for (const auto& [kind, nb] : bytes) {
    std::printf("proof_bytes %s events=%llu mean=%.0f\n", names[kind], (unsigned long long)nb.first,
                static_cast<double>(nb.second) / static_cast<double>(nb.first));
  }
  // What the timed events cost the tree, and the floor that puts under an event on this
  // machine: the rules alone plus the hashes at the best SHA-256 rate (no walk, no memory
  // misses, no proof assembly).
  const auto& work = engine.tree_work();
  const double n = static_cast<double>(ns.size());
  const double hashes = static_cast<double>(work.hashes - work_before.hashes) / n;
  // The slowest 1% of events (the p99 tail): how many hashes they took.
  for (size_t i = ns_hashes.size(); i-- > 1;) ns_hashes[i].second -= ns_hashes[i - 1].second;
  if (!ns_hashes.empty()) ns_hashes[0].second -= work_before.hashes;
  std::sort(ns_hashes.begin(), ns_hashes.end());
  const size_t tail = std::max<size_t>(1, ns_hashes.size() / 100);
  uint64_t tail_hashes = 0;
  for (size_t i = ns_hashes.size() - tail; i < ns_hashes.size(); ++i) tail_hashes += ns_hashes[i].second;
  std::printf("tree_per_event leaves=%.1f branches=%.1f hashes=%.1f (slowest 1%%: %.1f hashes)\n",
              static_cast<double>(work.leaves - work_before.leaves) / n,
              static_cast<double>(work.branches - work_before.branches) / n, hashes,
              static_cast<double>(tail_hashes) / static_cast<double>(tail));
  absl::StatusOr<double> rules_ns = UnprovedNsPerEvent(w, eo);
  if (!rules_ns.ok()) return Fail(rules_ns.status());
  const double sha_ns = ShaTwoBlockNs();
  const double floor_ns = *rules_ns + hashes * sha_ns;
  std::printf("floor_ns_per_event rules_without_proofs=%.0f hashes=%.0f (%.1f ns per 98-byte SHA-256) "
              "sum=%.0f max_events_per_second=%.0f\n",
              *rules_ns, hashes * sha_ns, sha_ns, floor_ns, 1e9 / floor_ns);
  std::printf("root=%s\n", pom::ToHex(engine.root()).c_str());
  return 0;
}

int ReplayLobster(int argc, char** argv) {
  pom::Flags flags({"lobster-messages", "lobster-book", "levels"}, {"proofs", "json"});
  if (absl::Status s = flags.Parse(argc, argv, 2); !s.ok()) return Fail(s);
  pom::lobster::Options o;
  auto messages = flags.Get("lobster-messages");
  auto book = flags.Get("lobster-book");
  auto levels = flags.GetU64Or("levels", 10);
  for (const absl::Status& s : {messages.status(), book.status(), levels.status()}) {
    if (!s.ok()) return Fail(s);
  }
  o.messages_path = *messages;
  o.book_path = *book;
  o.levels = static_cast<int>(std::min<uint64_t>(*levels, 1000));
  o.proofs = flags.Has("proofs");
  absl::StatusOr<pom::lobster::Result> r = pom::lobster::Replay(o);
  if (!r.ok()) return Fail(r.status());
  auto pct_of = [](const std::vector<int64_t>& v, double q) {
    if (v.empty()) return int64_t{0};
    return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
  };
  auto pct = [&](double q) { return pct_of(r->latency_ns, q); };
  const double mean = r->messages == 0 ? 0 : r->seconds * 1e9 / static_cast<double>(r->messages);
  const double inline_mean = r->messages == 0 ? 0 : r->inline_seconds * 1e9 / static_cast<double>(r->messages);
  const double per_message_mean = r->messages == 0 ? 0 : r->per_message_seconds * 1e9 / static_cast<double>(r->messages);
  std::printf("messages=%llu events=%llu reconcile_events=%llu proofs=%s\n",
              static_cast<unsigned long long>(r->messages), static_cast<unsigned long long>(r->events),
              static_cast<unsigned long long>(r->reconcile_events), o.proofs ? "on" : "off");
  std::printf("engine_seconds=%.3f messages_per_second=%.0f\n", r->seconds,
              r->seconds > 0 ? static_cast<double>(r->messages) / r->seconds : 0.0);
  std::printf("ns_per_message mean=%.0f p50=%lld p90=%lld p99=%lld p999=%lld max=%lld\n", mean,
              static_cast<long long>(pct(0.5)), static_cast<long long>(pct(0.9)), static_cast<long long>(pct(0.99)),
              static_cast<long long>(pct(0.999)), static_cast<long long>(r->latency_ns.empty() ? 0 : r->latency_ns.back()));
  std::printf("per_message_timed_mean=%.0f clock_read_ns=%.1f (the mean above times runs of messages as a whole; "
              "the percentiles time each message and include about one clock read)\n",
              per_message_mean, r->clock_read_ns);
  std::printf("inline_ns_per_message mean=%.0f p50=%lld p99=%lld p999=%lld (first pass: timed between book comparisons)\n",
              inline_mean, static_cast<long long>(pct_of(r->inline_latency_ns, 0.5)),
              static_cast<long long>(pct_of(r->inline_latency_ns, 0.99)), static_cast<long long>(pct_of(r->inline_latency_ns, 0.999)));
  if (o.proofs) std::printf("proof_bytes_per_event=%.0f\n", static_cast<double>(r->proof_bytes) / static_cast<double>(std::max<uint64_t>(1, r->events + r->reconcile_events)));
  for (const auto& [level, ratio] : r->book_match_ratio) std::printf("level %d book_match_ratio=%.6f\n", level, ratio);
  if (flags.Has("json")) {
    std::string ratios;
    for (const auto& [level, ratio] : r->book_match_ratio) {
      if (!ratios.empty()) ratios += ",";
      char buf[64];
      std::snprintf(buf, sizeof(buf), "\"%d\":%.6f", level, ratio);
      ratios += buf;
    }
    std::printf("{\"messages\":%llu,\"seconds\":%.6f,\"ns_per_message\":{\"mean\":%.1f,\"p50\":%lld,\"p99\":%lld,\"p999\":%lld},"
                "\"per_message_timed_mean\":%.1f,\"clock_read_ns\":%.1f,"
                "\"inline_ns_per_message\":{\"mean\":%.1f,\"p50\":%lld,\"p99\":%lld,\"p999\":%lld},\"book_match_ratio\":{%s}}\n",
                static_cast<unsigned long long>(r->messages), r->seconds, mean, static_cast<long long>(pct(0.5)),
                static_cast<long long>(pct(0.99)), static_cast<long long>(pct(0.999)), per_message_mean, r->clock_read_ns, inline_mean,
                static_cast<long long>(pct_of(r->inline_latency_ns, 0.5)), static_cast<long long>(pct_of(r->inline_latency_ns, 0.99)),
                static_cast<long long>(pct_of(r->inline_latency_ns, 0.999)), ratios.c_str());
  }
  return 0;
}

}  // namespace

int E2e(int argc, char** argv) {
  pom::Flags flags({"events", "users", "clients", "seed", "bin"}, {"json"});
  if (absl::Status s = flags.Parse(argc, argv, 2); !s.ok()) return Fail(s);
  pom::bench::E2eOptions o;
  auto events = flags.GetU64Or("events", o.events);
  auto users = flags.GetU64Or("users", o.users);
  auto clients = flags.GetU64Or("clients", o.clients);
  auto seed = flags.GetU64Or("seed", o.seed);
  for (const absl::Status& s : {events.status(), users.status(), clients.status(), seed.status()}) {
    if (!s.ok()) return Fail(s);
  }
  o.events = *events;
  o.users = static_cast<uint32_t>(std::min<uint64_t>(*users, 100'000));
  o.clients = static_cast<uint32_t>(std::min<uint64_t>(*clients, 1024));
  o.seed = *seed;
  // Default: the directory this pom-bench lives in.
  std::string self = argv[0];
  o.bin_dir = flags.GetOr("bin", self.find('/') == std::string::npos ? "." : self.substr(0, self.rfind('/')));
  absl::StatusOr<pom::bench::E2eResult> r = pom::bench::RunE2e(o);
  if (!r.ok()) return Fail(r.status());
  const double rate = static_cast<double>(r->events) / r->seconds_verified;
  std::printf("workload: %llu signed limit orders (GTC/IOC around a mid price), %u users, %u clients, loopback\n",
              static_cast<unsigned long long>(r->events), o.users, o.clients);
  std::printf("submit->verified: %.0f events/s (%.2f s; all acknowledged after %.2f s); errors=%llu\n", rate,
              r->seconds_verified, r->seconds_acked, static_cast<unsigned long long>(r->errors));
  std::printf("ack latency us: p50=%.0f p99=%.0f p99.9=%.0f\n", r->ack_p50_us, r->ack_p99_us, r->ack_p999_us);
  std::printf("verified latency us: p50=%.0f p99=%.0f p99.9=%.0f\n", r->verified_p50_us, r->verified_p99_us,
              r->verified_p999_us);
  std::printf("verifier lag events: p50=%.0f max=%.0f\n", r->lag_p50_events, r->lag_max_events);
  if (flags.Has("json")) {
    std::printf("{\"events\":%llu,\"clients\":%u,\"events_per_second\":%.1f,\"ack_us\":{\"p50\":%.0f,\"p99\":%.0f,"
                "\"p999\":%.0f},\"verified_us\":{\"p50\":%.0f,\"p99\":%.0f,\"p999\":%.0f}}\n",
                static_cast<unsigned long long>(r->events), o.clients, rate, r->ack_p50_us, r->ack_p99_us, r->ack_p999_us,
                r->verified_p50_us, r->verified_p99_us, r->verified_p999_us);
  }
  return 0;
}

int Load(int argc, char** argv) {
  pom::Flags flags({"rate", "duration", "users", "seed", "bin", "trace"}, {"ws", "json"});
  if (absl::Status s = flags.Parse(argc, argv, 2); !s.ok()) return Fail(s);
  if (!flags.Has("ws")) return Fail(absl::InvalidArgumentError("load needs --ws (the WebSocket gateway is the only load target)"));
  pom::bench::LoadOptions o;
  if (flags.Has("rate")) {
    o.rates.clear();
    for (absl::string_view part : absl::StrSplit(flags.GetOr("rate", ""), ',', absl::SkipEmpty())) {
      uint64_t r = 0;
      if (!absl::SimpleAtoi(part, &r) || r == 0) return Fail(absl::InvalidArgumentError("--rate takes R[,R...]"));
      o.rates.push_back(r);
    }
  }
  auto duration = flags.GetU64Or("duration", o.duration_seconds);
  auto users = flags.GetU64Or("users", o.users);
  auto seed = flags.GetU64Or("seed", o.seed);
  for (const absl::Status& s : {duration.status(), users.status(), seed.status()}) {
    if (!s.ok()) return Fail(s);
  }
  o.duration_seconds = std::max<uint64_t>(1, *duration);
  o.users = static_cast<uint32_t>(std::clamp<uint64_t>(*users, 1, 10'000));
  o.seed = *seed;
  o.trace_path = flags.GetOr("trace", "");
  std::string self = argv[0];
  o.bin_dir = flags.GetOr("bin", self.find('/') == std::string::npos ? "." : self.substr(0, self.rfind('/')));
  absl::StatusOr<std::vector<pom::bench::LoadResult>> r = pom::bench::RunWsLoad(o);
  if (!r.ok()) return Fail(r.status());
  std::printf("workload: open loop, signed limit orders (GTC/IOC around a mid price), %u users on %u connections, "
              "%llu s per rate, loopback; latency from the planned send time to the acknowledgement\n",
              o.users, o.users, static_cast<unsigned long long>(o.duration_seconds));
  std::printf("%8s %10s %8s %10s %10s %10s %10s\n", "rate", "achieved", "errors", "p50_us", "p99_us", "p99.9_us", "max_us");
  for (const pom::bench::LoadResult& x : *r) {
    std::printf("%8llu %10.0f %8llu %10.0f %10.0f %10.0f %10.0f%s\n", static_cast<unsigned long long>(x.rate), x.achieved,
                static_cast<unsigned long long>(x.errors), x.p50_us, x.p99_us, x.p999_us, x.max_us,
                x.answered < x.sent ? "  (not all answered: past the knee)" : "");
  }
  if (flags.Has("json")) {
    std::string out = "[";
    for (const pom::bench::LoadResult& x : *r) {
      absl::StrAppend(&out, out.size() > 1 ? "," : "", "{\"rate\":", x.rate, ",\"achieved\":", static_cast<int64_t>(x.achieved),
                      ",\"errors\":", x.errors, ",\"p50_us\":", static_cast<int64_t>(x.p50_us), ",\"p99_us\":",
                      static_cast<int64_t>(x.p99_us), ",\"p999_us\":", static_cast<int64_t>(x.p999_us), "}");
    }
    std::printf("%s]\n", out.c_str());
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "gen") == 0) return Gen(argc, argv);
  if (argc >= 2 && std::strcmp(argv[1], "e2e") == 0) return E2e(argc, argv);
  if (argc >= 2 && std::strcmp(argv[1], "load") == 0) return Load(argc, argv);
  if (argc >= 2 && std::strcmp(argv[1], "replay") == 0) return ReplayLobster(argc, argv);
  if (argc >= 2 && std::strcmp(argv[1], "prove") == 0) return Prove(argc, argv);
  if (argc >= 2 && std::strcmp(argv[1], "verify") == 0) return Verify(argc, argv);
  std::fprintf(stderr,
               "usage: pom-bench gen --seed S --events N --users U --markets M --out FILE [--unsigned]\n"
               "       pom-bench replay --lobster-messages F --lobster-book F --levels L [--proofs] [--json]\n"
               "       pom-bench prove --users U --events N [--markets M] [--seed S]\n"
               "       pom-bench verify --proofs F --genesis F [--threads N] [--no-signatures]\n"
               "       pom-bench e2e --events N --users U --clients C [--json]\n"
               "       pom-bench load --ws [--rate R[,R...]] [--duration S] [--users U] [--trace CSV] [--json]\n");
  return 2;
}
