#include "matcher/storage/store.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "common/byte_io.h"
#include "common/checksum.h"
#include "common/status_macros.h"

namespace pom::matcher {
namespace {

constexpr std::string_view kFirstProofKey = "proofs.first";

absl::Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  const std::string msg = absl::StrCat(std::string(what), ": ", s.ToString());
  if (s.IsCorruption()) return absl::DataLossError(msg);
  return absl::InternalError(msg);
}

uint64_t SequenceOfKey(const rocksdb::Slice& key) {
  uint64_t v = 0;
  for (size_t i = 0; i < key.size() && i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(key[i]);
  return v;
}

std::string DedupKey(const PublicKey& signer, uint64_t nonce) {
  std::string key(reinterpret_cast<const char*>(signer.bytes.data()), signer.bytes.size());
  key.append(SequenceKey(nonce));
  return key;
}

// 41 bytes, so it never collides with a 40-byte (signer, nonce) key in the same family.
std::string ClientOrderKey(const PublicKey& signer, uint64_t client_order_id) {
  std::string key = "c";
  key.append(reinterpret_cast<const char*>(signer.bytes.data()), signer.bytes.size());
  key.append(SequenceKey(client_order_id));
  return key;
}

std::string U64Payload(uint64_t v) {
  ByteWriter w;
  w.U64(v);
  return w.Take();
}

absl::StatusOr<uint64_t> U64FromPayload(std::string_view p) {
  ByteReader r(p);
  uint64_t v = 0;
  if (!r.U64(&v) || !r.done()) return absl::DataLossError("malformed u64 record");
  return v;
}

}  // namespace

absl::StatusOr<std::optional<std::string>> Store::GetSealed(rocksdb::ColumnFamilyHandle* family,
                                                           std::string_view key,
                                                           std::string_view what) {
  std::string value;
  const rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), family, rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::nullopt;
  POM_RETURN_IF_ERROR(FromRocks(s, absl::StrCat("read ", std::string(what))));
  absl::StatusOr<std::string_view> payload = UnsealRecord(key, value);
  if (!payload.ok()) return absl::DataLossError(absl::StrCat(std::string(what), " is corrupt"));
  return std::string(*payload);
}

std::string SequenceKey(uint64_t sequence) {
  std::string key(8, '\0');
  for (int i = 0; i < 8; ++i) key[i] = static_cast<char>(sequence >> (8 * (7 - i)));
  return key;
}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  db_options.paranoid_checks = true;
  // A memtable flush writes tens of MB; synced in one piece at the end it queues the group
  // commits' WAL syncs behind it on the same disk (an 80 ms stall every ~14k events under the
  // WebSocket load). Syncing flush output every MiB as it is written keeps those syncs short.
  db_options.bytes_per_sync = 1 << 20;
  if (options.env != nullptr) db_options.env = options.env;
  rocksdb::ColumnFamilyOptions cf_options;
  // Proofs and tree nodes are mostly hashes and signatures, and commands carry a signature and
  // keys: block compression would spend flush and compaction CPU (which shares the engine's two
  // cores) to save next to nothing. Files written with compression stay readable.
  rocksdb::ColumnFamilyOptions incompressible = cf_options;
  incompressible.compression = rocksdb::kNoCompression;
  // Smaller memtables: each flush (and the stall it can cause) is a quarter of the default's.
  incompressible.write_buffer_size = 16 << 20;
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, cf_options},
      {"journal", incompressible},
      {"proofs", incompressible},
      {"dedup", cf_options},
      {"nodes", incompressible},
      {"meta", cf_options},
  };
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  POM_RETURN_IF_ERROR(FromRocks(rocksdb::DB::Open(db_options, options.path, families, &handles, &raw),
                                absl::StrCat("open RocksDB at ", options.path)));
  std::unique_ptr<Store> store(new Store());
  store->db_.reset(raw);
  // The default family is unused; its handle is owned by the DB.
  delete handles[0];
  store->journal_ = handles[1];
  store->proofs_ = handles[2];
  store->dedup_ = handles[3];
  store->nodes_ = handles[4];
  store->meta_ = handles[5];
  POM_ASSIGN_OR_RETURN(std::optional<std::string> first, store->GetMeta(kFirstProofKey));
  if (first) {
    POM_ASSIGN_OR_RETURN(const uint64_t first_proof, U64FromPayload(*first));
    store->first_proof_ = first_proof;
  }
  return store;
}

Store::~Store() {
  if (!db_) return;
  for (rocksdb::ColumnFamilyHandle* h : {journal_, proofs_, dedup_, nodes_, meta_}) {
    db_->DestroyColumnFamilyHandle(h);
  }
  db_->Close().PermitUncheckedError();
}

absl::Status Store::AppendJournal(std::span<const JournalRecord> records) {
  rocksdb::WriteBatch batch;
  for (const JournalRecord& r : records) {
    const std::string key = SequenceKey(r.sequence);
    batch.Put(journal_, key, SealRecord(key, r.command));
    const std::string dedup = DedupKey(r.signer, r.nonce);
    batch.Put(dedup_, dedup, SealRecord(dedup, U64Payload(r.sequence)));
    if (r.client_order_id != 0) {
      const std::string coid = ClientOrderKey(r.signer, r.client_order_id);
      batch.Put(dedup_, coid, SealRecord(coid, U64Payload(r.sequence)));
    }
  }
  return Write(&batch, /*sync=*/false);
}

absl::Status Store::SyncJournal() {
  ++syncs_;
  return FromRocks(db_->SyncWAL(), "sync the journal");
}

