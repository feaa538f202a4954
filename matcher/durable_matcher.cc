#include "matcher/durable_matcher.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>
#include <rocksdb/write_batch.h>

#include "absl/strings/str_cat.h"
#include "common/byte_io.h"
#include "common/checksum.h"
#include "common/kill_point.h"
#include "common/status_macros.h"
#include "matcher/state_snapshot.h"
#include "matcher/storage/rocksdb_node_store.h"

namespace pom::matcher {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

constexpr std::string_view kGenesisKey = "genesis";
constexpr std::string_view kTreeKey = "tree";  // kRocksDb: sequence and root of the stored tree

// Creates `dir` and its missing parents.
absl::Status MakeDir(const std::string& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return absl::InternalError(absl::StrCat("create directory ", dir, ": ", error.message()));
  return absl::OkStatus();
}

std::string TreeMeta(uint64_t sequence, const Bytes32& root) {
  ByteWriter w;
  w.U64(sequence);
  w.Raw(root.span());
  return w.Take();
}

absl::StatusOr<std::pair<uint64_t, Bytes32>> ParseTreeMeta(std::string_view bytes) {
  ByteReader r(bytes);
  std::pair<uint64_t, Bytes32> out;
  if (!r.U64(&out.first) || !r.Raw(out.second.bytes) || !r.done()) {
    return absl::DataLossError("tree metadata is malformed");
  }
  return out;
}

uint64_t ClientOrderIdOf(const rules::Command& command) {
  const auto* place = std::get_if<rules::PlaceOrder>(&command.body);
  return place == nullptr ? 0 : place->client_order_id;
}

std::string SerializeCommand(const rules::Command& command) {
  v1::Command wire;
  codec::ToProto(command, &wire);
  return wire.SerializeAsString();
}

// The new_root field of a serialized pom.v1.Proof, without parsing the rest (leaves, records and
// the multiproof are most of its bytes). Errors: DataLoss if the field is absent or malformed.
absl::StatusOr<std::string> ProofNewRoot(const std::string& bytes) {
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  const int field = v1::Proof::kNewRootFieldNumber;
  while (const uint32_t tag = in.ReadTag()) {
    if (google::protobuf::internal::WireFormatLite::GetTagFieldNumber(tag) == field &&
        google::protobuf::internal::WireFormatLite::GetTagWireType(tag) ==
            google::protobuf::internal::WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      std::string root;
      uint32_t size = 0;
      if (!in.ReadVarint32(&size) || size != 32 || !in.ReadString(&root, static_cast<int>(size))) break;
      return root;
    }
    if (!google::protobuf::internal::WireFormatLite::SkipField(&in, tag)) break;
  }
  return absl::DataLossError("stored proof has no readable new_root");
}

}  // namespace

DurableMatcher::DurableMatcher(DurableMatcherOptions options) : options_(std::move(options)) {}
DurableMatcher::~DurableMatcher() = default;

absl::StatusOr<std::unique_ptr<DurableMatcher>> DurableMatcher::Open(DurableMatcherOptions options) {
  std::unique_ptr<DurableMatcher> m(new DurableMatcher(std::move(options)));
  POM_RETURN_IF_ERROR(m->Recover());
  return m;
}

absl::Status DurableMatcher::LoadGenesis(codec::Genesis* genesis) {
  POM_ASSIGN_OR_RETURN(std::optional<std::string> stored, store_->GetMeta(kGenesisKey));
  if (stored) {
    if (options_.genesis && codec::GenesisToJson(*options_.genesis) != *stored) {
      return absl::FailedPreconditionError(
          absl::StrCat("data dir ", options_.data_dir, " belongs to another genesis"));
    }
    POM_ASSIGN_OR_RETURN(*genesis, codec::GenesisFromJson(*stored));
    return absl::OkStatus();
  }
  if (!options_.genesis) {
    return absl::FailedPreconditionError(
        absl::StrCat("data dir ", options_.data_dir, " is new: a genesis is required"));
  }
  *genesis = *options_.genesis;
  rocksdb::WriteBatch batch;
  store_->PutMeta(&batch, kGenesisKey, codec::GenesisToJson(*genesis));
  return store_->Write(&batch, /*sync=*/true);
}

