// Domain types of the rules: ids, sides, order options, and the business reject codes.
// Every enum value here is part of the protocol (encoded in records, commands and proofs):
// append only, never renumber.
// Thread-safety: value types.
#pragma once

#include <compare>
#include <cstdint>
#include <string_view>

#include "common/bytes.h"
#include "common/ed25519.h"
#include "common/money.h"

namespace pom::rules {

// An account is its owner's Ed25519 public key.
using AccountId = PublicKey;

struct Currency {
  uint32_t id = 0;
  friend auto operator<=>(const Currency&, const Currency&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const Currency& c) {
    return H::combine(std::move(h), c.id);
  }
};

struct MarketId {
  Currency base;
  Currency quote;
  friend auto operator<=>(const MarketId&, const MarketId&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const MarketId& m) {
    return H::combine(std::move(h), m.base, m.quote);
  }
};

// An order id is the sequence number of the event that placed the order; 0 means "none".
struct OrderId {
  uint64_t value = 0;
  bool IsNone() const { return value == 0; }
  friend auto operator<=>(const OrderId&, const OrderId&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const OrderId& o) {
    return H::combine(std::move(h), o.value);
  }
};

// The position of an event in the prover's single serial history (first event: 1).
struct Sequence {
  uint64_t value = 0;
  friend auto operator<=>(const Sequence&, const Sequence&) = default;
};

enum class Side : uint8_t { kBuy = 0, kSell = 1 };
inline Side Opposite(Side s) { return s == Side::kBuy ? Side::kSell : Side::kBuy; }

enum class OrderType : uint8_t { kLimit = 0, kMarket = 1 };

enum class TimeInForce : uint8_t { kGtc = 0, kIoc = 1, kFok = 2, kPostOnly = 3 };

// Self-trade prevention: what happens when a taker meets a resting order of its own owner.
enum class StpMode : uint8_t { kCancelTaker = 0, kCancelMaker = 1, kCancelBoth = 2 };

enum class MarketStatus : uint8_t { kHalted = 0, kOpen = 1, kClosed = 2 };

// Business rejects, in precedence order: when several apply, the lowest code is reported.
// A reject is an event: it consumes the nonce and changes nothing else.
enum class RejectCode : uint8_t {
  kNone = 0,
  kMarketNotFound = 1,
  kMarketExists = 2,
  kBadMarketParams = 3,
  kMarketNotOpen = 4,
  kMarketClosed = 5,
  kBadPrice = 6,
  kBadAmount = 7,
  kBadTick = 8,
  kBadLot = 9,
  kBelowMinimum = 10,
  kOrderNotFound = 11,
  kNotOrderOwner = 12,
  kAmendNotReduce = 13,
  kInsufficientBalance = 14,
  kPostOnlyWouldCross = 15,
  kFokNotFillable = 16,
  kNoLiquidity = 17,
  kOverflow = 18,
};
inline constexpr uint8_t kRejectCodeMax = 18;

std::string_view RejectCodeName(RejectCode code);

}  // namespace pom::rules
