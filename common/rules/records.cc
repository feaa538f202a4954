#include "common/rules/records.h"

#include <algorithm>
#include <array>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/check.h"
#include "common/hash.h"

namespace pom::rules {
namespace {

constexpr std::string_view kOrderTag = "pom.order.v1";
constexpr std::string_view kPageTag = "pom.page.v1";
constexpr std::string_view kMarketTag = "pom.market.v1";

class KeyWriter {
 public:
  explicit KeyWriter(LeafKind kind) { key_.bytes[key_.size++] = static_cast<uint8_t>(kind); }
  KeyWriter& Bytes(std::span<const uint8_t> b) {
    std::copy(b.begin(), b.end(), key_.bytes.begin() + key_.size);
    key_.size = static_cast<uint8_t>(key_.size + b.size());
    return *this;
  }
  KeyWriter& U32(uint32_t v) {
    PutU32Le(v, key_.bytes.data() + key_.size);
    key_.size += 4;
    return *this;
  }
  KeyWriter& U64(uint64_t v) {
    PutU64Le(v, key_.bytes.data() + key_.size);
    key_.size += 8;
    return *this;
  }
  KeyWriter& U128(u128 v) {
    PutU128Le(v, key_.bytes.data() + key_.size);
    key_.size += 16;
    return *this;
  }
  KeyWriter& Market(MarketId m) { return U32(m.base.id).U32(m.quote.id); }
  RawKey Done() const { return key_; }

 private:
  RawKey key_;
};

// Writes fixed-width little-endian fields into a record buffer.
class RecordWriter {
 public:
  explicit RecordWriter(uint8_t* out) : p_(out) {}
  void Bytes(std::span<const uint8_t> b) {
    std::copy(b.begin(), b.end(), p_);
    p_ += b.size();
  }
  void U8(uint8_t v) { *p_++ = v; }
  void U32(uint32_t v) {
    PutU32Le(v, p_);
    p_ += 4;
  }
  void U64(uint64_t v) {
    PutU64Le(v, p_);
    p_ += 8;
  }
  void U128(u128 v) {
    PutU128Le(v, p_);
    p_ += 16;
  }

 private:
  uint8_t* p_;
};

class RecordReader {
 public:
  explicit RecordReader(std::span<const uint8_t> in) : p_(in.data()) {}
  template <size_t N>
  void Bytes(std::array<uint8_t, N>& out) {
    std::copy(p_, p_ + N, out.begin());
    p_ += N;
  }
  uint8_t U8() { return *p_++; }
  uint32_t U32() {
    const uint32_t v = GetU32Le(p_);
    p_ += 4;
    return v;
  }
  uint64_t U64() {
    const uint64_t v = GetU64Le(p_);
    p_ += 8;
    return v;
  }
  u128 U128() {
    const u128 v = GetU128Le(p_);
    p_ += 16;
    return v;
  }