absl::Status DurableMatcher::Recover() {
  const auto start = std::chrono::steady_clock::now();
  POM_RETURN_IF_ERROR(MakeDir(options_.data_dir));
  StoreOptions store_options;
  store_options.path = options_.data_dir + "/db";
  store_options.env = options_.env;
  POM_ASSIGN_OR_RETURN(store_, Store::Open(store_options));
  codec::Genesis genesis;
  POM_RETURN_IF_ERROR(LoadGenesis(&genesis));

  EngineOptions engine_options;
  engine_options.prover_id = genesis.prover_id;
  engine_options.operator_account = genesis.operator_key;
  // Journaled commands were checked before they were journaled, and their records are sealed.
  engine_options.check_signatures = false;

  // Which snapshot: the newest (kMemory), or the one the stored tree belongs to (kRocksDb).
  POM_ASSIGN_OR_RETURN(std::vector<uint64_t> snapshots, ListSnapshots(snapshot_dir()));
  std::optional<uint64_t> chosen;
  std::optional<std::pair<uint64_t, Bytes32>> tree_meta;
  if (options_.tree == TreeStorage::kRocksDb) {
    RocksDbNodeStoreOptions node_options;
    node_options.cache_nodes = options_.tree_cache_nodes;
    POM_ASSIGN_OR_RETURN(nodes_, RocksDbNodeStore::Open(store_->db(), store_->nodes_family(), node_options));
    engine_options.node_store = nodes_.get();
    POM_ASSIGN_OR_RETURN(std::optional<std::string> meta, store_->GetMeta(kTreeKey));
    if (meta) {
      POM_ASSIGN_OR_RETURN(tree_meta, ParseTreeMeta(*meta));
      if (tree_meta->first > 0) {
        if (std::find(snapshots.begin(), snapshots.end(), tree_meta->first) == snapshots.end()) {
          return absl::DataLossError(absl::StrCat("the stored tree is at sequence ", tree_meta->first,
                                                  " but snapshot ", tree_meta->first, " is missing"));
        }
        chosen = tree_meta->first;
      }
    }
  } else if (!snapshots.empty()) {
    chosen = snapshots.front();
  }
  POM_ASSIGN_OR_RETURN(engine_, Engine::Create(engine_options));

  if (chosen) {
    POM_ASSIGN_OR_RETURN(std::string bytes, ReadSnapshotFile(snapshot_dir(), *chosen));
    absl::StatusOr<Snapshot> snapshot = DecodeSnapshot(bytes);
    if (!snapshot.ok()) {
      return absl::DataLossError(absl::StrCat("snapshot ", SnapshotPath(snapshot_dir(), *chosen),
                                              ": ", snapshot.status().message()));
    }
    if (snapshot->sequence != *chosen) {
      return absl::DataLossError(absl::StrCat("snapshot file ", *chosen, " records sequence ",
                                              snapshot->sequence));
    }
    const bool build_tree = options_.tree == TreeStorage::kMemory;
    const Bytes32 recorded = snapshot->root;
    POM_RETURN_IF_ERROR(engine_->Restore(snapshot->sequence, std::move(snapshot->state),
                                         std::move(snapshot->ledger), build_tree));
    if (engine_->root() != recorded || (tree_meta && tree_meta->second != recorded)) {
      return absl::DataLossError(absl::StrCat(
          "snapshot ", *chosen, " records root ", ToHex(recorded), " but its state gives ",
          ToHex(engine_->root()), "; refusing to start (move the file away to fall back to an "
          "older snapshot)"));
    }
    recovery_.snapshot_sequence = *chosen;
    last_snapshot_ = *chosen;
    previous_snapshot_ = snapshots.size() > 1 ? snapshots[1] : 0;
  } else {
    if (!engine_->root().IsZero()) {
      return absl::DataLossError("the stored tree is not empty but there is no snapshot for it");
    }
    for (const codec::ChainBalance& b : genesis.chain_balances) {
      POM_RETURN_IF_ERROR(engine_->CreditChain(b.user, b.currency, b.amount));
    }
  }
  POM_RETURN_IF_ERROR(Replay(engine_->sequence() + 1));
  engine_->set_check_signatures(!options_.signatures_prechecked);
  recovery_.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return absl::OkStatus();
}

