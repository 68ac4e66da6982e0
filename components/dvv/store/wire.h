#pragma once
// Binary encoding for the store's messages, log records and metadata:
// LEB128 varints and length-prefixed bytes. The reader never reads past its
// input: every getter fails (ok() turns false) instead.

#include <cstdint>
#include <string>
#include <string_view>

#include "base/varint.h"

namespace doppel::dvv {

class WireWriter {
 public:
  void u8(std::uint8_t v) { out_ += static_cast<char>(v); }
  void varint(std::uint64_t v) { put_varint(out_, v); }
  void bytes(std::string_view b) { put_length_prefixed(out_, b); }
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
    if (take_varint(in_, v) != VarintStatus::ok) return fail<std::uint64_t>();
    return v;
  }
  std::string_view bytes(std::size_t max = 1u << 30) {
    std::string_view b;
    if (!ok_ || take_length_prefixed(in_, b, max) != VarintStatus::ok)
      return fail<std::string_view>();
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
