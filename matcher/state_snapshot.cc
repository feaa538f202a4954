#include "matcher/state_snapshot.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/byte_io.h"
#include "common/checksum.h"
#include "common/kill_point.h"
#include "common/rules/records.h"
#include "common/status_macros.h"

namespace pom::matcher {
namespace {

using rules::MarketId;

constexpr std::string_view kMagic = "POMSNAP1";
constexpr uint32_t kFormatVersion = 1;
constexpr size_t kChunkTarget = 1 << 20;
constexpr size_t kChunkHeader = 4 + 8;

enum class Tag : uint8_t {
  kBalance = 1,
  kNonce = 2,
  kMarket = 3,
  kSizes = 4,
  kBest = 5,
  kVolume = 6,
  kPage = 7,
  kOrder = 8,
  kTrailer = 0xff,
};

std::string ChunkKey(uint64_t index) {
  std::string key = "snapshot.chunk.";
  for (int i = 0; i < 8; ++i) key.push_back(static_cast<char>(index >> (8 * i)));
  return key;
}

bool KeyLess(const PublicKey& a, const PublicKey& b) {
  return std::memcmp(a.bytes.data(), b.bytes.data(), a.bytes.size()) < 0;
}

// Accumulates records into chunks of about kChunkTarget bytes.
class ChunkWriter {
 public:
  ChunkWriter() { out_.append(kMagic); }
  ByteWriter& record() { return current_; }
  void EndRecord() {
    ++records_;
    if (current_.size() >= kChunkTarget) Seal();
  }
  void Seal() {
    const std::string payload = current_.Take();
    current_ = ByteWriter();
    ByteWriter header;
    header.U32(static_cast<uint32_t>(payload.size()));
    header.U64(RecordChecksum(ChunkKey(chunks_), payload));
    out_.append(header.data());
    out_.append(payload);
    ++chunks_;
  }
  std::string Finish() {
    if (current_.size() > 0) Seal();
    current_.U8(static_cast<uint8_t>(Tag::kTrailer));
    current_.U64(records_);
    current_.U64(chunks_ + 1);
    Seal();
    return std::move(out_);
  }

 private:
  std::string out_;
  ByteWriter current_;
  uint64_t records_ = 0;
  uint64_t chunks_ = 0;
};

void PutMarket(ByteWriter& w, MarketId m) {
  w.U32(m.base.id);
  w.U32(m.quote.id);
}

bool GetMarket(ByteReader& r, MarketId* m) { return r.U32(&m->base.id) && r.U32(&m->quote.id); }

absl::Status Errno(std::string_view what, const std::string& path) {
  return absl::InternalError(absl::StrCat(std::string(what), " ", path, ": ", std::strerror(errno)));
}

absl::Status SyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return Errno("open directory", dir);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Errno("fsync directory", dir);
  return absl::OkStatus();
}

}  // namespace

