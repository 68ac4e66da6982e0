#include "components/kv/store/item.h"

#include <rapidcheck/catch.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "components/kv/store/decimal.h"
#include "components/kv/store/key_hash.h"

using namespace doppel::kv;

namespace {

// Writes a whole item (header, key, value) into `buffer`; returns its footprint.
std::uint32_t put(std::vector<std::byte>& buffer, const ItemHeader& header, const std::string& key,
                  const std::string& value, std::uint32_t extra_capacity) {
  const std::uint32_t header_bytes = item_header_bytes(header.value_bytes, header.client_flags);
  const std::uint32_t used = header_bytes + header.key_bytes + header.value_bytes;
  const std::uint32_t capacity = item_footprint_bytes(used + extra_capacity);
  buffer.assign(capacity, std::byte{0xee});
  std::memcpy(buffer.data() + header_bytes, key.data(), key.size());
  std::memcpy(buffer.data() + header_bytes + key.size(), value.data(), value.size());
  write_item_header(buffer.data(), header, capacity);
  return capacity;
}

}  // namespace

TEST_CASE("item: a 30-byte key and a 200-byte value take 245 bytes, 248 aligned", "[unit]") {
  REQUIRE(item_header_bytes(200, 0) == 15);
  REQUIRE(item_used_bytes(30, 200, 0) == 245);
  REQUIRE(item_footprint_bytes(245) == 248);
  REQUIRE(item_header_bytes(200, 7) == 19);
  REQUIRE(item_header_bytes(256, 0) == 16);
  REQUIRE(item_header_bytes(65536, 1) == kItemHeaderBytesMax);
}

TEST_CASE("item: every value length width round-trips, with and without flags", "[unit]") {
  for (const std::uint32_t value_bytes : {0u, 1u, 255u, 256u, 65535u, 65536u, 70000u}) {
    for (const std::uint32_t flags : {0u, 1u, 0xffffffffu}) {
      ItemHeader h;
      h.key_bytes = 3;
      h.value_bytes = value_bytes;
      h.client_flags = flags;
      h.exptime = 1234567;
      h.cas = 0x0102030405060708ull;
      std::vector<std::byte> buffer;
      const std::string value(value_bytes, 'v');
      const std::uint32_t capacity = put(buffer, h, "key", value, 0);
      const ItemRef ref = read_item(buffer.data());
      REQUIRE(ref.key == "key");
      REQUIRE(ref.value == value);
      REQUIRE(ref.header.client_flags == flags);
      REQUIRE(ref.header.exptime == 1234567);
      REQUIRE(ref.header.cas == h.cas);
      REQUIRE_FALSE(ref.header.dead);
      REQUIRE(ref.capacity_bytes == capacity);
    }
  }
}

TEST_CASE("item: slack after the value is recorded and the capacity recovered", "[prop]") {
  rc::prop("capacity round-trips", [](std::uint8_t key_bytes, std::uint16_t value_bytes,
                                      std::uint32_t flags, std::uint16_t slack) {
    RC_PRE(key_bytes <= kKeyBytesMax);
    ItemHeader h;
    h.key_bytes = key_bytes;
    h.value_bytes = value_bytes;
    h.client_flags = flags;
    h.cas = 42;
    std::vector<std::byte> buffer;
    const std::string key(key_bytes, 'k');
    const std::string value(value_bytes, 'v');
    const std::uint32_t capacity = put(buffer, h, key, value, slack);
    ItemRef ref = read_item(buffer.data());
    RC_ASSERT(ref.capacity_bytes == capacity);
    RC_ASSERT(ref.key == key);
    RC_ASSERT(ref.value == value);
    RC_ASSERT(ref.header.client_flags == flags);
    mark_item_dead(buffer.data());
    set_item_exptime(buffer.data(), 99);
    ref = read_item(buffer.data());
    RC_ASSERT(ref.header.dead);
    RC_ASSERT(ref.header.exptime == 99u);
    RC_ASSERT(ref.capacity_bytes == capacity);
    RC_ASSERT(ref.value == value);
  });
}

TEST_CASE("item: decimal parsing accepts exactly the unsigned 64-bit numbers", "[unit]") {
  REQUIRE(parse_decimal_u64("0") == 0u);
  REQUIRE(parse_decimal_u64("42") == 42u);
  REQUIRE(parse_decimal_u64("0007") == 7u);
  REQUIRE(parse_decimal_u64("18446744073709551615") == std::numeric_limits<std::uint64_t>::max());
  REQUIRE(parse_decimal_u64("000000000000000000000000018446744073709551615") ==
          std::numeric_limits<std::uint64_t>::max());
  REQUIRE_FALSE(parse_decimal_u64("18446744073709551616"));
  REQUIRE_FALSE(parse_decimal_u64(""));
  REQUIRE_FALSE(parse_decimal_u64("-1"));
  REQUIRE_FALSE(parse_decimal_u64("+1"));
  REQUIRE_FALSE(parse_decimal_u64(" 1"));
  REQUIRE_FALSE(parse_decimal_u64("1 "));
  REQUIRE_FALSE(parse_decimal_u64("12a"));
}

TEST_CASE("item: decimal formatting round-trips through parsing", "[prop]") {
  rc::prop("format then parse", [](std::uint64_t value) {
    DecimalBuffer buffer;
    const std::string_view digits = format_decimal_u64(value, buffer);
    RC_ASSERT(digits == std::to_string(value));
    RC_ASSERT(parse_decimal_u64(digits) == value);
  });
}

TEST_CASE("item: the key hash depends on the seed and on every byte", "[unit]") {
  REQUIRE(hash_key("abc", 1) == hash_key("abc", 1));
  REQUIRE(hash_key("abc", 1) != hash_key("abc", 2));
  REQUIRE(hash_key("abcdefgh1", 1) != hash_key("abcdefgh2", 1));
  REQUIRE(hash_key("", 1) != hash_key(std::string_view("\0", 1), 1));
}
