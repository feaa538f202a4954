#include "common/checksum.h"

#define XXH_STATIC_LINKING_ONLY  // XXH3_state_t on the stack
#include <xxhash.h>

#include "absl/strings/str_cat.h"
#include "common/bytes.h"

namespace pom {

uint64_t RecordChecksum(std::string_view key, std::string_view payload) {
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  XXH3_64bits_update(&state, key.data(), key.size());
  XXH3_64bits_update(&state, payload.data(), payload.size());
  return XXH3_64bits_digest(&state);
}

std::string SealRecord(std::string_view key, std::string_view payload) {
  std::string out(kSealBytes, '\0');
  const uint64_t sum = RecordChecksum(key, payload);
  for (size_t i = 0; i < kSealBytes; ++i) out[i] = static_cast<char>(sum >> (8 * i));
  out.append(payload);
  return out;
}

absl::StatusOr<std::string_view> UnsealRecord(std::string_view key, std::string_view sealed) {
  if (sealed.size() < kSealBytes) {
    return absl::DataLossError(absl::StrCat("record of ", sealed.size(), " bytes has no checksum"));
  }
  uint64_t stored = 0;
  for (size_t i = 0; i < kSealBytes; ++i) {
    stored |= static_cast<uint64_t>(static_cast<uint8_t>(sealed[i])) << (8 * i);
  }
  const std::string_view payload = sealed.substr(kSealBytes);
  if (RecordChecksum(key, payload) != stored) {
    return absl::DataLossError("record checksum mismatch");
  }
  return payload;
}

}  // namespace pom
