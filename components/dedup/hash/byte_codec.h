#pragma once
// Little-endian encoding for the dedup formats (manifest, segment metadata,
// recipes, intent log). Header-only; it lives beside the hashes because
// every dedup library links this one.
//
// ByteReader never reads past its input: a short read sets failed() and
// yields zeros, so a decoder checks failed() once at the end.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "components/dedup/hash/fingerprint.h"

namespace doppel::dedup {

class ByteWriter {
 public:
  explicit ByteWriter(std::string& out) : out_(out) {}
  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u16(std::uint16_t v) { put(v, 2); }
  void u32(std::uint32_t v) { put(v, 4); }
  void u64(std::uint64_t v) { put(v, 8); }
  void bytes(std::string_view b) { out_.append(b); }
  void digest(const Fingerprint& fp) {
    out_.append(reinterpret_cast<const char*>(fp.bytes.data()), digest_bytes(fp.kind));
  }
  std::size_t size() const { return out_.size(); }

 private:
  void put(std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  std::string& out_;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}
  std::uint8_t u8() { return static_cast<std::uint8_t>(get(1)); }
  std::uint16_t u16() { return static_cast<std::uint16_t>(get(2)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(get(4)); }
  std::uint64_t u64() { return get(8); }
  std::string_view bytes(std::size_t n) {
    if (!take(n)) return {};
    return in_.substr(at_ - n, n);
  }
  Fingerprint digest(HashKind kind) {
    Fingerprint fp;
    fp.kind = kind;
    const std::string_view b = bytes(digest_bytes(kind));
    if (!b.empty()) std::memcpy(fp.bytes.data(), b.data(), b.size());
    return fp;
  }
  bool failed() const { return failed_; }
  std::size_t position() const { return at_; }
  std::size_t remaining() const { return in_.size() - at_; }
  bool at_end() const { return at_ == in_.size(); }

 private:
  bool take(std::size_t n) {
    if (failed_ || n > in_.size() - at_) {
      failed_ = true;
      return false;
    }
    at_ += n;
    return true;
  }
  std::uint64_t get(int n) {
    if (!take(static_cast<std::size_t>(n))) return 0;
    std::uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) {
      v = (v << 8) | static_cast<std::uint8_t>(in_[at_ - static_cast<std::size_t>(n) + i]);
    }
    return v;
  }
  std::string_view in_;
  std::size_t at_ = 0;
  bool failed_ = false;
};

}  // namespace doppel::dedup
