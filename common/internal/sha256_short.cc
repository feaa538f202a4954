#include "common/internal/sha256_short.h"

#include <cstring>

#include <openssl/sha.h>

#include "common/check.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#define POM_SHA_X86 1
#else
#define POM_SHA_X86 0
#endif

namespace pom::crypto_internal {
namespace {

#if POM_SHA_X86

// Pads `data` into `blocks` (FIPS 180-4 §5.1.1) and returns the block count, 1 or 2.
// REQUIRES: len <= kShortMax (the callers check).
__attribute__((always_inline)) inline size_t Pad(const uint8_t* data, size_t len, uint8_t blocks[128]) {
  auto pad = [data, blocks](size_t n) {  // n is a constant in the tree's cases: constant copies
    const size_t count = n <= 55 ? 1 : 2;
    if (n != 0) std::memcpy(blocks, data, n);
    PadTail(blocks, n, count);
    return count;
  };
  switch (len) {  // the tree's three message sizes
    case 65: return pad(65);
    case 66: return pad(66);
    case 98: return pad(98);
    default: return pad(len);
  }
}

#define POM_SHA_TARGET __attribute__((target("sha,ssse3,sse4.1")))

alignas(16) constexpr uint32_t kRound[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

// The SHA instructions keep the eight working words as two registers, (A,B,E,F) and (C,D,G,H),
// lane 3 first.
struct Lane {
  __m128i abef;
  __m128i cdgh;
};

POM_SHA_TARGET inline __m128i WordSwap() {
  // Reverses the bytes of each 32-bit lane (big-endian words <-> little-endian lanes).
  return _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
}

POM_SHA_TARGET inline Lane InitialLane() {
  // H0..H7 of FIPS 180-4 §5.3.3 as a=6a09e667, b=bb67ae85, ... h=5be0cd19.
  return {_mm_set_epi32(0x6a09e667, static_cast<int>(0xbb67ae85), 0x510e527f, static_cast<int>(0x9b05688c)),
          _mm_set_epi32(0x3c6ef372, static_cast<int>(0xa54ff53a), 0x1f83d9ab, 0x5be0cd19)};
}

// Compresses one 64-byte block into each of `kLanes` independent states, the lanes' rounds
// interleaved instruction by instruction so that their dependency chains overlap.
template <int kLanes>
POM_SHA_TARGET __attribute__((always_inline)) inline void Compress(Lane (&lanes)[kLanes],
                                                                   const uint8_t* const (&blocks)[kLanes]) {
  const __m128i swap = WordSwap();
  __m128i msg[kLanes][4];
  Lane saved[kLanes];
#pragma GCC unroll 4
  for (int l = 0; l < kLanes; ++l) {
    saved[l] = lanes[l];
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) {
      msg[l][j] = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blocks[l] + 16 * j)), swap);
    }
  }
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i) {
    const __m128i k = _mm_load_si128(reinterpret_cast<const __m128i*>(kRound + 4 * i));
#pragma GCC unroll 4
    for (int l = 0; l < kLanes; ++l) {
      __m128i* m = msg[l];
      if (i >= 4) {
        // W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16], four at a time.
        __m128i w = _mm_sha256msg1_epu32(m[i & 3], m[(i + 1) & 3]);
        w = _mm_add_epi32(w, _mm_alignr_epi8(m[(i + 3) & 3], m[(i + 2) & 3], 4));
        m[i & 3] = _mm_sha256msg2_epu32(w, m[(i + 3) & 3]);
      }
      const __m128i wk = _mm_add_epi32(m[i & 3], k);
      lanes[l].cdgh = _mm_sha256rnds2_epu32(lanes[l].cdgh, lanes[l].abef, wk);
      lanes[l].abef = _mm_sha256rnds2_epu32(lanes[l].abef, lanes[l].cdgh, _mm_shuffle_epi32(wk, 0x0E));
    }
  }
#pragma GCC unroll 4
  for (int l = 0; l < kLanes; ++l) {
    lanes[l].abef = _mm_add_epi32(lanes[l].abef, saved[l].abef);
    lanes[l].cdgh = _mm_add_epi32(lanes[l].cdgh, saved[l].cdgh);
  }
}

POM_SHA_TARGET inline void Store(const Lane& lane, uint8_t out[32]) {
  const __m128i feba = _mm_shuffle_epi32(lane.abef, 0x1B);  // lanes a,b,e,f from low to high
  const __m128i ghcd = _mm_shuffle_epi32(lane.cdgh, 0xB1);  // lanes g,h,c,d
  const __m128i abcd = _mm_blend_epi16(feba, ghcd, 0xF0);
  const __m128i efgh = _mm_alignr_epi8(ghcd, feba, 8);
  const __m128i swap = WordSwap();
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_shuffle_epi8(abcd, swap));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16), _mm_shuffle_epi8(efgh, swap));
}

