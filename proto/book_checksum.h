// The WebSocket book checksum (docs/websocket-api.md "Book checksum"), shared by the gateway
// and its clients: CRC-32 (zlib's) of "b<price>:<amount>;" for the top 10 bids, best first, then
// "a<price>:<amount>;" for the top 10 asks, best first, in canonical decimal form.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>

#include "common/money.h"

namespace pom::wire {

using PriceLevel = std::pair<u128, u128>;  // price, amount (units of 10^-18)

inline constexpr size_t kChecksumDepth = 10;

// REQUIRES: both sides best first; only the first kChecksumDepth of each are used.
std::string BookChecksumInput(std::span<const PriceLevel> bids, std::span<const PriceLevel> asks);
uint32_t BookChecksum(std::span<const PriceLevel> bids, std::span<const PriceLevel> asks);

}  // namespace pom::wire
