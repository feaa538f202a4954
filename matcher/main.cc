// pom-matcher: the prover.
//   pom-matcher replay --commands FILE [--genesis FILE] [--proofs-out FILE]
//   pom-matcher ingest [--data DIR] --commands FILE [--genesis FILE] [--batch N]
//                      [--snapshot-interval N] [--proof-retention N] [--tree memory|rocksdb]
//                      [--acks FILE]
//   pom-matcher proofs [--data DIR] --from SEQ --out FILE   (export from the proof store)
//   pom-matcher recover [--data DIR] [--tree memory|rocksdb]  (recover, report, exit)
//   pom-matcher serve [--data DIR] [--genesis FILE] [--listen HOST:PORT] [--verifier HOST:PORT]
//                     [--snapshot-interval N] [--proof-retention N] [--tree memory|rocksdb]
//                     [--max-batch N] [--queue-limit N] [--test-corrupt-proof-at SEQ]
//                     [--ws-listen HOST:PORT | --no-ws]   (WebSocket gateway, default 127.0.0.1:8080)
//                     [--ws-rate N] [--ws-max-queued N] [--ws-max-subscriptions N]
//                     [--ws-max-connections-per-address N] [--ws-max-frame-bytes N]
//                     [--ws-idle-timeout SECONDS] [--ws-handshake-timeout SECONDS]
//   pom-matcher demo
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/flags.h"
#include "matcher/demo.h"
#include "matcher/ingest.h"
#include "matcher/replay.h"
#include "matcher/service.h"
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
               "       pom-matcher serve [--data DIR] [--genesis FILE] [--listen HOST:PORT]\n"
               "                         [--verifier HOST:PORT] [--snapshot-interval N] [--proof-retention N]\n"
               "                         [--tree memory|rocksdb] [--max-batch N] [--queue-limit N]\n"
               "                         [--test-corrupt-proof-at SEQ] [--ws-listen HOST:PORT | --no-ws]\n"
               "                         [--ws-rate N] [--ws-max-queued N] [--ws-max-subscriptions N]\n"
               "                         [--ws-max-connections-per-address N] [--ws-max-frame-bytes N]\n"
               "                         [--ws-idle-timeout SECONDS] [--ws-handshake-timeout SECONDS]\n"
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

