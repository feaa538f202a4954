#include "verifier/store.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "common/byte_io.h"
#include "common/checksum.h"
#include "common/hash.h"
#include "common/kill_point.h"
#include "common/status_macros.h"

namespace pom::verify {
namespace {

constexpr std::string_view kGenesisKey = "genesis";
constexpr std::string_view kSequenceKey = "head.sequence";
constexpr std::string_view kRootKey = "head.root";
constexpr std::string_view kLedgerKey = "head.ledger";
constexpr std::string_view kGenesisTag = "pom.verifier.genesis.v1";
constexpr std::string_view kAuthNextKey = "auth.next";
constexpr std::string_view kAuthPrefix = "auth/";  // + 8-byte big-endian index

std::string AuthKey(uint64_t index) {
  std::string key(kAuthPrefix);
  for (int i = 7; i >= 0; --i) key.push_back(static_cast<char>(index >> (8 * i)));
  return key;
}

absl::Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  const std::string msg = absl::StrCat(std::string(what), ": ", s.ToString());
  if (s.IsCorruption()) return absl::DataLossError(msg);
  return absl::InternalError(msg);
}

// The unsealed payload stored under `key`, or nullopt if there is none.
absl::StatusOr<std::optional<std::string>> Get(rocksdb::DB& db, std::string_view key) {
  rocksdb::ReadOptions read;
  read.verify_checksums = true;
  std::string sealed;
  const rocksdb::Status s = db.Get(read, db.DefaultColumnFamily(), key, &sealed);
  if (s.IsNotFound()) return std::nullopt;
  POM_RETURN_IF_ERROR(FromRocks(s, absl::StrCat("verifier store: read ", std::string(key))));
  absl::StatusOr<std::string_view> payload = UnsealRecord(key, sealed);
  if (!payload.ok()) {
    return absl::DataLossError(absl::StrCat("verifier store: record '", std::string(key), "' is corrupt (",
                                            payload.status().message(), "); refusing to resume"));
  }
  return std::string(*payload);
}

absl::StatusOr<Bytes32> DecodeBytes32(std::string_view key, std::string_view payload) {
  if (payload.size() != Bytes32::kSize) {
    return absl::DataLossError(absl::StrCat("verifier store: record '", std::string(key), "' has ", payload.size(),
                                            " bytes, want 32"));
  }
  Bytes32 out;
  std::copy(payload.begin(), payload.end(), reinterpret_cast<char*>(out.data()));
  return out;
}

std::string_view AsChars(const Bytes32& b) {
  return std::string_view(reinterpret_cast<const char*>(b.data()), Bytes32::kSize);
}

}  // namespace

