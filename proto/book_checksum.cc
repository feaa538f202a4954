#include "proto/book_checksum.h"

#include <zlib.h>

#include "absl/strings/str_cat.h"

namespace pom::wire {

std::string BookChecksumInput(std::span<const PriceLevel> bids, std::span<const PriceLevel> asks) {
  std::string s;
  for (size_t i = 0; i < bids.size() && i < kChecksumDepth; ++i) {
    absl::StrAppend(&s, "b", FormatDecimal(bids[i].first), ":", FormatDecimal(bids[i].second), ";");
  }
  for (size_t i = 0; i < asks.size() && i < kChecksumDepth; ++i) {
    absl::StrAppend(&s, "a", FormatDecimal(asks[i].first), ":", FormatDecimal(asks[i].second), ";");
  }
  return s;
}

uint32_t BookChecksum(std::span<const PriceLevel> bids, std::span<const PriceLevel> asks) {
  const std::string input = BookChecksumInput(bids, asks);
  return static_cast<uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(input.data()), static_cast<uInt>(input.size())));
}

}  // namespace pom::wire
