#pragma once
// The layout of one item inside a segment. Memory per item is the point: the
// project's goal is RSS <= 1.15 x live key+value bytes for 30-byte keys and
// 200-byte values, so the header is variable and byte-packed (15 bytes for
// that item: 245 bytes, 248 with alignment). Items start at 4-byte boundaries
// (a location counts 4-byte units, see segment_pool.h); nothing else is aligned
// and every multi-byte field is read and written with memcpy.
//
//   byte 0      control: bit 0 dead, bit 1 slack follows the value,
//               bit 2 client flags present, bits 3-4 value length width - 1,
//               bits 5-7 the meta protocol's marks: fetched (read since
//               stored), stale (md I, ms I), win token sent (mg N/R/X)
//   byte 1      key length, 0..kKeyBytesMax
//   1..3 bytes  value length, little endian (the width is in the control byte)
//   0 or 4      client flags (absent when they are 0, as they mostly are)
//   4 bytes     exptime, unix seconds, 0 = never (always present, so that a
//               touch never changes the layout)
//   8 bytes     CAS unique
//   key bytes, then value bytes
//   slack       capacity - used bytes; when present its first bytes hold its
//               length as a LEB128 varint (a slack of n >= 1 bytes always has
//               room for the varint of n).
//
// The capacity (used + slack) is fixed when the item is placed; an overwrite
// whose new version fits in it is written in place (store.h). "Dead" marks a
// version that the index no longer points to: the FIFO eviction walk skips it
// without a lookup, and asserts that every other item is in the index.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "base/varint.h"
#include "runtime/assert.h"

