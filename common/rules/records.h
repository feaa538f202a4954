// The state's leaves: their raw keys, 32-byte values, and the records behind the record-hash
// leaves (order, pagelink, market). Byte layouts are fixed in docs/protocol.md §6 and guarded
// by static_asserts here and golden tests in tests/golden/.
// Thread-safety: value types and pure functions (hashing uses a thread-local SHA-256 context).
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <span>

#include "absl/status/statusor.h"
#include "common/bytes.h"
#include "common/money.h"
#include "common/rules/types.h"

namespace pom::rules {

enum class LeafKind : uint8_t {
  kAccount = 0x00,
  kOrderbook = 0x01,
  kBestPrice = 0x02,
  kOrderPage = 0x03,
  kOrder = 0x04,
  kPageLink = 0x05,
  kNonce = 0x06,
  kMarket = 0x07,
};

// A raw leaf key (at most 37 bytes); the tree key is SHA-256 of it.
struct RawKey {
  std::array<uint8_t, 37> bytes{};
  uint8_t size = 0;

  std::span<const uint8_t> span() const { return {bytes.data(), size}; }
  LeafKind kind() const { return static_cast<LeafKind>(bytes[0]); }
  friend bool operator==(const RawKey& a, const RawKey& b) {
    return a.size == b.size && std::equal(a.bytes.begin(), a.bytes.begin() + a.size, b.bytes.begin());
  }
  // Three words: the first 16 bytes and the last 8 (keys are 9 to 37 bytes), rather than absl's
  // hash of all of them. Maps keyed by RawKey hold one event's leaves (bounded by its proof), so
  // keys that agree on those bytes could only slow one event (docs/decisions.md).
  template <typename H>
  friend H AbslHashValue(H h, const RawKey& k) {
    uint64_t w[3] = {0, 0, 0};
    const size_t n = k.size;
    std::memcpy(w, k.bytes.data(), n < 16 ? n : 16);
    if (n > 16) std::memcpy(&w[2], k.bytes.data() + n - 8, 8);
    return H::combine(std::move(h), n, w[0], w[1], w[2]);
  }
};

RawKey AccountKey(const AccountId& user, Currency currency);  // 37 bytes
RawKey OrderbookKey(MarketId market);                          // 9 bytes
RawKey BestPriceKey(MarketId market);                          // 9 bytes
RawKey OrderPageKey(MarketId market, Price price);             // 25 bytes
RawKey OrderKey(MarketId market, OrderId order);               // 17 bytes
RawKey PageLinkKey(MarketId market, Price price);              // 25 bytes
RawKey NonceKey(const AccountId& user);                        // 33 bytes
RawKey MarketKey(MarketId market);                             // 9 bytes

// The tree key of a raw key: SHA-256(raw).
Bytes32 TreeKey(const RawKey& raw);

// ---- Plain leaves (value = two u128 halves, lo || hi) ----

struct Balance {
  Amount available;
  Amount frozen;
  friend bool operator==(const Balance&, const Balance&) = default;
};
struct BookSizes {  // resting base amount per side
  Amount ask;
  Amount bid;
  friend bool operator==(const BookSizes&, const BookSizes&) = default;
};
struct BestPrices {  // 0 = no order on that side
  Price ask;
  Price bid;
  friend bool operator==(const BestPrices&, const BestPrices&) = default;
};

inline Bytes32 BalanceValue(const Balance& b) { return PackHalves(b.available.raw(), b.frozen.raw()); }
inline Bytes32 BookSizesValue(const BookSizes& s) { return PackHalves(s.ask.raw(), s.bid.raw()); }
inline Bytes32 BestPricesValue(const BestPrices& p) { return PackHalves(p.ask.raw(), p.bid.raw()); }
inline Bytes32 PageVolumeValue(Amount volume) { return PackHalves(0, volume.raw()); }
inline Bytes32 NonceValue(uint64_t nonce) { return PackHalves(nonce, 0); }

Balance BalanceFromValue(const Bytes32& v);
BookSizes BookSizesFromValue(const Bytes32& v);
BestPrices BestPricesFromValue(const Bytes32& v);
// Errors: InvalidArgument if the low half is not zero.
absl::StatusOr<Amount> PageVolumeFromValue(const Bytes32& v);
// Errors: InvalidArgument if the value does not fit in 64 bits.
absl::StatusOr<uint64_t> NonceFromValue(const Bytes32& v);

// ---- Record leaves (value = SHA-256(domain tag || record encoding)) ----

struct OrderRecord {
  AccountId owner;
  Side side = Side::kBuy;
  Price price;         // limit price; resting orders always have one
  Amount amount;       // as placed (after any amend: the amended size)
  Amount unfilled;     // still resting
  OrderId prev;        // neighbours in the price level's FIFO queue (0 = none)
  OrderId next;
  uint64_t client_order_id = 0;
  friend bool operator==(const OrderRecord&, const OrderRecord&) = default;
};
inline constexpr size_t kOrderRecordSize = 32 + 1 + 16 + 16 + 16 + 8 + 8 + 8;
static_assert(kOrderRecordSize == 105);

struct PageRecord {
  Side side = Side::kBuy;
  Price better;        // the adjacent price level nearer the top of the book (0 = this is best)
  Price worse;         // the adjacent price level further from the top (0 = none)
  OrderId head;        // oldest order: matched first
  OrderId tail;        // newest order
  uint32_t count = 0;  // orders in the queue
  friend bool operator==(const PageRecord&, const PageRecord&) = default;
};
inline constexpr size_t kPageRecordSize = 1 + 16 + 16 + 8 + 8 + 4;
static_assert(kPageRecordSize == 53);

struct MarketRecord {
  MarketStatus status = MarketStatus::kHalted;
  uint8_t price_decimals = 0;   // prices are multiples of 10^-price_decimals
  uint8_t amount_decimals = 0;  // amounts are multiples of 10^-amount_decimals
  Amount min_amount;            // smallest order (base)
  uint32_t maker_fee_ppm = 0;   // of what the maker receives
  uint32_t taker_fee_ppm = 0;   // of what the taker receives
  uint32_t max_makers = 0;      // fills per taker at most
  friend bool operator==(const MarketRecord&, const MarketRecord&) = default;
};
inline constexpr size_t kMarketRecordSize = 1 + 1 + 1 + 16 + 4 + 4 + 4;
static_assert(kMarketRecordSize == 31);

std::array<uint8_t, kOrderRecordSize> Encode(const OrderRecord& r);
std::array<uint8_t, kPageRecordSize> Encode(const PageRecord& r);
std::array<uint8_t, kMarketRecordSize> Encode(const MarketRecord& r);

// Errors: InvalidArgument for a wrong size or an out-of-range enum byte.
absl::StatusOr<OrderRecord> DecodeOrderRecord(std::span<const uint8_t> bytes);
absl::StatusOr<PageRecord> DecodePageRecord(std::span<const uint8_t> bytes);
absl::StatusOr<MarketRecord> DecodeMarketRecord(std::span<const uint8_t> bytes);

// Record leaf values: SHA-256("pom.order.v1" / "pom.page.v1" / "pom.market.v1" || encoding).
Bytes32 RecordHash(const OrderRecord& r);
Bytes32 RecordHash(const PageRecord& r);
Bytes32 RecordHash(const MarketRecord& r);

// The leaf value of an encoded record of a record kind (order, pagelink, market): the same as
// RecordHash of the decoded record. An empty encoding is the absent record: all-zero.
Bytes32 RecordHashOfEncoding(LeafKind kind, std::span<const uint8_t> encoding);

// out[i] = RecordHashOfEncoding(records[i].kind, records[i].encoding), the hashes computed in one
// batch (Sha256Hasher::DigestMany). REQUIRES: out.size() == records.size().
struct RecordEncoding {
  LeafKind kind;
  std::span<const uint8_t> encoding;
};
void RecordHashesOfEncodings(std::span<const RecordEncoding> records, std::span<Bytes32> out);

// 10^n for n in [0, 18]; 1 for n < 0 (decimals above 18 in a decoded record).
inline u128 Pow10Clamped(int n) {
  static constexpr uint64_t kPowers[] = {1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL,
      1000000ULL, 10000000ULL, 100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL,
      1000000000000ULL, 10000000000000ULL, 100000000000000ULL, 1000000000000000ULL,
      10000000000000000ULL, 100000000000000000ULL, 1000000000000000000ULL};
  static_assert(sizeof(kPowers) / sizeof(kPowers[0]) == kScaleDecimals + 1);
  return n <= 0 ? 1 : kPowers[n];
}

// Tick and lot of a market: 10^(18 - decimals).
inline u128 TickOf(const MarketRecord& m) { return Pow10Clamped(kScaleDecimals - m.price_decimals); }
inline u128 LotOf(const MarketRecord& m) { return Pow10Clamped(kScaleDecimals - m.amount_decimals); }

}  // namespace pom::rules
