#pragma once
// LEB128 varints: unsigned 64-bit values in little-endian groups of 7 bits,
// the high bit of each byte saying "more follows"; signed values zigzag first
// (0, -1, 1, -2 ... -> 0, 1, 2, 3 ...) so that small magnitudes stay short.
// One codec for every format of ours: traces, the DVV clocks, RPC frames and
// log records, and the KV's item headers.
//
// The decoder never reads past its input. It refuses a value over 64 bits (a
// tenth byte above 1), and, when asked for a minimal encoding (formats whose
// bytes are hashed or compared), a needless trailing zero group.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace doppel {

inline constexpr std::size_t kVarintBytesMax = 10;  // 64 bits in 7-bit groups

enum class VarintStatus : std::uint8_t {
  ok,
  truncated,  // the input ended inside the value
  too_long,   // more than 64 bits
  overlong,   // minimal encoding asked for, and a shorter one exists
};

enum class VarintRule : std::uint8_t { any, minimal };

constexpr std::size_t varint_bytes(std::uint64_t v) {
  std::size_t n = 1;
  for (; v >= 0x80; v >>= 7) ++n;
  return n;
}

constexpr std::uint64_t zigzag_encode(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ (v < 0 ? ~std::uint64_t{0} : 0);
}

constexpr std::int64_t zigzag_decode(std::uint64_t u) {
  return static_cast<std::int64_t>(u >> 1) ^ -static_cast<std::int64_t>(u & 1);
}

// Writes v at p, which has room for varint_bytes(v); returns the bytes written.
inline std::size_t encode_varint(std::uint64_t v, unsigned char* p) {
  std::size_t n = 0;
  for (; v >= 0x80; v >>= 7) p[n++] = static_cast<unsigned char>((v & 0x7f) | 0x80);
  p[n++] = static_cast<unsigned char>(v);
  return n;
}

inline void put_varint(std::string& out, std::uint64_t v) {
  unsigned char buf[kVarintBytesMax];
  out.append(reinterpret_cast<const char*>(buf), encode_varint(v, buf));
}

inline void put_zigzag(std::string& out, std::int64_t v) {
  put_varint(out, zigzag_encode(v));
}

// A length, then the bytes.
inline void put_length_prefixed(std::string& out, std::string_view bytes) {
  put_varint(out, bytes.size());
  out.append(bytes);
}

// Decodes one varint from the front of `in` and removes it. On any status but
// ok, `in` and `v` are left unspecified.
inline VarintStatus take_varint(std::string_view& in, std::uint64_t& v,
                                VarintRule rule = VarintRule::any) {
  v = 0;
  for (std::size_t i = 0; i < kVarintBytesMax; ++i) {
    if (i >= in.size()) return VarintStatus::truncated;
    const auto b = static_cast<unsigned char>(in[i]);
    if (i == kVarintBytesMax - 1 && b > 1) return VarintStatus::too_long;
    v |= static_cast<std::uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      if (rule == VarintRule::minimal && i > 0 && b == 0) return VarintStatus::overlong;
      in.remove_prefix(i + 1);
      return VarintStatus::ok;
    }
  }
  return VarintStatus::too_long;
}

// A length-prefixed byte string of at most `bytes_max` bytes, viewed in place.
inline VarintStatus take_length_prefixed(std::string_view& in, std::string_view& out,
                                         std::uint64_t bytes_max = UINT64_MAX,
                                         VarintRule rule = VarintRule::any) {
  std::uint64_t n = 0;
  if (const VarintStatus s = take_varint(in, n, rule); s != VarintStatus::ok) return s;
  if (n > in.size() || n > bytes_max) return VarintStatus::truncated;
  out = in.substr(0, static_cast<std::size_t>(n));
  in.remove_prefix(static_cast<std::size_t>(n));
  return VarintStatus::ok;
}

constexpr std::string_view varint_status_name(VarintStatus s) {
  switch (s) {
    case VarintStatus::ok:
      return "ok";
    case VarintStatus::truncated:
      return "truncated";
    case VarintStatus::too_long:
      return "varint over 64 bits";
    case VarintStatus::overlong:
      return "overlong varint";
  }
  return "?";
}

}  // namespace doppel