namespace doppel::kv {

inline constexpr std::uint32_t kKeyBytesMax = 250;                 // memcached's limit
inline constexpr std::uint32_t kValueBytesLimit = (1u << 24) - 1;  // 3 length bytes
inline constexpr std::uint32_t kItemAlignBytes = 4;
inline constexpr std::uint32_t kItemHeaderBytesMin = 15;
inline constexpr std::uint32_t kItemHeaderBytesMax = 21;

struct ItemHeader {
  std::uint32_t key_bytes = 0;
  std::uint32_t value_bytes = 0;
  std::uint32_t client_flags = 0;
  std::uint32_t exptime = 0;  // unix seconds; 0 = never
  std::uint64_t cas = 0;
  bool dead = false;
  // memcached's ITEM_FETCHED, ITEM_STALE and ITEM_TOKEN_SENT (protocol.txt, meta commands):
  // kept in the control byte, so marking an item never changes its layout.
  bool fetched = false;
  bool stale = false;
  bool token_sent = false;
};

// An item decoded in place; the views point into the segment.
struct ItemRef {
  ItemHeader header;
  std::uint32_t header_bytes = 0;    // where the key starts
  std::uint32_t capacity_bytes = 0;  // the item's whole footprint: used + slack
  std::string_view key;
  std::string_view value;
};

namespace item_detail {

inline constexpr std::uint8_t kDead = 1u << 0;
inline constexpr std::uint8_t kSlack = 1u << 1;
inline constexpr std::uint8_t kFlags = 1u << 2;
inline constexpr std::uint8_t kWidthShift = 3;
inline constexpr std::uint8_t kFetched = 1u << 5;
inline constexpr std::uint8_t kStale = 1u << 6;
inline constexpr std::uint8_t kTokenSent = 1u << 7;

inline std::uint32_t value_length_width(std::uint32_t value_bytes) {
  return value_bytes < (1u << 8) ? 1 : value_bytes < (1u << 16) ? 2 : 3;
}

inline std::uint8_t byte_at(const std::byte* p, std::uint32_t i) {
  return static_cast<std::uint8_t>(p[i]);
}

// LEB128 (base/varint.h); returns the bytes written. `room` bounds the write.
inline std::uint32_t write_varint(std::byte* p, std::uint32_t value, std::uint32_t room) {
  DOPPEL_ASSERT(varint_bytes(value) <= room);
  return static_cast<std::uint32_t>(encode_varint(value, reinterpret_cast<unsigned char*>(p)));
}

// A 32-bit value takes at most 5 bytes, all inside the item.
inline std::uint32_t read_varint(const std::byte* p) {
  std::string_view in(reinterpret_cast<const char*>(p), 5);
  std::uint64_t value = 0;
  const VarintStatus s = take_varint(in, value);
  DOPPEL_ASSERT_MSG(s == VarintStatus::ok && value <= UINT32_MAX,
                    "item slack varint longer than 5 bytes");
  return static_cast<std::uint32_t>(value);
}

}  // namespace item_detail

inline std::uint32_t item_header_bytes(std::uint32_t value_bytes, std::uint32_t client_flags) {
  return 2 + item_detail::value_length_width(value_bytes) + (client_flags != 0 ? 4 : 0) + 4 + 8;
}

// Header + key + value, in 64 bits so that no caller's size can overflow it.
inline std::uint64_t item_used_bytes(std::uint64_t key_bytes, std::uint64_t value_bytes,
                                     std::uint32_t client_flags) {
  const auto width_bytes = value_bytes < kValueBytesLimit ? value_bytes : kValueBytesLimit;
  return item_header_bytes(static_cast<std::uint32_t>(width_bytes), client_flags) + key_bytes +
         value_bytes;
}

inline std::uint32_t item_footprint_bytes(std::uint32_t used_bytes) {
  return (used_bytes + kItemAlignBytes - 1) & ~(kItemAlignBytes - 1);
}

inline ItemRef read_item(const std::byte* item) {
  using namespace item_detail;
  ItemRef ref;
  const std::uint8_t control = byte_at(item, 0);
  ItemHeader& h = ref.header;
  h.dead = (control & kDead) != 0;
  h.fetched = (control & kFetched) != 0;
  h.stale = (control & kStale) != 0;
  h.token_sent = (control & kTokenSent) != 0;
  h.key_bytes = byte_at(item, 1);
  DOPPEL_ASSERT(h.key_bytes <= kKeyBytesMax);
  const std::uint32_t width = ((control >> kWidthShift) & 3u) + 1;
  DOPPEL_ASSERT(width <= 3);
  std::uint32_t at = 2;
  for (std::uint32_t i = 0; i < width; ++i) {
    h.value_bytes |= static_cast<std::uint32_t>(byte_at(item, at++)) << (8 * i);
  }
  if ((control & kFlags) != 0) {
    std::memcpy(&h.client_flags, item + at, 4);
    at += 4;
    DOPPEL_ASSERT(h.client_flags != 0);
  }
  std::memcpy(&h.exptime, item + at, 4);
  std::memcpy(&h.cas, item + at + 4, 8);
  ref.header_bytes = at + 12;
  DOPPEL_ASSERT(ref.header_bytes == item_header_bytes(h.value_bytes, h.client_flags));
  const std::uint32_t used = ref.header_bytes + h.key_bytes + h.value_bytes;
  const std::uint32_t slack = (control & kSlack) != 0 ? read_varint(item + used) : 0;
  ref.capacity_bytes = used + slack;
  DOPPEL_ASSERT(ref.capacity_bytes % kItemAlignBytes == 0);
  const char* chars = reinterpret_cast<const char*>(item);
  ref.key = std::string_view(chars + ref.header_bytes, h.key_bytes);
  ref.value = std::string_view(chars + ref.header_bytes + h.key_bytes, h.value_bytes);
  return ref;
}

// Writes the header and the slack marker of an item of `capacity_bytes`; the
// key and value bytes are the caller's to write (before or after: the regions
// do not overlap).
inline void write_item_header(std::byte* item, const ItemHeader& h, std::uint32_t capacity_bytes) {
  using namespace item_detail;
  DOPPEL_ASSERT(h.key_bytes <= kKeyBytesMax);
  DOPPEL_ASSERT(h.value_bytes <= kValueBytesLimit);
  const std::uint32_t width = value_length_width(h.value_bytes);
  const std::uint32_t header_bytes = item_header_bytes(h.value_bytes, h.client_flags);
  const std::uint32_t used = header_bytes + h.key_bytes + h.value_bytes;
  DOPPEL_ASSERT(used <= capacity_bytes);
  DOPPEL_ASSERT(capacity_bytes % kItemAlignBytes == 0);
  std::uint8_t control = static_cast<std::uint8_t>((width - 1) << kWidthShift);
  if (h.dead) control |= kDead;
  if (h.fetched) control |= kFetched;
  if (h.stale) control |= kStale;
  if (h.token_sent) control |= kTokenSent;
  if (used < capacity_bytes) control |= kSlack;
  if (h.client_flags != 0) control |= kFlags;
  item[0] = static_cast<std::byte>(control);
  item[1] = static_cast<std::byte>(h.key_bytes);
  std::uint32_t at = 2;
  for (std::uint32_t i = 0; i < width; ++i) {
    item[at++] = static_cast<std::byte>((h.value_bytes >> (8 * i)) & 0xff);
  }
  if (h.client_flags != 0) {
    std::memcpy(item + at, &h.client_flags, 4);
    at += 4;
  }
  std::memcpy(item + at, &h.exptime, 4);
  std::memcpy(item + at + 4, &h.cas, 8);
  if (used < capacity_bytes)
    write_varint(item + used, capacity_bytes - used, capacity_bytes - used);
}

inline void mark_item_dead(std::byte* item) {
  DOPPEL_ASSERT((item_detail::byte_at(item, 0) & item_detail::kDead) == 0);
  item[0] |= static_cast<std::byte>(item_detail::kDead);
}

// The exptime has a fixed place for a given layout: a touch rewrites it alone.
inline void set_item_exptime(std::byte* item, std::uint32_t exptime) {
  const ItemRef ref = read_item(item);
  std::memcpy(item + ref.header_bytes - 12, &exptime, 4);
}

// So has the CAS unique: md I gives a stale item a new one in place.
inline void set_item_cas(std::byte* item, std::uint64_t cas) {
  const ItemRef ref = read_item(item);
  std::memcpy(item + ref.header_bytes - 8, &cas, 8);
}

// The marks (fetched, stale, token sent) from `h`, in place: no other byte changes.
inline void set_item_marks(std::byte* item, const ItemHeader& h) {
  using namespace item_detail;
  std::uint8_t control = byte_at(item, 0) & ~(kFetched | kStale | kTokenSent);
  if (h.fetched) control |= kFetched;
  if (h.stale) control |= kStale;
  if (h.token_sent) control |= kTokenSent;
  item[0] = static_cast<std::byte>(control);
}

}  // namespace doppel::kv