// The daemon: recovers, serves until SIGINT or SIGTERM, then stops cleanly (exit 0).
int RunServe(int argc, char** argv) {
  pom::rpc::BlockTerminationSignals();  // before any thread starts: only sigwait sees them
  pom::Flags flags({"data", "genesis", "listen", "verifier", "snapshot-interval", "proof-retention", "tree",
                    "max-batch", "queue-limit", "test-corrupt-proof-at", "ws-listen", "ws-rate", "ws-max-queued",
                    "ws-max-subscriptions", "ws-max-connections-per-address", "ws-max-frame-bytes",
                    "ws-idle-timeout", "ws-handshake-timeout"},
                   {"no-ws"});
  if (absl::Status s = flags.Parse(argc, argv, 2); !s.ok()) return Fail(s);
  pom::matcher::DurableMatcherOptions o;
  o.data_dir = flags.GetOr("data", kDefaultData);
  if (flags.Has("genesis")) {
    absl::StatusOr<pom::codec::Genesis> genesis = pom::codec::ReadGenesisFile(flags.GetOr("genesis", ""));
    if (!genesis.ok()) return Fail(genesis.status());
    o.genesis = *std::move(genesis);
  }
  auto interval = flags.GetU64Or("snapshot-interval", o.snapshot_interval);
  auto retention = flags.GetU64Or("proof-retention", 0);
  auto max_batch = flags.GetU64Or("max-batch", 256);
  auto queue_limit = flags.GetU64Or("queue-limit", 65'536);
  auto corrupt = flags.GetU64Or("test-corrupt-proof-at", 0);
  for (const absl::Status& s :
       {interval.status(), retention.status(), max_batch.status(), queue_limit.status(), corrupt.status()}) {
    if (!s.ok()) return Fail(s);
  }
  o.snapshot_interval = *interval;
  o.proof_retention = *retention;
  const std::string tree = flags.GetOr("tree", "memory");
  if (tree == "rocksdb") {
    o.tree = pom::matcher::TreeStorage::kRocksDb;
  } else if (tree != "memory") {
    return Fail(absl::InvalidArgumentError("--tree must be memory or rocksdb"));
  }
  o.signatures_prechecked = true;  // MatcherServer checks them on its gRPC threads
  o.keep_proofs = !flags.Has("no-ws");  // the WebSocket gateway publishes from them
  absl::StatusOr<std::unique_ptr<pom::matcher::DurableMatcher>> matcher = pom::matcher::DurableMatcher::Open(o);
  if (!matcher.ok()) return Fail(matcher.status());
  PrintRecovery((*matcher)->recovery());
  pom::matcher::MatcherServiceOptions so;
  so.listen = flags.GetOr("listen", so.listen);
  so.verifier = flags.GetOr("verifier", "");
  so.max_batch = static_cast<size_t>(std::clamp<uint64_t>(*max_batch, 1, 1 << 16));
  so.queue_limit = static_cast<size_t>(std::max<uint64_t>(*queue_limit, 1));
  so.corrupt_proof_at = *corrupt;
  if (!flags.Has("no-ws")) so.ws_listen = flags.GetOr("ws-listen", "127.0.0.1:8080");
  {
    pom::gateway::GatewayOptions& g = so.gateway;
    auto rate = flags.GetU64Or("ws-rate", static_cast<uint64_t>(g.requests_per_second));
    auto queued = flags.GetU64Or("ws-max-queued", g.max_queued_messages);
    auto subs = flags.GetU64Or("ws-max-subscriptions", g.max_subscriptions);
    auto conns = flags.GetU64Or("ws-max-connections-per-address", g.max_connections_per_address);
    auto frame = flags.GetU64Or("ws-max-frame-bytes", g.max_frame_bytes);
    auto idle = flags.GetU64Or("ws-idle-timeout", static_cast<uint64_t>(g.idle_timeout.count()));
    auto handshake = flags.GetU64Or("ws-handshake-timeout", static_cast<uint64_t>(g.handshake_timeout.count()));
    for (const absl::Status& s :
         {rate.status(), queued.status(), subs.status(), conns.status(), frame.status(), idle.status(),
          handshake.status()}) {
      if (!s.ok()) return Fail(s);
    }
    g.requests_per_second = static_cast<double>(std::clamp<uint64_t>(*rate, 1, 1'000'000));
    g.burst = 2 * g.requests_per_second;
    g.account_requests_per_second = 2 * g.requests_per_second;
    g.max_queued_messages = std::clamp<uint64_t>(*queued, 1, 1 << 20);
    g.max_subscriptions = std::clamp<uint64_t>(*subs, 1, 1 << 16);
    g.max_connections_per_address = std::clamp<uint64_t>(*conns, 1, 1 << 20);
    g.max_frame_bytes = std::clamp<uint64_t>(*frame, 256, 16 << 20);
    g.idle_timeout = std::chrono::seconds(std::clamp<uint64_t>(*idle, 1, 3600));
    g.handshake_timeout = std::chrono::seconds(std::clamp<uint64_t>(*handshake, 1, 3600));
  }
  absl::StatusOr<std::unique_ptr<pom::matcher::MatcherServer>> server =
      pom::matcher::MatcherServer::Start(*std::move(matcher), so);
  if (!server.ok()) return Fail(server.status());
  if ((*server)->ws_port() != 0) std::printf("websocket port=%d\n", (*server)->ws_port());
  std::printf("listening port=%d\n", (*server)->port());
  std::fflush(stdout);
  const int signal = pom::rpc::WaitForTerminationSignal();
  std::fprintf(stderr, "pom-matcher: signal %d: stopping\n", signal);
  (*server)->Shutdown();
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
