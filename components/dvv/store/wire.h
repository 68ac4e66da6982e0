#pragma once
// Binary encoding for the store's messages, log records and metadata:
// LEB128 varints and length-prefixed bytes. The reader never reads past its
// input: every getter fails (ok() turns false) instead.

#include <cstdint>
#include <string>
#include <string_view>

namespace doppel::dvv {

class WireWriter {
 public:
  void u8(std::uint8_t v) { out_ += static_cast<char>(v); }
  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      out_ += static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    out_ += static_cast<char>(v);
  }
  void bytes(std::string_view b) {
    varint(b.size());
    out_.append(b);
  }
  std::string& str() { return out_; }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class WireReader {
 public:
  explicit WireReader(std::string_view in) : in_(in) {}
  std::uint8_t u8() {
    if (in_.empty()) return fail<std::uint8_t>();
    const auto v = static_cast<std::uint8_t>(in_.front());
    in_.remove_prefix(1);
    return v;
  }
  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (in_.empty()) return fail<std::uint64_t>();
      const auto b = static_cast<unsigned char>(in_.front());
      in_.remove_prefix(1);
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    return fail<std::uint64_t>();
  }
  std::string_view bytes(std::size_t max = 1u << 30) {
    const std::uint64_t n = varint();
    if (!ok_ || n > in_.size() || n > max) return fail<std::string_view>();
    const std::string_view b = in_.substr(0, n);
    in_.remove_prefix(n);
    return b;
  }
  bool ok() const { return ok_; }
  bool done() const { return ok_ && in_.empty(); }

 private:
  template <class T>
  T fail() {
    ok_ = false;
    in_ = {};
    return T{};
  }
  std::string_view in_;
  bool ok_ = true;
};

// CRC-32C (Castagnoli), bitwise: log records and metadata checksums.
std::uint32_t crc32c(std::string_view bytes, std::uint32_t crc = 0);

}  // namespace doppel::dvv
