// pom-matcher: the prover.
//   pom-matcher replay --commands FILE [--genesis FILE] [--proofs-out FILE]
//   pom-matcher ingest [--data DIR] --commands FILE [--genesis FILE] [--batch N]
//                      [--snapshot-interval N] [--proof-retention N] [--tree memory|rocksdb]
//                      [--acks FILE]
//   pom-matcher proofs [--data DIR] --from SEQ --out FILE   (export from the proof store)
//   pom-matcher recover [--data DIR] [--tree memory|rocksdb]  (recover, report, exit)
//   pom-matcher serve [--config FILE] [--print-config] [flags]   (pom-matcher serve --help lists
//                     them; docs/operations.md: TOML file < flags < POM_MATCHER_* variables)
//   pom-matcher demo
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/flags.h"
#include "matcher/demo.h"
#include "matcher/ingest.h"
#include "matcher/replay.h"
#include "matcher/metrics.h"
#include "matcher/service.h"
#include "ops/config.h"
#include "ops/daemon.h"
#include "ops/log.h"
#include "proto/rpc.h"
#include "proto/stream.h"

namespace {

int Usage() {
  std::fprintf(stderr,
               "usage: pom-matcher replay --commands FILE [--genesis FILE] [--proofs-out FILE]\n"
               "       pom-matcher ingest [--data DIR] --commands FILE [--genesis FILE] [--batch N]\n"
               "                          [--snapshot-interval N] [--proof-retention N]\n"
               "                          [--tree memory|rocksdb] [--acks FILE]\n"
               "       pom-matcher proofs [--data DIR] --from SEQ --out FILE\n"
               "       pom-matcher recover [--data DIR] [--tree memory|rocksdb]\n"
               "       pom-matcher serve [--config FILE] [--print-config] [flags]  (serve --help lists them)\n"
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

constexpr char kDefaultData[] = "./var/matcher";

void PrintRecovery(const pom::matcher::RecoveryReport& rec) {
  std::printf("recovered snapshot=%llu replayed=%llu proofs_restored=%llu truncated_tail=%llu seconds=%.3f\n",
              static_cast<unsigned long long>(rec.snapshot_sequence),
              static_cast<unsigned long long>(rec.replayed),
              static_cast<unsigned long long>(rec.proofs_restored),
              static_cast<unsigned long long>(rec.truncated_tail), rec.seconds);
}

int RunIngest(int argc, char** argv) {
  pom::Flags flags({"data", "commands", "genesis", "batch", "snapshot-interval", "proof-retention",
                    "tree", "acks"},
                   {});
  if (absl::Status s = flags.Parse(argc, argv, 2); !s.ok()) return Fail(s);
  pom::matcher::IngestOptions o;
  absl::StatusOr<std::string> commands = flags.Get("commands");
  if (!commands.ok()) return Fail(commands.status());
  o.commands_path = *commands;
  o.genesis_path = flags.GetOr("genesis", "");
  o.acks_path = flags.GetOr("acks", "");
  o.matcher.data_dir = flags.GetOr("data", kDefaultData);
  auto batch = flags.GetU64Or("batch", 256);
  auto interval = flags.GetU64Or("snapshot-interval", o.matcher.snapshot_interval);
  auto retention = flags.GetU64Or("proof-retention", 0);
  for (const absl::Status& s : {batch.status(), interval.status(), retention.status()}) {
    if (!s.ok()) return Fail(s);
  }
  o.batch = static_cast<size_t>(std::max<uint64_t>(1, std::min<uint64_t>(*batch, 1 << 16)));
  o.matcher.snapshot_interval = *interval;
  o.matcher.proof_retention = *retention;
  const std::string tree = flags.GetOr("tree", "memory");
  if (tree == "rocksdb") {
    o.matcher.tree = pom::matcher::TreeStorage::kRocksDb;
  } else if (tree != "memory") {
    return Fail(absl::InvalidArgumentError("--tree must be memory or rocksdb"));
  }
  absl::StatusOr<pom::matcher::IngestResult> r = pom::matcher::Ingest(o);
  if (!r.ok()) return Fail(r.status());
  PrintRecovery(r->recovery);
  std::printf("accepted=%llu skipped=%llu refused=%llu syncs=%llu\n",
              static_cast<unsigned long long>(r->accepted), static_cast<unsigned long long>(r->skipped),
              static_cast<unsigned long long>(r->refused), static_cast<unsigned long long>(r->syncs));
  std::printf("state=%016llx\n", static_cast<unsigned long long>(r->state_digest));
  std::printf("root=%s\n", pom::ToHex(r->root).c_str());
  std::printf("seq=%llu\n", static_cast<unsigned long long>(r->sequence));
  return 0;
}

int RunRecover(int argc, char** argv) {
  pom::Flags flags({"data", "tree"}, {});
  if (absl::Status s = flags.Parse(argc, argv, 2); !s.ok()) return Fail(s);
  pom::matcher::DurableMatcherOptions o;
  o.data_dir = flags.GetOr("data", kDefaultData);
  if (flags.GetOr("tree", "memory") == "rocksdb") o.tree = pom::matcher::TreeStorage::kRocksDb;
  absl::StatusOr<std::unique_ptr<pom::matcher::DurableMatcher>> m = pom::matcher::DurableMatcher::Open(o);
  if (!m.ok()) return Fail(m.status());
  PrintRecovery((*m)->recovery());
  std::printf("root=%s\nseq=%llu\n", pom::ToHex((*m)->root()).c_str(),
              static_cast<unsigned long long>((*m)->sequence()));
  return 0;
}

int RunProofs(int argc, char** argv) {
  pom::Flags flags({"data", "from", "out"}, {});
  if (absl::Status s = flags.Parse(argc, argv, 2); !s.ok()) return Fail(s);
  auto from = flags.GetU64("from");
  auto out = flags.Get("out");
  if (!from.ok()) return Fail(from.status());
  if (!out.ok()) return Fail(out.status());
  pom::matcher::StoreOptions so;
  so.path = flags.GetOr("data", kDefaultData) + "/db";
  absl::StatusOr<std::unique_ptr<pom::matcher::Store>> store = pom::matcher::Store::Open(so);
  if (!store.ok()) return Fail(store.status());
  absl::StatusOr<std::unique_ptr<pom::codec::DelimitedWriter>> writer =
      pom::codec::DelimitedWriter::Create(*out);
  if (!writer.ok()) return Fail(writer.status());
  pom::v1::Proof proof;
  uint64_t n = 0, last = 0;
  absl::Status s = (*store)->ScanProofs(*from, [&](uint64_t seq, std::string_view bytes) -> absl::Status {
    proof.Clear();
    if (!proof.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      return absl::DataLossError(absl::StrCat("stored proof ", seq, " does not parse"));
    }
    ++n;
    last = seq;
    return (*writer)->Write(proof);
  });
  if (!s.ok()) return Fail(s);
  if (absl::Status c = (*writer)->Close(); !c.ok()) return Fail(c);
  std::printf("proofs=%llu\nlast=%llu\n", static_cast<unsigned long long>(n),
              static_cast<unsigned long long>(last));
  return 0;
}

// The daemon's configuration (docs/operations.md): file, then flags, then POM_MATCHER_* variables.
pom::ops::ConfigSchema MatcherSchema() {
  pom::ops::ConfigSchema c("matcher");
  const pom::gateway::GatewayOptions g;
  c.String("matcher.data", "data", kDefaultData, "data directory (RocksDB and snapshots)")
      .String("matcher.genesis", "genesis", "", "genesis file; needed when the data directory is new")
      .String("matcher.listen", "listen", "127.0.0.1:50051", "gRPC address (pom.v1.Matcher)")
      .String("matcher.verifier", "verifier", "",
              "the verifier's gRPC address; deposits then come only from its authorizations")
      .String("matcher.tree", "tree", "memory", "where the tree's nodes live: memory or rocksdb")
      .Choices({"memory", "rocksdb"})
      .Integer("matcher.snapshot_interval", "snapshot-interval", 100'000, 0, INT64_MAX,
               "events between snapshots (0: never)")
      .Integer("matcher.proof_retention", "proof-retention", 0, 0, INT64_MAX, "proofs kept, newest first (0: all)")
      .Integer("matcher.max_batch", "max-batch", 256, 1, 1 << 16, "commands per group commit")
      .Integer("matcher.queue_limit", "queue-limit", 65'536, 1, 1 << 24,
               "queued commands before Submit answers RESOURCE_EXHAUSTED")
      .Bool("websocket.enabled", "no-ws", true, "turn the WebSocket gateway off", /*flag_sets=*/false)
      .String("websocket.listen", "ws-listen", "127.0.0.1:8080", "WebSocket address (docs/websocket-api.md)")
      .Integer("websocket.rate", "ws-rate", static_cast<int64_t>(g.requests_per_second), 1, 1'000'000,
               "requests per second per connection (burst: twice that; per account: twice that)")
      .Integer("websocket.max_queued", "ws-max-queued", static_cast<int64_t>(g.max_queued_messages), 1, 1 << 20,
               "messages queued per connection before its books resync")
      .Integer("websocket.max_subscriptions", "ws-max-subscriptions", static_cast<int64_t>(g.max_subscriptions), 1,
               1 << 16, "subscriptions per connection")
      .Integer("websocket.max_connections_per_address", "ws-max-connections-per-address",
               static_cast<int64_t>(g.max_connections_per_address), 1, 1 << 20, "connections per client address")
      .Integer("websocket.max_frame_bytes", "ws-max-frame-bytes", static_cast<int64_t>(g.max_frame_bytes), 256,
               16 << 20, "largest request frame (larger: close 1009)")
      .Integer("websocket.idle_timeout_seconds", "ws-idle-timeout", g.idle_timeout.count(), 1, 3600,
               "a connection without traffic or pong is dropped after this")
      .Integer("websocket.handshake_timeout_seconds", "ws-handshake-timeout", g.handshake_timeout.count(), 1, 3600,
               "a connection that does not complete its handshake is dropped after this");
  pom::ops::AddCommonKeys(c, "127.0.0.1:9151");
  c.Integer("test.corrupt_proof_at", "test-corrupt-proof-at", 0, 0, INT64_MAX,
            "test only: the feed serves this sequence's proof with a wrong new root")
      .Hidden()
      .Integer("test.recovery_delay_ms", "test-recovery-delay-ms", 0, 0, 600'000,
               "test only: sleep this long before recovering (to observe /readyz)")
      .Hidden();
  return c;
}

// The daemon: recovers, serves until SIGINT or SIGTERM, then drains and stops (exit 0).
int RunServe(int argc, char** argv) {
  pom::rpc::BlockTerminationSignals();  // before any thread starts: only sigwait sees them
  const pom::ops::ConfigSchema schema = MatcherSchema();
  int exit_code = 0;
  std::optional<pom::ops::Config> config = pom::ops::LoadOrExit(schema, "pom-matcher serve", argc, argv, 2, &exit_code);
  if (!config.has_value()) return exit_code;
  const pom::ops::Config& c = *config;

  auto registry = std::make_shared<prometheus::Registry>();
  pom::matcher::MatcherMetrics metrics(*registry);
  std::atomic<pom::matcher::MatcherServer*> serving{nullptr};
  absl::StatusOr<std::unique_ptr<pom::ops::Lifecycle>> life = pom::ops::Lifecycle::Start(
      c, "pom-matcher", registry,
      [&] {
        if (pom::matcher::MatcherServer* s = serving.load()) s->SampleMetrics();
      },
      &metrics.ready());
  if (!life.ok()) return Fail(life.status());
  std::printf("admin port=%d\n", (*life)->admin_port());
  std::fflush(stdout);

  pom::matcher::DurableMatcherOptions o;
  o.data_dir = c.String("matcher.data");
  if (!c.String("matcher.genesis").empty()) {
    absl::StatusOr<pom::codec::Genesis> genesis = pom::codec::ReadGenesisFile(c.String("matcher.genesis"));
    if (!genesis.ok()) return Fail(genesis.status());
    o.genesis = *std::move(genesis);
  }
  o.snapshot_interval = c.Unsigned("matcher.snapshot_interval");
  o.proof_retention = c.Unsigned("matcher.proof_retention");
  o.tree = c.String("matcher.tree") == "rocksdb" ? pom::matcher::TreeStorage::kRocksDb
                                                 : pom::matcher::TreeStorage::kMemory;
  const bool ws = c.Bool("websocket.enabled");
  o.signatures_prechecked = true;  // MatcherServer checks them on its gRPC threads
  o.keep_proofs = ws;              // the WebSocket gateway publishes from them
  o.observer = &metrics;
  if (const int64_t delay = c.Integer("test.recovery_delay_ms"); delay > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(delay));
  }
  pom::log::Info("recovering", {{"data", o.data_dir}, {"tree", c.String("matcher.tree")}});
  absl::StatusOr<std::unique_ptr<pom::matcher::DurableMatcher>> matcher = pom::matcher::DurableMatcher::Open(o);
  if (!matcher.ok()) {
    pom::log::Error("recovery failed", {{"error", matcher.status().ToString()}});
    return Fail(matcher.status());
  }
  const pom::matcher::RecoveryReport& rec = (*matcher)->recovery();
  PrintRecovery(rec);
  pom::log::Info("recovered", {{"snapshot", rec.snapshot_sequence},
                               {"replayed", rec.replayed},
                               {"proofs_restored", rec.proofs_restored},
                               {"truncated_tail", rec.truncated_tail},
                               {"seconds", rec.seconds},
                               {"sequence", (*matcher)->sequence()}});
  pom::matcher::MatcherServiceOptions so;
  so.listen = c.String("matcher.listen");
  so.verifier = c.String("matcher.verifier");
  so.max_batch = static_cast<size_t>(c.Unsigned("matcher.max_batch"));
  so.queue_limit = static_cast<size_t>(c.Unsigned("matcher.queue_limit"));
  so.corrupt_proof_at = c.Unsigned("test.corrupt_proof_at");
  so.metrics = &metrics;
  so.snapshot_on_shutdown = o.snapshot_interval > 0;
  if (ws) so.ws_listen = c.String("websocket.listen");
  {
    pom::gateway::GatewayOptions& g = so.gateway;
    g.requests_per_second = static_cast<double>(c.Integer("websocket.rate"));
    g.burst = 2 * g.requests_per_second;
    g.account_requests_per_second = 2 * g.requests_per_second;
    g.max_queued_messages = c.Unsigned("websocket.max_queued");
    g.max_subscriptions = c.Unsigned("websocket.max_subscriptions");
    g.max_connections_per_address = c.Unsigned("websocket.max_connections_per_address");
    g.max_frame_bytes = c.Unsigned("websocket.max_frame_bytes");
    g.idle_timeout = std::chrono::seconds(c.Integer("websocket.idle_timeout_seconds"));
    g.handshake_timeout = std::chrono::seconds(c.Integer("websocket.handshake_timeout_seconds"));
  }
  absl::StatusOr<std::unique_ptr<pom::matcher::MatcherServer>> server =
      pom::matcher::MatcherServer::Start(*std::move(matcher), so);
  if (!server.ok()) {
    pom::log::Error("start failed", {{"error", server.status().ToString()}});
    return Fail(server.status());
  }
  pom::matcher::MatcherServer* s = server->get();
  serving.store(s);
  if (s->ws_port() != 0) std::printf("websocket port=%d\n", s->ws_port());
  std::printf("listening port=%d\n", s->port());
  std::fflush(stdout);
  (*life)->Ready(absl::StrCat("serving on port ", s->port()),
                 [s] { return s->Health(); }, [s] { return s->EngineAlive(); });
  pom::log::Info("serving", {{"grpc_port", s->port()}, {"websocket_port", s->ws_port()}, {"verifier", so.verifier}});
  (*life)->WaitForStop();
  s->Shutdown();
  serving.store(nullptr);
  (*life)->Stopped();
  std::printf("stopped\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "replay") == 0) return RunReplay(argc, argv);
  if (argc >= 2 && std::strcmp(argv[1], "ingest") == 0) return RunIngest(argc, argv);
  if (argc >= 2 && std::strcmp(argv[1], "proofs") == 0) return RunProofs(argc, argv);
  if (argc >= 2 && std::strcmp(argv[1], "recover") == 0) return RunRecover(argc, argv);
  if (argc >= 2 && std::strcmp(argv[1], "serve") == 0) return RunServe(argc, argv);
  if (argc == 2 && std::strcmp(argv[1], "demo") == 0) {
    const absl::Status s = pom::matcher::RunDemo();
    return s.ok() ? 0 : Fail(s);
  }
  return Usage();
}