 private:
  const uint8_t* p_;
};

absl::Status SizeError(std::string_view what, size_t got, size_t want) {
  return absl::InvalidArgumentError(
      absl::StrCat(std::string(what), " record has ", got, " bytes, expected ", want));
}

absl::StatusOr<Side> SideFromByte(uint8_t b) {
  if (b > 1) return absl::InvalidArgumentError(absl::StrCat("bad side byte ", b));
  return static_cast<Side>(b);
}

Bytes32 TaggedHash(std::string_view tag, std::span<const uint8_t> body) {
  thread_local Sha256Hasher hasher;
  // Records are short: one contiguous message takes the hasher's one-shot short path.
  std::array<uint8_t, 256> joined;
  if (tag.size() + body.size() <= joined.size()) {
    std::copy(tag.begin(), tag.end(), joined.begin());
    std::copy(body.begin(), body.end(), joined.begin() + tag.size());
    return hasher.Digest({joined.data(), tag.size() + body.size()});
  }
  hasher.Begin();
  hasher.Update({reinterpret_cast<const uint8_t*>(tag.data()), tag.size()});
  hasher.Update(body);
  return hasher.Finish();
}

}  // namespace

std::string_view RejectCodeName(RejectCode code) {
  switch (code) {
    case RejectCode::kNone: return "none";
    case RejectCode::kMarketNotFound: return "market_not_found";
    case RejectCode::kMarketExists: return "market_exists";
    case RejectCode::kBadMarketParams: return "bad_market_params";
    case RejectCode::kMarketNotOpen: return "market_not_open";
    case RejectCode::kMarketClosed: return "market_closed";
    case RejectCode::kBadPrice: return "bad_price";
    case RejectCode::kBadAmount: return "bad_amount";
    case RejectCode::kBadTick: return "bad_tick";
    case RejectCode::kBadLot: return "bad_lot";
    case RejectCode::kBelowMinimum: return "below_minimum";
    case RejectCode::kOrderNotFound: return "order_not_found";
    case RejectCode::kNotOrderOwner: return "not_order_owner";
    case RejectCode::kAmendNotReduce: return "amend_not_reduce";
    case RejectCode::kInsufficientBalance: return "insufficient_balance";
    case RejectCode::kPostOnlyWouldCross: return "post_only_would_cross";
    case RejectCode::kFokNotFillable: return "fok_not_fillable";
    case RejectCode::kNoLiquidity: return "no_liquidity";
    case RejectCode::kOverflow: return "overflow";
  }
  return "unknown";
}

RawKey AccountKey(const AccountId& user, Currency currency) {
  return KeyWriter(LeafKind::kAccount).Bytes(user.bytes).U32(currency.id).Done();
}
RawKey OrderbookKey(MarketId market) { return KeyWriter(LeafKind::kOrderbook).Market(market).Done(); }
RawKey BestPriceKey(MarketId market) { return KeyWriter(LeafKind::kBestPrice).Market(market).Done(); }
RawKey OrderPageKey(MarketId market, Price price) {
  return KeyWriter(LeafKind::kOrderPage).Market(market).U128(price.raw()).Done();
}
RawKey OrderKey(MarketId market, OrderId order) {
  return KeyWriter(LeafKind::kOrder).Market(market).U64(order.value).Done();
}
RawKey PageLinkKey(MarketId market, Price price) {
  return KeyWriter(LeafKind::kPageLink).Market(market).U128(price.raw()).Done();
}
RawKey NonceKey(const AccountId& user) { return KeyWriter(LeafKind::kNonce).Bytes(user.bytes).Done(); }
RawKey MarketKey(MarketId market) { return KeyWriter(LeafKind::kMarket).Market(market).Done(); }

Bytes32 TreeKey(const RawKey& raw) {
  thread_local Sha256Hasher hasher;
  return hasher.Digest(raw.span());
}

Balance BalanceFromValue(const Bytes32& v) {
  auto [lo, hi] = UnpackHalves(v);
  return {Amount::FromRaw(lo), Amount::FromRaw(hi)};
}
BookSizes BookSizesFromValue(const Bytes32& v) {
  auto [lo, hi] = UnpackHalves(v);
  return {Amount::FromRaw(lo), Amount::FromRaw(hi)};
}
BestPrices BestPricesFromValue(const Bytes32& v) {
  auto [lo, hi] = UnpackHalves(v);
  return {Price::FromRaw(lo), Price::FromRaw(hi)};
}
absl::StatusOr<Amount> PageVolumeFromValue(const Bytes32& v) {
  auto [lo, hi] = UnpackHalves(v);
  if (lo != 0) return absl::InvalidArgumentError("orderpage value has a non-zero low half");
  return Amount::FromRaw(hi);
}
absl::StatusOr<uint64_t> NonceFromValue(const Bytes32& v) {
  auto [lo, hi] = UnpackHalves(v);
  if (hi != 0 || (lo >> 64) != 0) return absl::InvalidArgumentError("nonce value exceeds 64 bits");
  return static_cast<uint64_t>(lo);
}

std::array<uint8_t, kOrderRecordSize> Encode(const OrderRecord& r) {
  std::array<uint8_t, kOrderRecordSize> out{};
  RecordWriter w(out.data());
  w.Bytes(r.owner.bytes);
  w.U8(static_cast<uint8_t>(r.side));
  w.U128(r.price.raw());
  w.U128(r.amount.raw());
  w.U128(r.unfilled.raw());
  w.U64(r.prev.value);
  w.U64(r.next.value);
  w.U64(r.client_order_id);
  return out;
}

std::array<uint8_t, kPageRecordSize> Encode(const PageRecord& r) {
  std::array<uint8_t, kPageRecordSize> out{};
  RecordWriter w(out.data());
  w.U8(static_cast<uint8_t>(r.side));
  w.U128(r.better.raw());
  w.U128(r.worse.raw());
  w.U64(r.head.value);
  w.U64(r.tail.value);
  w.U32(r.count);
  return out;
}

std::array<uint8_t, kMarketRecordSize> Encode(const MarketRecord& r) {
  std::array<uint8_t, kMarketRecordSize> out{};
  RecordWriter w(out.data());
  w.U8(static_cast<uint8_t>(r.status));
  w.U8(r.price_decimals);
  w.U8(r.amount_decimals);
  w.U128(r.min_amount.raw());
  w.U32(r.maker_fee_ppm);
  w.U32(r.taker_fee_ppm);
  w.U32(r.max_makers);
  return out;
}

absl::StatusOr<OrderRecord> DecodeOrderRecord(std::span<const uint8_t> bytes) {
  if (bytes.size() != kOrderRecordSize) return SizeError("order", bytes.size(), kOrderRecordSize);
  RecordReader r(bytes);
  OrderRecord o;
  r.Bytes(o.owner.bytes);
  absl::StatusOr<Side> side = SideFromByte(r.U8());
  if (!side.ok()) return side.status();
  o.side = *side;
  o.price = Price::FromRaw(r.U128());
  o.amount = Amount::FromRaw(r.U128());
  o.unfilled = Amount::FromRaw(r.U128());
  o.prev = OrderId{r.U64()};
  o.next = OrderId{r.U64()};
  o.client_order_id = r.U64();
  return o;
}

absl::StatusOr<PageRecord> DecodePageRecord(std::span<const uint8_t> bytes) {
  if (bytes.size() != kPageRecordSize) return SizeError("page", bytes.size(), kPageRecordSize);
  RecordReader r(bytes);
  PageRecord p;
  absl::StatusOr<Side> side = SideFromByte(r.U8());
  if (!side.ok()) return side.status();
  p.side = *side;
  p.better = Price::FromRaw(r.U128());
  p.worse = Price::FromRaw(r.U128());
  p.head = OrderId{r.U64()};
  p.tail = OrderId{r.U64()};
  p.count = r.U32();
  return p;
}

absl::StatusOr<MarketRecord> DecodeMarketRecord(std::span<const uint8_t> bytes) {
  if (bytes.size() != kMarketRecordSize) return SizeError("market", bytes.size(), kMarketRecordSize);
  RecordReader r(bytes);
  MarketRecord m;
  const uint8_t status = r.U8();
  if (status > 2) return absl::InvalidArgumentError(absl::StrCat("bad market status byte ", status));
  m.status = static_cast<MarketStatus>(status);
  m.price_decimals = r.U8();
  m.amount_decimals = r.U8();
  m.min_amount = Amount::FromRaw(r.U128());
  m.maker_fee_ppm = r.U32();
  m.taker_fee_ppm = r.U32();
  m.max_makers = r.U32();
  return m;
}

Bytes32 RecordHash(const OrderRecord& r) { return TaggedHash(kOrderTag, Encode(r)); }
Bytes32 RecordHash(const PageRecord& r) { return TaggedHash(kPageTag, Encode(r)); }
Bytes32 RecordHash(const MarketRecord& r) { return TaggedHash(kMarketTag, Encode(r)); }

namespace {
// The domain tag of a record kind's hash; empty for plain leaves.
std::string_view RecordTag(LeafKind kind) {
  switch (kind) {
    case LeafKind::kOrder: return kOrderTag;
    case LeafKind::kPageLink: return kPageTag;
    case LeafKind::kMarket: return kMarketTag;
    default: return {};
  }
}
}  // namespace

Bytes32 RecordHashOfEncoding(LeafKind kind, std::span<const uint8_t> encoding) {
  const std::string_view tag = RecordTag(kind);
  if (encoding.empty() || tag.empty()) return Bytes32();
  return TaggedHash(tag, encoding);
}

void RecordHashesOfEncodings(std::span<const RecordEncoding> records, std::span<Bytes32> out) {
  POM_CHECK(out.size() == records.size());
  thread_local Sha256Hasher hasher;
  thread_local std::vector<std::array<uint8_t, 256>> messages;
  thread_local std::vector<HashJob> jobs;
  messages.resize(std::max(messages.size(), records.size()));
  jobs.clear();
  for (size_t i = 0; i < records.size(); ++i) {
    const std::string_view tag = RecordTag(records[i].kind);
    const std::span<const uint8_t> body = records[i].encoding;
    if (tag.empty() || body.empty()) {
      out[i] = Bytes32();
    } else if (tag.size() + body.size() > messages[i].size()) {
      out[i] = RecordHashOfEncoding(records[i].kind, body);
    } else {
      std::copy(tag.begin(), tag.end(), messages[i].begin());
      std::copy(body.begin(), body.end(), messages[i].begin() + tag.size());
      jobs.push_back({std::span<const uint8_t>(messages[i].data(), tag.size() + body.size()), &out[i]});
    }
  }
  hasher.DigestMany(jobs);
}


}  // namespace pom::rules
