// One-shot SHA-256 of short messages (at most kShortMax bytes: two 64-byte blocks after padding),
// the sizes the tree hashes (65, 66 and 98 bytes) and tree keys (< 64 bytes) have.
//
// On x86-64 CPUs with the SHA extensions the blocks are compressed with them directly: the
// message is padded on the stack once, with no context, no buffering and no cleanse, which is
// most of what a call through OpenSSL's SHA256_* costs beyond the compression itself. A pair of
// independent messages of the same block count is compressed interleaved, because one
// message's rounds are a serial chain whose latency leaves most of the SHA unit idle (the two
// chains overlap: ~1.6x the throughput of two calls on this AMD EPYC, bench/README.md).
// Elsewhere both functions fall back to OpenSSL. The digests are the same either way
// (tests/common/hash_test.cc compares them with OpenSSL's SHA256 over every length).
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace pom::crypto_internal {

inline constexpr size_t kShortMax = 119;  // 2 * 64 - 1 (0x80) - 8 (bit length)

// True when this CPU runs the SHA-extension path (SHA, SSSE3 and SSE4.1).
bool ShaExtensionsAvailable();

// out = SHA-256(data[0..len)). REQUIRES: len <= kShortMax.
void Sha256Short(const uint8_t* data, size_t len, uint8_t out[32]);

// The same for two messages at once. REQUIRES: len_a, len_b <= kShortMax.
void Sha256ShortPair(const uint8_t* a, size_t len_a, uint8_t out_a[32], const uint8_t* b, size_t len_b,
                     uint8_t out_b[32]);

// One message of a batch: out = SHA-256(data[0..len)).
struct ShortMessage {
  const uint8_t* data;
  size_t len;
  uint8_t* out;
};

// Every message of `messages`, four at a time where their block counts allow (then two, then
// one): a batch of independent messages keeps more of the SHA unit busy than pairs do.
// REQUIRES: every len <= kShortMax.
void Sha256ShortMany(const ShortMessage* messages, size_t count);

// For callers that write many two-block messages themselves (the tree's 65-, 66- and 98-byte
// messages): a message of 56..119 bytes is written at the start of a 128-byte buffer, PadTwoBlocks
// completes its padding in place (FIPS 180-4 §5.1.1), and Sha256PaddedTwoBlocks hashes such
// buffers four at a time with no further copy. REQUIRES: 56 <= len <= kShortMax.
inline void PadTwoBlocks(uint8_t block[128], size_t len) {
  auto pad = [block](size_t n) {  // n is a constant in the cases below: constant-size writes
    std::memset(block + n, 0, 120 - n);
    block[n] = 0x80;
    const uint64_t bits = __builtin_bswap64(static_cast<uint64_t>(n) * 8);
    std::memcpy(block + 120, &bits, 8);
  };
  switch (len) {  // the tree's message sizes
    case 65: return pad(65);
    case 66: return pad(66);
    case 98: return pad(98);
    default: return pad(len);
  }
}
// outs[i] = SHA-256 of the message padded in blocks[i].
void Sha256PaddedTwoBlocks(const uint8_t* const* blocks, uint8_t* const* outs, size_t count);

// For tests: the OpenSSL path regardless of the CPU.
void Sha256ShortPortable(const uint8_t* data, size_t len, uint8_t out[32]);

}  // namespace pom::crypto_internal