absl::StatusOr<JournalScan> Store::ScanJournal(
    uint64_t from, const std::function<absl::Status(uint64_t, std::string_view)>& f) {
  JournalScan scan;
  scan.last_sequence = from == 0 ? 0 : from - 1;
  rocksdb::ReadOptions read;
  read.verify_checksums = true;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, journal_));
  for (it->Seek(SequenceKey(from)); it->Valid(); it->Next()) {
    const uint64_t seq = SequenceOfKey(it->key());
    if (it->key().size() != 8 || seq != scan.last_sequence + 1) {
      return absl::DataLossError(absl::StrCat("journal: expected sequence ", scan.last_sequence + 1,
                                              " but found ", seq, " (a gap in the journal)"));
    }
    absl::StatusOr<std::string_view> payload =
        UnsealRecord(it->key().ToStringView(), it->value().ToStringView());
    if (!payload.ok()) {
      const std::string key = it->key().ToString();
      it->Next();
      if (!it->Valid() && it->status().ok()) {
        // The last record is torn: it was never synced, so never acknowledged.
        rocksdb::WriteBatch batch;
        batch.Delete(journal_, key);
        POM_RETURN_IF_ERROR(Write(&batch, /*sync=*/true));
        scan.truncated_tail = seq;
        return scan;
      }
      return absl::DataLossError(absl::StrCat("journal record at sequence ", seq,
                                              " is corrupt (", payload.status().message(),
                                              "); refusing to start"));
    }
    POM_RETURN_IF_ERROR(f(seq, *payload));
    scan.last_sequence = seq;
  }
  POM_RETURN_IF_ERROR(FromRocks(it->status(), absl::StrCat("journal: reading after sequence ",
                                                           scan.last_sequence)));
  return scan;
}

absl::StatusOr<std::optional<std::string>> Store::ReadJournal(uint64_t sequence) {
  return GetSealed(journal_, SequenceKey(sequence),
                   absl::StrCat("journal record at sequence ", sequence));
}

absl::StatusOr<std::optional<uint64_t>> Store::FindSequenced(const PublicKey& signer, uint64_t nonce) {
  POM_ASSIGN_OR_RETURN(std::optional<std::string> payload,
                       GetSealed(dedup_, DedupKey(signer, nonce), "duplicate index record"));
  if (!payload) return std::nullopt;
  return U64FromPayload(*payload);
}

absl::StatusOr<std::optional<uint64_t>> Store::FindClientOrder(const PublicKey& signer, uint64_t client_order_id) {
  POM_ASSIGN_OR_RETURN(std::optional<std::string> payload,
                       GetSealed(dedup_, ClientOrderKey(signer, client_order_id), "client order id index record"));
  if (!payload) return std::nullopt;
  return U64FromPayload(*payload);
}

absl::Status Store::PutProofs(std::span<const std::pair<uint64_t, std::string>> proofs) {
  rocksdb::WriteBatch batch;
  for (const auto& [seq, bytes] : proofs) {
    const std::string key = SequenceKey(seq);
    batch.Put(proofs_, key, SealRecord(key, bytes));
  }
  return Write(&batch, /*sync=*/false);
}

absl::StatusOr<std::optional<std::string>> Store::ReadProof(uint64_t sequence) {
  if (const uint64_t first = first_proof_.load(); sequence < first) {
    return absl::OutOfRangeError(absl::StrCat("proof ", sequence, " was pruned (first kept: ",
                                              first, ")"));
  }
  return GetSealed(proofs_, SequenceKey(sequence), absl::StrCat("stored proof ", sequence));
}

absl::Status Store::ScanProofs(uint64_t from,
                               const std::function<absl::Status(uint64_t, std::string_view)>& f) {
  if (const uint64_t first = first_proof_.load(); from < first) {
    return absl::OutOfRangeError(absl::StrCat("proof ", from, " was pruned (first kept: ",
                                              first, ")"));
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), proofs_));
  for (it->Seek(SequenceKey(from)); it->Valid(); it->Next()) {
    const uint64_t seq = SequenceOfKey(it->key());
    absl::StatusOr<std::string_view> payload =
        UnsealRecord(it->key().ToStringView(), it->value().ToStringView());
    if (!payload.ok()) return absl::DataLossError(absl::StrCat("stored proof ", seq, " is corrupt"));
    POM_RETURN_IF_ERROR(f(seq, *payload));
  }
  return FromRocks(it->status(), "scan the proof store");
}

absl::Status Store::PruneProofs(uint64_t keep_from) {
  const uint64_t first = first_proof_.load();
  if (keep_from <= first) return absl::OkStatus();
  // Readers on other threads see the new bound before the proofs go: they get OutOfRange, not
  // a silent gap.
  first_proof_ = keep_from;
  rocksdb::WriteBatch batch;
  batch.DeleteRange(proofs_, SequenceKey(first), SequenceKey(keep_from));
  PutMeta(&batch, kFirstProofKey, U64Payload(keep_from));
  POM_RETURN_IF_ERROR(Write(&batch, /*sync=*/false));
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> Store::GetMeta(std::string_view key) {
  return GetSealed(meta_, key, absl::StrCat("metadata '", std::string(key), "'"));
}

void Store::PutMeta(rocksdb::WriteBatch* batch, std::string_view key, std::string_view value) {
  batch->Put(meta_, key, SealRecord(key, value));
}

absl::Status Store::Write(rocksdb::WriteBatch* batch, bool sync) {
  rocksdb::WriteOptions options;
  options.sync = sync;
  if (sync) ++syncs_;
  return FromRocks(db_->Write(options, batch), "write to RocksDB");
}

}  // namespace pom::matcher