absl::Status DurableMatcher::Replay(uint64_t from) {
  v1::Command wire;
  std::vector<std::pair<uint64_t, std::string>> restored;
  auto flush_restored = [&]() -> absl::Status {
    if (restored.empty()) return absl::OkStatus();
    POM_RETURN_IF_ERROR(store_->PutProofs(restored));
    restored.clear();
    return absl::OkStatus();
  };
  POM_ASSIGN_OR_RETURN(
      JournalScan scan,
      store_->ScanJournal(from, [&](uint64_t seq, std::string_view payload) -> absl::Status {
        wire.Clear();
        if (!wire.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
          return absl::DataLossError(absl::StrCat("journal record ", seq, " does not parse"));
        }
        POM_ASSIGN_OR_RETURN(rules::Command command, codec::FromProto(wire));
        absl::StatusOr<std::optional<std::string>> stored = store_->ReadProof(seq);
        const bool have_proof = stored.ok() && stored->has_value();
        if (!stored.ok() && !absl::IsOutOfRange(stored.status())) return stored.status();
        absl::StatusOr<rules::EventProof> proof = engine_->Submit(command, !have_proof && stored.ok());
        if (!proof.ok()) {
          return absl::DataLossError(absl::StrCat("journal record ", seq,
                                                  " does not replay: ", proof.status().message()));
        }
        if (proof->sequence.value != seq) {
          return absl::DataLossError(absl::StrCat("journal record ", seq, " replays as event ",
                                                  proof->sequence.value));
        }
        if (have_proof) {
          const std::string root(proof->new_root.bytes.begin(), proof->new_root.bytes.end());
          absl::StatusOr<std::string> stored_root = ProofNewRoot(**stored);
          if (!stored_root.ok() || *stored_root != root) {
            return absl::DataLossError(absl::StrCat("replay of sequence ", seq,
                                                    " does not reach the root of its stored proof"));
          }
        } else if (stored.ok()) {
          v1::Proof out;
          codec::ToProto(*proof, &out);
          restored.emplace_back(seq, out.SerializeAsString());
          ++recovery_.proofs_restored;
          if (restored.size() >= 256) POM_RETURN_IF_ERROR(flush_restored());
        }
        ++recovery_.replayed;
        return absl::OkStatus();
      }));
  recovery_.truncated_tail = scan.truncated_tail;
  return flush_restored();
}

absl::Status DurableMatcher::Halt(absl::Status reason) {
  halted_ = absl::InternalError(absl::StrCat("matcher halted (fail-stop): ", reason.ToString()));
  return halted_;
}

absl::StatusOr<std::optional<uint64_t>> DurableMatcher::FindClientOrder(
    const rules::AccountId& signer, uint64_t client_order_id, std::span<const JournalRecord> pending) {
  for (const JournalRecord& r : pending) {  // this batch, not yet journaled
    if (r.client_order_id == client_order_id && r.signer == signer) return r.sequence;
  }
  POM_ASSIGN_OR_RETURN(std::optional<uint64_t> seq, store_->FindClientOrder(signer, client_order_id));
  if (!seq.has_value()) return std::nullopt;
  // The entry may belong to a torn record that recovery dropped (and the sequence was reused):
  // it counts only if the journal holds this account's order with this id there.
  POM_ASSIGN_OR_RETURN(std::optional<std::string> journaled, store_->ReadJournal(*seq));
  if (!journaled.has_value()) return std::nullopt;
  v1::Command wire;
  if (!wire.ParseFromString(*journaled)) return absl::DataLossError(absl::StrCat("journal record ", *seq, " does not parse"));
  absl::StatusOr<rules::Command> command = codec::FromProto(wire);
  if (!command.ok() || command->signer != signer || ClientOrderIdOf(*command) != client_order_id) return std::nullopt;
  return seq;
}