std::string EncodeSnapshot(uint64_t sequence, const Bytes32& root, const FastState& state,
                           const rules::CustodyLedger& ledger) {
  ChunkWriter chunks;
  {
    ByteWriter& w = chunks.record();
    w.U32(kFormatVersion);
    w.U64(sequence);
    w.Raw(root.span());
    w.Blob(ledger.Encode());
    chunks.Seal();
  }
  struct BalanceRow {
    rules::AccountId user;
    rules::Currency currency;
    rules::Balance balance;
  };
  std::vector<BalanceRow> balances;
  balances.reserve(state.balance_count());
  state.ForEachBalance([&](const rules::AccountId& u, rules::Currency c, const rules::Balance& b) {
    balances.push_back({u, c, b});
  });
  std::sort(balances.begin(), balances.end(), [](const BalanceRow& a, const BalanceRow& b) {
    if (a.user != b.user) return KeyLess(a.user, b.user);
    return a.currency < b.currency;
  });
  for (const BalanceRow& row : balances) {
    ByteWriter& w = chunks.record();
    w.U8(static_cast<uint8_t>(Tag::kBalance));
    w.Raw(row.user.bytes);
    w.U32(row.currency.id);
    w.U128(row.balance.available.raw());
    w.U128(row.balance.frozen.raw());
    chunks.EndRecord();
  }
  std::vector<std::pair<rules::AccountId, uint64_t>> nonces;
  state.ForEachNonce([&](const rules::AccountId& u, uint64_t n) { nonces.emplace_back(u, n); });
  std::sort(nonces.begin(), nonces.end(),
            [](const auto& a, const auto& b) { return KeyLess(a.first, b.first); });
  for (const auto& [user, nonce] : nonces) {
    ByteWriter& w = chunks.record();
    w.U8(static_cast<uint8_t>(Tag::kNonce));
    w.Raw(user.bytes);
    w.U64(nonce);
    chunks.EndRecord();
  }
  state.ForEachMarket([&](MarketId m, const FastState::Book& book) {
    if (book.exists) {
      ByteWriter& w = chunks.record();
      w.U8(static_cast<uint8_t>(Tag::kMarket));
      PutMarket(w, m);
      w.Raw(rules::Encode(book.record));
      chunks.EndRecord();
    }
    {
      ByteWriter& w = chunks.record();
      w.U8(static_cast<uint8_t>(Tag::kSizes));
      PutMarket(w, m);
      w.U128(book.sizes.ask.raw());
      w.U128(book.sizes.bid.raw());
      chunks.EndRecord();
    }
    {
      ByteWriter& w = chunks.record();
      w.U8(static_cast<uint8_t>(Tag::kBest));
      PutMarket(w, m);
      w.U128(book.best.ask.raw());
      w.U128(book.best.bid.raw());
      chunks.EndRecord();
    }
    std::vector<std::pair<u128, Amount>> volumes;
    std::vector<std::pair<u128, rules::PageRecord>> pages;
    for (const auto& [price, level] : book.levels) {
      if (!level.volume.IsZero()) volumes.emplace_back(price, level.volume);
      if (level.has_page) pages.emplace_back(price, level.page);
    }
    std::sort(volumes.begin(), volumes.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [price, volume] : volumes) {
      ByteWriter& w = chunks.record();
      w.U8(static_cast<uint8_t>(Tag::kVolume));
      PutMarket(w, m);
      w.U128(price);
      w.U128(volume.raw());
      chunks.EndRecord();
    }
    std::sort(pages.begin(), pages.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [price, page] : pages) {
      ByteWriter& w = chunks.record();
      w.U8(static_cast<uint8_t>(Tag::kPage));
      PutMarket(w, m);
      w.U128(price);
      w.Raw(rules::Encode(page));
      chunks.EndRecord();
    }
    std::vector<std::pair<uint64_t, rules::OrderRecord>> orders(book.orders.begin(),
                                                                book.orders.end());
    std::sort(orders.begin(), orders.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [id, order] : orders) {
      ByteWriter& w = chunks.record();
      w.U8(static_cast<uint8_t>(Tag::kOrder));
      PutMarket(w, m);
      w.U64(id);
      w.Raw(rules::Encode(order));
      chunks.EndRecord();
    }
  });
  return chunks.Finish();
}

