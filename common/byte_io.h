// Little-endian byte encoding for pom's own storage formats (snapshots, ledgers): a writer that
// appends to a string and a bounds-checked reader that never reads past its input.
// Thread-safety: value types, one owner.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/bytes.h"

namespace pom {

class ByteWriter {
 public:
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U32(uint32_t v) { Fixed<4>(v); }
  void U64(uint64_t v) { Fixed<8>(v); }
  void U128(u128 v) { Fixed<16>(v); }
  void Raw(std::span<const uint8_t> bytes) {
    out_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }
  // A u32 length, then the bytes.
  void Blob(std::string_view bytes) {
    U32(static_cast<uint32_t>(bytes.size()));
    out_.append(bytes);
  }

  size_t size() const { return out_.size(); }
  const std::string& data() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  template <int N, typename T>
  void Fixed(T v) {
    for (int i = 0; i < N; ++i) out_.push_back(static_cast<char>(static_cast<uint8_t>(v >> (8 * i))));
  }
  std::string out_;
};

// Each getter returns false (and leaves the reader failed) if the input is too short.
class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}

  bool U8(uint8_t* v) { return Fixed<1>(v); }
  bool U32(uint32_t* v) { return Fixed<4>(v); }
  bool U64(uint64_t* v) { return Fixed<8>(v); }
  bool U128(u128* v) { return Fixed<16>(v); }
  bool Raw(std::span<uint8_t> out) {
    if (!Need(out.size())) return false;
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(in_[pos_ + i]);
    pos_ += out.size();
    return true;
  }
  bool Blob(std::string_view* out) {
    uint32_t n = 0;
    if (!U32(&n) || !Need(n)) return false;
    *out = in_.substr(pos_, n);
    pos_ += n;
    return true;
  }

  bool done() const { return pos_ == in_.size(); }
  size_t remaining() const { return in_.size() - pos_; }

 private:
  bool Need(size_t n) {
    if (in_.size() - pos_ < n) {
      pos_ = in_.size();
      return false;
    }
    return true;
  }
  template <int N, typename T>
  bool Fixed(T* v) {
    if (!Need(N)) return false;
    T x = 0;
    for (int i = N - 1; i >= 0; --i) x = static_cast<T>((x << 8) | static_cast<uint8_t>(in_[pos_ + i]));
    *v = x;
    pos_ += N;
    return true;
  }
  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace pom