// k messages of `blocks` blocks each (1 or 2), interleaved.
template <int k>
POM_SHA_TARGET void SameLengthWithExtensions(const ShortMessage* const (&m)[k], size_t blocks) {
  alignas(16) uint8_t padded[k][128];
  Lane lanes[k];
  for (int l = 0; l < k; ++l) {
    Pad(m[l]->data, m[l]->len, padded[l]);
    lanes[l] = InitialLane();
  }
  for (size_t b = 0; b < blocks; ++b) {
    const uint8_t* block[k];
    for (int l = 0; l < k; ++l) block[l] = padded[l] + 64 * b;
    Compress<k>(lanes, reinterpret_cast<const uint8_t* const(&)[k]>(block));
  }
  for (int l = 0; l < k; ++l) Store(lanes[l], m[l]->out);
}

POM_SHA_TARGET void ShortWithExtensions(const uint8_t* data, size_t len, uint8_t out[32]) {
  const ShortMessage m{data, len, out};
  const ShortMessage* const one[1] = {&m};
  SameLengthWithExtensions<1>(one, len <= 55 ? 1 : 2);
}

POM_SHA_TARGET void ManyWithExtensions(const ShortMessage* messages, size_t count) {
  // Messages of one block and of two are grouped apart, so that a group compresses in lockstep.
  for (size_t blocks = 1; blocks <= 2; ++blocks) {
    const ShortMessage* group[4];
    size_t n = 0;
    for (size_t i = 0; i < count; ++i) {
      if ((messages[i].len <= 55 ? 1u : 2u) != blocks) continue;
      group[n++] = &messages[i];
      if (n == 4) {
        SameLengthWithExtensions<4>(reinterpret_cast<const ShortMessage* const(&)[4]>(group), blocks);
        n = 0;
      }
    }
    if (n >= 2) {
      SameLengthWithExtensions<2>(reinterpret_cast<const ShortMessage* const(&)[2]>(group), blocks);
      group[0] = group[2];
      n -= 2;
    }
    if (n == 1) SameLengthWithExtensions<1>(reinterpret_cast<const ShortMessage* const(&)[1]>(group), blocks);
  }
}

// k buffers already padded to two blocks.
template <int k>
POM_SHA_TARGET void PaddedWithExtensions(const uint8_t* const* blocks, uint8_t* const* outs) {
  Lane lanes[k];
  for (int l = 0; l < k; ++l) lanes[l] = InitialLane();
  for (size_t b = 0; b < 2; ++b) {
    const uint8_t* block[k];
    for (int l = 0; l < k; ++l) block[l] = blocks[l] + 64 * b;
    Compress<k>(lanes, reinterpret_cast<const uint8_t* const(&)[k]>(block));
  }
  for (int l = 0; l < k; ++l) Store(lanes[l], outs[l]);
}

POM_SHA_TARGET void PaddedManyWithExtensions(const uint8_t* const* blocks, uint8_t* const* outs, size_t count) {
  size_t i = 0;
  for (; i + 4 <= count; i += 4) PaddedWithExtensions<4>(blocks + i, outs + i);
  if (i + 2 <= count) {
    PaddedWithExtensions<2>(blocks + i, outs + i);
    i += 2;
  }
  if (i < count) PaddedWithExtensions<1>(blocks + i, outs + i);
}

bool DetectShaExtensions() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return false;
  const bool ssse3 = (ecx & (1u << 9)) != 0, sse41 = (ecx & (1u << 19)) != 0;
  if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) == 0) return false;
  const bool sha = (ebx & (1u << 29)) != 0;
  return ssse3 && sse41 && sha;
}

#endif  // POM_SHA_X86

}  // namespace

bool ShaExtensionsAvailable() {
#if POM_SHA_X86
  static const bool available = DetectShaExtensions();
  return available;
#else
  return false;
#endif
}

void Sha256ShortPortable(const uint8_t* data, size_t len, uint8_t out[32]) {
  POM_CHECK(len <= kShortMax);
  SHA256(data, len, out);
}

void Sha256Short(const uint8_t* data, size_t len, uint8_t out[32]) {
  POM_CHECK(len <= kShortMax);
#if POM_SHA_X86
  if (ShaExtensionsAvailable()) return ShortWithExtensions(data, len, out);
#endif
  Sha256ShortPortable(data, len, out);
}

void Sha256PaddedTwoBlocks(const uint8_t* const* blocks, uint8_t* const* outs, size_t count) {
#if POM_SHA_X86
  if (ShaExtensionsAvailable()) return PaddedManyWithExtensions(blocks, outs, count);
#endif
  // Without the extensions: the message length is in the padding's last 8 bytes.
  for (size_t i = 0; i < count; ++i) {
    uint64_t bits = 0;
    std::memcpy(&bits, blocks[i] + 120, 8);
    Sha256ShortPortable(blocks[i], static_cast<size_t>(__builtin_bswap64(bits) / 8), outs[i]);
  }
}

void Sha256ShortMany(const ShortMessage* messages, size_t count) {
  for (size_t i = 0; i < count; ++i) POM_CHECK(messages[i].len <= kShortMax);
#if POM_SHA_X86
  if (ShaExtensionsAvailable()) return ManyWithExtensions(messages, count);
#endif
  for (size_t i = 0; i < count; ++i) Sha256ShortPortable(messages[i].data, messages[i].len, messages[i].out);
}

}  // namespace pom::crypto_internal