namespace {

absl::Status DecodeRecord(ByteReader& r, uint8_t tag, FastState& state) {
  auto bad = [tag] { return absl::DataLossError(absl::StrCat("snapshot record of tag ", tag, " is truncated")); };
  MarketId m;
  u128 a = 0, b = 0;
  switch (static_cast<Tag>(tag)) {
    case Tag::kBalance: {
      rules::AccountId user;
      uint32_t currency = 0;
      if (!r.Raw(user.bytes) || !r.U32(&currency) || !r.U128(&a) || !r.U128(&b)) return bad();
      return state.SetBalance(user, rules::Currency{currency},
                              rules::Balance{Amount::FromRaw(a), Amount::FromRaw(b)});
    }
    case Tag::kNonce: {
      rules::AccountId user;
      uint64_t nonce = 0;
      if (!r.Raw(user.bytes) || !r.U64(&nonce)) return bad();
      return state.SetNonce(user, nonce);
    }
    case Tag::kMarket: {
      std::array<uint8_t, rules::kMarketRecordSize> bytes;
      if (!GetMarket(r, &m) || !r.Raw(bytes)) return bad();
      absl::StatusOr<rules::MarketRecord> record = rules::DecodeMarketRecord(bytes);
      if (!record.ok()) return absl::DataLossError(record.status().message());
      return state.SetMarket(m, *record);
    }
    case Tag::kSizes:
      if (!GetMarket(r, &m) || !r.U128(&a) || !r.U128(&b)) return bad();
      return state.SetBookSizes(m, rules::BookSizes{Amount::FromRaw(a), Amount::FromRaw(b)});
    case Tag::kBest:
      if (!GetMarket(r, &m) || !r.U128(&a) || !r.U128(&b)) return bad();
      return state.SetBestPrices(m, rules::BestPrices{Price::FromRaw(a), Price::FromRaw(b)});
    case Tag::kVolume:
      if (!GetMarket(r, &m) || !r.U128(&a) || !r.U128(&b)) return bad();
      return state.SetPageVolume(m, Price::FromRaw(a), Amount::FromRaw(b));
    case Tag::kPage: {
      std::array<uint8_t, rules::kPageRecordSize> bytes;
      if (!GetMarket(r, &m) || !r.U128(&a) || !r.Raw(bytes)) return bad();
      absl::StatusOr<rules::PageRecord> page = rules::DecodePageRecord(bytes);
      if (!page.ok()) return absl::DataLossError(page.status().message());
      return state.SetPage(m, Price::FromRaw(a), *page);
    }
    case Tag::kOrder: {
      std::array<uint8_t, rules::kOrderRecordSize> bytes;
      uint64_t id = 0;
      if (!GetMarket(r, &m) || !r.U64(&id) || !r.Raw(bytes)) return bad();
      absl::StatusOr<rules::OrderRecord> order = rules::DecodeOrderRecord(bytes);
      if (!order.ok()) return absl::DataLossError(order.status().message());
      return state.SetOrder(m, rules::OrderId{id}, *order);
    }
    case Tag::kTrailer:
      break;
  }
  return absl::DataLossError(absl::StrCat("snapshot record has unknown tag ", tag));
}

}  // namespace

absl::StatusOr<Snapshot> DecodeSnapshot(std::string_view bytes) {
  if (bytes.substr(0, kMagic.size()) != kMagic) return absl::DataLossError("not a pom snapshot (bad magic)");
  size_t pos = kMagic.size();
  Snapshot snapshot;
  uint64_t records = 0;
  for (uint64_t index = 0;; ++index) {
    if (bytes.size() - pos < kChunkHeader) {
      return absl::DataLossError(absl::StrCat("snapshot chunk ", index, " is missing or truncated (no trailer)"));
    }
    ByteReader header(bytes.substr(pos, kChunkHeader));
    uint32_t size = 0;
    uint64_t checksum = 0;
    header.U32(&size);
    header.U64(&checksum);
    pos += kChunkHeader;
    if (bytes.size() - pos < size) return absl::DataLossError(absl::StrCat("snapshot chunk ", index, " is truncated"));
    const std::string_view payload = bytes.substr(pos, size);
    pos += size;
    if (RecordChecksum(ChunkKey(index), payload) != checksum) {
      return absl::DataLossError(absl::StrCat("snapshot chunk ", index, " fails its checksum"));
    }
    ByteReader r(payload);
    if (index == 0) {
      uint32_t version = 0;
      std::string_view ledger;
      if (!r.U32(&version) || version != kFormatVersion || !r.U64(&snapshot.sequence) ||
          !r.Raw(snapshot.root.bytes) || !r.Blob(&ledger) || !r.done()) {
        return absl::DataLossError("snapshot header chunk is malformed");
      }
      POM_ASSIGN_OR_RETURN(snapshot.ledger, rules::CustodyLedger::Decode(ledger));
      continue;
    }
    while (!r.done()) {
      uint8_t tag = 0;
      r.U8(&tag);
      if (tag == static_cast<uint8_t>(Tag::kTrailer)) {
        uint64_t want_records = 0, want_chunks = 0;
        if (!r.U64(&want_records) || !r.U64(&want_chunks) || !r.done() ||
            want_records != records || want_chunks != index + 1 || pos != bytes.size()) {
          return absl::DataLossError(absl::StrCat("snapshot trailer in chunk ", index, " does not match its contents"));
        }
        return snapshot;
      }
      absl::Status s = DecodeRecord(r, tag, snapshot.state);
      if (!s.ok()) return absl::DataLossError(absl::StrCat("snapshot chunk ", index, ": ", s.message()));
      ++records;
    }
  }
}

