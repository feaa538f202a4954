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
// buffers four at a time with no further copy (below). REQUIRES: 56 <= len <= kShortMax.
inline void PadTwoBlocks(uint8_t block[128], size_t len);

// Writes the padding of a `len`-byte message at `blocks` that fills `count` blocks: 0x80, zeros,
// the bit length (FIPS 180-4 §5.1.1). Inlined, so that a constant `len` gives constant writes.
__attribute__((always_inline)) inline void PadTail(uint8_t* blocks, size_t len, size_t count) {
  std::memset(blocks + len, 0, count * 64 - 8 - len);
  blocks[len] = 0x80;
  const uint64_t bits = __builtin_bswap64(static_cast<uint64_t>(len) * 8);
  std::memcpy(blocks + count * 64 - 8, &bits, 8);
}

inline void PadTwoBlocks(uint8_t block[128], size_t len) {
  switch (len) {  // the tree's message sizes, as constants
    case 65: return PadTail(block, 65, 2);
    case 66: return PadTail(block, 66, 2);
    case 98: return PadTail(block, 98, 2);
    default: return PadTail(block, len, 2);
  }
}

// outs[i] = SHA-256 of the message padded in blocks[i].
void Sha256PaddedTwoBlocks(const uint8_t* const* blocks, uint8_t* const* outs, size_t count);

// For tests: the OpenSSL path regardless of the CPU.
void Sha256ShortPortable(const uint8_t* data, size_t len, uint8_t out[32]);

}  // namespace pom::crypto_internal