Bytes32 GenesisDigest(const Config& config, const rules::CustodyLedger& genesis_ledger) {
  ByteWriter w;
  w.Blob(kGenesisTag);
  w.Raw(config.prover_id.span());
  w.Raw(config.operator_account.bytes);
  w.Blob(genesis_ledger.Encode());
  Sha256Hasher hasher;
  const std::string& bytes = w.data();
  return hasher.Digest(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

VerifierStore::VerifierStore(std::unique_ptr<rocksdb::DB> db, Bytes32 genesis)
    : db_(std::move(db)), genesis_(genesis) {}

VerifierStore::~VerifierStore() {
  if (db_) db_->Close().PermitUncheckedError();
}

absl::StatusOr<std::unique_ptr<VerifierStore>> VerifierStore::Open(const VerifierStoreOptions& options) {
  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  db_options.paranoid_checks = true;
  if (options.env != nullptr) db_options.env = options.env;
  rocksdb::DB* raw = nullptr;
  POM_RETURN_IF_ERROR(FromRocks(rocksdb::DB::Open(db_options, options.path, &raw),
                                absl::StrCat("verifier store: open RocksDB at ", options.path)));
  std::unique_ptr<VerifierStore> store(new VerifierStore(std::unique_ptr<rocksdb::DB>(raw), options.genesis));
  POM_ASSIGN_OR_RETURN(std::optional<std::string> stored, Get(*store->db_, kGenesisKey));
  if (stored) {
    POM_ASSIGN_OR_RETURN(const Bytes32 digest, DecodeBytes32(kGenesisKey, *stored));
    if (digest != options.genesis) {
      return absl::FailedPreconditionError(
          absl::StrCat("verifier store at ", options.path, " holds a head from another genesis (stored genesis ",
                       ToHex(digest), ", this run's genesis ", ToHex(options.genesis),
                       "); use the genesis it started from or a fresh data directory"));
    }
  }
  return store;
}

absl::StatusOr<std::optional<VerifierHead>> VerifierStore::Load() const {
  POM_ASSIGN_OR_RETURN(std::optional<std::string> genesis, Get(*db_, kGenesisKey));
  POM_ASSIGN_OR_RETURN(std::optional<std::string> sequence, Get(*db_, kSequenceKey));
  POM_ASSIGN_OR_RETURN(std::optional<std::string> root, Get(*db_, kRootKey));
  POM_ASSIGN_OR_RETURN(std::optional<std::string> ledger, Get(*db_, kLedgerKey));
  const int present = genesis.has_value() + sequence.has_value() + root.has_value() + ledger.has_value();
  if (present == 0) return std::nullopt;
  if (present != 4) {
    return absl::DataLossError(absl::StrCat("verifier store: incomplete head (genesis ", genesis.has_value(),
                                            ", sequence ", sequence.has_value(), ", root ", root.has_value(),
                                            ", ledger ", ledger.has_value(), " present); refusing to resume"));
  }
  VerifierHead head;
  ByteReader r(*sequence);
  if (!r.U64(&head.sequence) || !r.done()) {
    return absl::DataLossError(absl::StrCat("verifier store: record '", std::string(kSequenceKey), "' is malformed"));
  }
  POM_ASSIGN_OR_RETURN(head.root, DecodeBytes32(kRootKey, *root));
  absl::StatusOr<rules::CustodyLedger> decoded = rules::CustodyLedger::Decode(*ledger);
  if (!decoded.ok()) {
    return absl::DataLossError(absl::StrCat("verifier store: record '", std::string(kLedgerKey),
                                            "' does not decode: ", decoded.status().message()));
  }
  head.ledger = std::move(*decoded);
  return head;
}

absl::Status VerifierStore::Commit(const VerifierHead& head) { return Commit(head, {}); }

absl::Status VerifierStore::Commit(const VerifierHead& head, std::span<const uint64_t> consumed) {
  ByteWriter sequence;
  sequence.U64(head.sequence);
  rocksdb::WriteBatch batch;
  auto put = [&batch](std::string_view key, std::string_view payload) {
    return FromRocks(batch.Put(key, SealRecord(key, payload)), "verifier store: build the commit batch");
  };
  POM_RETURN_IF_ERROR(put(kGenesisKey, AsChars(genesis_)));
  POM_RETURN_IF_ERROR(put(kSequenceKey, sequence.data()));
  POM_RETURN_IF_ERROR(put(kRootKey, AsChars(head.root)));
  POM_RETURN_IF_ERROR(put(kLedgerKey, head.ledger.Encode()));
  for (uint64_t index : consumed) {
    POM_RETURN_IF_ERROR(FromRocks(batch.Delete(AuthKey(index)), "verifier store: build the commit batch"));
  }
  KillPoint("verifier-persist");
  rocksdb::WriteOptions write;
  write.sync = true;
  POM_RETURN_IF_ERROR(FromRocks(db_->Write(write, &batch),
                                absl::StrCat("verifier store: commit the head at sequence ", head.sequence)));
  KillPoint("verifier-persisted");
  return absl::OkStatus();
}

absl::Status VerifierStore::AddAuthorization(uint64_t index, std::string_view command) {
  ByteWriter next;
  next.U64(index + 1);
  const std::string key = AuthKey(index);
  rocksdb::WriteBatch batch;
  POM_RETURN_IF_ERROR(FromRocks(batch.Put(key, SealRecord(key, command)), "verifier store: build an authorization"));
  POM_RETURN_IF_ERROR(
      FromRocks(batch.Put(kAuthNextKey, SealRecord(kAuthNextKey, next.data())), "verifier store: build an authorization"));
  rocksdb::WriteOptions write;
  write.sync = true;
  return FromRocks(db_->Write(write, &batch), absl::StrCat("verifier store: record authorization ", index));
}

absl::StatusOr<VerifierStore::StoredAuthorizations> VerifierStore::LoadAuthorizations() const {
  StoredAuthorizations out;
  POM_ASSIGN_OR_RETURN(std::optional<std::string> next, Get(*db_, kAuthNextKey));
  if (next.has_value()) {
    ByteReader r(*next);
    if (!r.U64(&out.next_index) || !r.done()) {
      return absl::DataLossError(absl::StrCat("verifier store: record '", std::string(kAuthNextKey), "' is malformed"));
    }
  }
  rocksdb::ReadOptions read;
  read.verify_checksums = true;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read));
  for (it->Seek(kAuthPrefix); it->Valid() && it->key().starts_with(kAuthPrefix); it->Next()) {
    const std::string key = it->key().ToString();
    if (key.size() != kAuthPrefix.size() + 8) {
      return absl::DataLossError(absl::StrCat("verifier store: malformed authorization key of ", key.size(), " bytes"));
    }
    uint64_t index = 0;
    for (size_t i = kAuthPrefix.size(); i < key.size(); ++i) index = (index << 8) | static_cast<uint8_t>(key[i]);
    absl::StatusOr<std::string_view> payload = UnsealRecord(key, it->value().ToStringView());
    if (!payload.ok()) {
      return absl::DataLossError(absl::StrCat("verifier store: authorization ", index, " is corrupt (",
                                              payload.status().message(), ")"));
    }
    if (index >= out.next_index) {
      return absl::DataLossError(absl::StrCat("verifier store: authorization ", index, " is past the next index ",
                                              out.next_index));
    }
    out.outstanding.emplace_back(index, std::string(*payload));
  }
  POM_RETURN_IF_ERROR(FromRocks(it->status(), "verifier store: scan the authorizations"));
  return out;
}

}  // namespace pom::verify