std::string SnapshotPath(const std::string& dir, uint64_t sequence) {
  return absl::StrFormat("%s/snapshot-%020d.pom", dir, sequence);
}

absl::StatusOr<std::vector<uint64_t>> ListSnapshots(const std::string& dir) {
  std::vector<uint64_t> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return out;
    return Errno("open directory", dir);
  }
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.starts_with("snapshot-") && name.ends_with(".tmp")) {
      ::unlink((dir + "/" + name).c_str());  // a write that never finished
      continue;
    }
    if (name.size() != 9 + 20 + 4 || !name.starts_with("snapshot-") || !name.ends_with(".pom")) continue;
    const std::string digits = name.substr(9, 20);
    if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) continue;
    out.push_back(std::strtoull(digits.c_str(), nullptr, 10));
  }
  ::closedir(d);
  std::sort(out.rbegin(), out.rend());
  return out;
}

absl::Status WriteSnapshotFile(const std::string& dir, uint64_t sequence, const std::string& bytes) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return Errno("create directory", dir);
  const std::string path = SnapshotPath(dir, sequence);
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("create", tmp);
  size_t done = 0;
  bool halfway_passed = false;
  while (done < bytes.size()) {
    const size_t step = std::min<size_t>(bytes.size() - done, 1 << 20);
    const ssize_t n = ::write(fd, bytes.data() + done, step);
    if (n < 0) {
      if (errno == EINTR) continue;
      const absl::Status s = Errno("write", tmp);
      ::close(fd);
      return s;
    }
    done += static_cast<size_t>(n);
    if (!halfway_passed && done >= bytes.size() / 2) {
      halfway_passed = true;
      KillPoint("snapshot-write");
    }
  }
  if (::fsync(fd) != 0) {
    const absl::Status s = Errno("fsync", tmp);
    ::close(fd);
    return s;
  }
  if (::close(fd) != 0) return Errno("close", tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Errno("rename", tmp);
  KillPoint("snapshot-rename");
  return SyncDir(dir);
}

absl::StatusOr<std::string> ReadSnapshotFile(const std::string& dir, uint64_t sequence) {
  const std::string path = SnapshotPath(dir, sequence);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("open", path);
  std::string out;
  char buf[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      const absl::Status s = Errno("read", path);
      ::close(fd);
      return s;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

absl::Status PruneSnapshots(const std::string& dir, uint64_t keep_from) {
  POM_ASSIGN_OR_RETURN(std::vector<uint64_t> all, ListSnapshots(dir));
  for (uint64_t seq : all) {
    if (seq >= keep_from) continue;
    const std::string path = SnapshotPath(dir, seq);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Errno("delete", path);
  }
  return absl::OkStatus();
}

}  // namespace pom::matcher