absl::StatusOr<std::vector<SubmitResult>> DurableMatcher::SubmitBatch(
    std::span<const rules::Command> commands) {
  if (!halted_.ok()) return halted_;
  std::vector<SubmitResult> results(commands.size());
  std::vector<JournalRecord> journal;
  std::vector<std::pair<uint64_t, std::string>> proofs;
  v1::Proof wire;
  for (size_t i = 0; i < commands.size(); ++i) {
    const rules::Command& command = commands[i];
    SubmitResult& result = results[i];
    // A resubmitted command (a client retry, or ingest after a crash) is recognized, not refused.
    if (command.nonce <= engine_->state().NonceOf(command.signer)) {
      absl::StatusOr<std::optional<uint64_t>> seq = store_->FindSequenced(command.signer, command.nonce);
      if (!seq.ok()) return Halt(seq.status());
      if (seq->has_value()) {
        absl::StatusOr<std::optional<std::string>> journaled = store_->ReadJournal(**seq);
        if (!journaled.ok()) return Halt(journaled.status());
        if (journaled->has_value() && **journaled == SerializeCommand(command)) {
          result.status = absl::AlreadyExistsError(absl::StrCat("already sequenced at ", **seq));
          result.sequence = **seq;
          continue;
        }
      }
    }
    // A client order id is used once per account: an order that reuses one is answered with
    // the original order's sequence (idempotent placement across reconnects and restarts).
    const uint64_t coid = ClientOrderIdOf(command);
    if (coid != 0) {
      absl::StatusOr<std::optional<uint64_t>> original = FindClientOrder(command.signer, coid, journal);
      if (!original.ok()) return Halt(original.status());
      if (original->has_value()) {
        // Only its owner learns about the original order: a forged reuse is refused as such.
        if (!options_.signatures_prechecked && !rules::VerifyCommandSignature(engine_->prover_id(), command)) {
          result.status = absl::UnauthenticatedError("bad signature");
          continue;
        }
        result.status = absl::AlreadyExistsError(
            absl::StrCat("client order id ", coid, " was already used, by the order sequenced at ", **original));
        result.sequence = **original;
        continue;
      }
    }
    const auto started = options_.observer ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
    absl::StatusOr<rules::EventProof> proof = engine_->Submit(command);
    if (!proof.ok()) {
      if (absl::IsInternal(proof.status())) return Halt(proof.status());
      result.status = proof.status();
      continue;
    }
    result.sequence = proof->sequence.value;
    result.outcome = proof->outcome;
    result.new_root = proof->new_root;
    journal.push_back(JournalRecord{result.sequence, SerializeCommand(command), command.signer,
                                    command.nonce, coid});
    codec::ToProto(*proof, &wire);
    proofs.emplace_back(result.sequence, wire.SerializeAsString());
    if (options_.observer) options_.observer->OnEvent(SecondsSince(started), proofs.back().second.size());
    if (options_.keep_proofs) result.proof = std::make_shared<const rules::EventProof>(*std::move(proof));
  }
  if (journal.empty()) return results;
  KillPoint("after-apply");
  const auto sync_started = std::chrono::steady_clock::now();
  if (absl::Status s = store_->AppendJournal(journal); !s.ok()) return Halt(s);
  KillPoint("after-append");
  if (absl::Status s = store_->SyncJournal(); !s.ok()) return Halt(s);
  KillPoint("after-sync");
  if (options_.observer) options_.observer->OnJournalSync(SecondsSince(sync_started));
  if (absl::Status s = store_->PutProofs(proofs); !s.ok()) return Halt(s);
  KillPoint("after-proof");
  if (options_.snapshot_interval > 0 &&
      engine_->sequence() - last_snapshot_ >= options_.snapshot_interval) {
    if (absl::Status s = WriteSnapshot(); !s.ok()) return Halt(s);
  }
  return results;
}

absl::Status DurableMatcher::WriteSnapshot() {
  if (!halted_.ok()) return halted_;
  const uint64_t seq = engine_->sequence();
  if (seq == last_snapshot_) return absl::OkStatus();
  const auto started = std::chrono::steady_clock::now();
  // Recovery from this snapshot rebuilds only the proofs after it, so every proof up to it must
  // be on disk: the last batch's went into the log after that batch's sync.
  POM_RETURN_IF_ERROR(store_->SyncJournal());
  const std::string bytes = EncodeSnapshot(seq, engine_->root(), engine_->state(), engine_->ledger());
  POM_RETURN_IF_ERROR(WriteSnapshotFile(snapshot_dir(), seq, bytes));
  if (nodes_) {
    // The tree reaches disk only here, together with the sequence it belongs to.
    rocksdb::WriteBatch batch;
    POM_RETURN_IF_ERROR(nodes_->AddDirtyTo(&batch));
    store_->PutMeta(&batch, kTreeKey, TreeMeta(seq, engine_->root()));
    KillPoint("tree-flush");
    POM_RETURN_IF_ERROR(store_->Write(&batch, /*sync=*/true));
    nodes_->MarkFlushed();
  }
  // Keep this snapshot and the one before it.
  POM_RETURN_IF_ERROR(PruneSnapshots(snapshot_dir(), last_snapshot_));
  previous_snapshot_ = last_snapshot_;
  last_snapshot_ = seq;
  if (options_.proof_retention > 0 && seq > options_.proof_retention) {
    POM_RETURN_IF_ERROR(store_->PruneProofs(seq - options_.proof_retention + 1));
  }
  if (options_.observer) options_.observer->OnSnapshot(SecondsSince(started));
  return absl::OkStatus();
}

uint64_t DurableMatcher::StateDigest() const {
  return RecordChecksum("state", EncodeSnapshot(engine_->sequence(), engine_->root(),
                                                engine_->state(), engine_->ledger()));
}

}  // namespace pom::matcher
