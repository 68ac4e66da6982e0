// base/varint.h: every u64 and, zigzagged, every i64 round trips; every shortened encoding is
// truncated; an eleventh group or a tenth byte over 1 is too long; a needless zero group is
// overlong under the minimal rule and read under the other.

#include "base/varint.h"

#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <string>

using namespace doppel;

namespace {

std::string encoded(std::uint64_t v) {
  std::string out;
  put_varint(out, v);
  return out;
}

VarintStatus decode(std::string_view bytes, std::uint64_t& v, VarintRule rule = VarintRule::any) {
  return take_varint(bytes, v, rule);
}

// The encoding of v with one more group of zero bits: the same value, not minimal.
std::string padded(std::uint64_t v) {
  std::string out = encoded(v);
  out.back() = static_cast<char>(out.back() | 0x80);
  out += '\0';
  return out;
}

}  // namespace

TEST_CASE("varint: sizes step at each 7 bits, 1 to 10 bytes", "[unit]") {
  REQUIRE(varint_bytes(0) == 1);
  REQUIRE(varint_bytes(127) == 1);
  REQUIRE(varint_bytes(128) == 2);
  REQUIRE(varint_bytes(16383) == 2);
  REQUIRE(varint_bytes(16384) == 3);
  REQUIRE(varint_bytes(std::uint64_t{1} << 63) == kVarintBytesMax);
  REQUIRE(varint_bytes(UINT64_MAX) == kVarintBytesMax);
  REQUIRE(encoded(300) == "\xac\x02");
  REQUIRE(encoded(UINT64_MAX) == "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01");
}

TEST_CASE("varint: zigzag maps small magnitudes to small codes, and the edges to the top",
          "[unit]") {
  REQUIRE(zigzag_encode(0) == 0);
  REQUIRE(zigzag_encode(-1) == 1);
  REQUIRE(zigzag_encode(1) == 2);
  REQUIRE(zigzag_encode(-2) == 3);
  REQUIRE(zigzag_encode(INT64_MAX) == UINT64_MAX - 1);
  REQUIRE(zigzag_encode(INT64_MIN) == UINT64_MAX);
  REQUIRE(zigzag_decode(UINT64_MAX) == INT64_MIN);
  REQUIRE(zigzag_decode(UINT64_MAX - 1) == INT64_MAX);
}

TEST_CASE("varint: every u64 reads back whole, under both rules, using exactly its bytes",
          "[prop]") {
  rc::prop("take(put(v)) == v", [] {
    // Small, edge and any values: arbitrary<> alone rarely makes the 1- and 10-byte ones.
    const std::uint64_t v = *rc::gen::oneOf(
        rc::gen::arbitrary<std::uint64_t>(),
        rc::gen::map(rc::gen::inRange(0, 64),
                     [](int bit) { return (std::uint64_t{1} << bit) - 1; }),
        rc::gen::map(rc::gen::inRange(0, 64), [](int bit) { return std::uint64_t{1} << bit; }));
    const std::string tail = *rc::gen::arbitrary<std::string>();
    const std::string bytes = encoded(v) + tail;
    RC_ASSERT(encoded(v).size() == varint_bytes(v));
    for (const VarintRule rule : {VarintRule::any, VarintRule::minimal}) {
      std::string_view in = bytes;
      std::uint64_t got = 0;
      RC_ASSERT(take_varint(in, got, rule) == VarintStatus::ok);
      RC_ASSERT(got == v);
      RC_ASSERT(in == tail);  // it took its own bytes and no more
    }
  });
}

TEST_CASE("varint: every i64 reads back whole through zigzag", "[prop]") {
  rc::prop("zigzag_decode(take(put_zigzag(v))) == v", [] {
    const std::int64_t v =
        *rc::gen::oneOf(rc::gen::arbitrary<std::int64_t>(),
                        rc::gen::element(INT64_MIN, INT64_MAX, std::int64_t{0}, std::int64_t{-1}),
                        rc::gen::inRange<std::int64_t>(-300, 300));
    std::string bytes;
    put_zigzag(bytes, v);
    std::string_view in = bytes;
    std::uint64_t u = 0;
    RC_ASSERT(take_varint(in, u, VarintRule::minimal) == VarintStatus::ok);
    RC_ASSERT(in.empty());
    RC_ASSERT(zigzag_decode(u) == v);
    // Small magnitudes stay short.
    if (v >= -64 && v < 64) RC_ASSERT(bytes.size() == 1u);
  });
}

TEST_CASE("varint: every proper prefix of an encoding is truncated", "[prop]") {
  rc::prop("take(prefix) == truncated", [](std::uint64_t v) {
    const std::string bytes = encoded(v);
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      std::uint64_t got = 0;
      RC_ASSERT(decode(bytes.substr(0, n), got) == VarintStatus::truncated);
      RC_ASSERT(decode(bytes.substr(0, n), got, VarintRule::minimal) == VarintStatus::truncated);
    }
  });
}

TEST_CASE("varint: more than 64 bits is too long, whatever follows", "[unit]") {
  std::uint64_t v = 0;
  // A tenth byte may only hold the 64th bit.
  REQUIRE(decode(std::string(9, '\xff') + '\x01', v) == VarintStatus::ok);
  REQUIRE(v == UINT64_MAX);
  REQUIRE(decode(std::string(9, '\xff') + '\x02', v) == VarintStatus::too_long);
  REQUIRE(decode(std::string(9, '\x80') + '\x7f', v) == VarintStatus::too_long);
  // A tenth byte that says more follows.
  REQUIRE(decode(std::string(9, '\xff') + '\x81', v) == VarintStatus::too_long);
  REQUIRE(decode(std::string(11, '\x80') + '\x00', v) == VarintStatus::too_long);
  REQUIRE(decode(std::string(20, '\xff'), v, VarintRule::minimal) == VarintStatus::too_long);
}

TEST_CASE("varint: a needless zero group is overlong under the minimal rule only", "[prop]") {
  std::uint64_t v = 7;
  REQUIRE(decode(std::string(1, '\0'), v, VarintRule::minimal) == VarintStatus::ok);
  REQUIRE(v == 0);
  REQUIRE(decode(std::string("\x80\x00", 2), v, VarintRule::minimal) == VarintStatus::overlong);
  REQUIRE(decode(std::string("\x80\x00", 2), v) == VarintStatus::ok);
  REQUIRE(v == 0);
  REQUIRE(decode(std::string("\x81\x80\x00", 3), v, VarintRule::minimal) == VarintStatus::overlong);
  rc::prop("padded(v) reads as v, or is overlong when minimal", [] {
    // Values of at most 9 groups, so that the padded form still fits in 10 bytes.
    const std::uint64_t v = *rc::gen::inRange<std::uint64_t>(0, std::uint64_t{1} << 63);
    const std::string bytes = padded(v);
    RC_ASSERT(bytes.size() <= kVarintBytesMax);
    std::uint64_t got = 0;
    RC_ASSERT(decode(bytes, got) == VarintStatus::ok);
    RC_ASSERT(got == v);
    RC_ASSERT(decode(bytes, got, VarintRule::minimal) == VarintStatus::overlong);
  });
}

TEST_CASE("varint: length-prefixed bytes are viewed in place, within their limit", "[unit]") {
  std::string bytes;
  put_length_prefixed(bytes, "hello");
  put_length_prefixed(bytes, "");
  bytes += "rest";
  std::string_view in = bytes;
  std::string_view out;
  REQUIRE(take_length_prefixed(in, out) == VarintStatus::ok);
  REQUIRE(out == "hello");
  REQUIRE(out.data() == bytes.data() + 1);  // a view, not a copy
  REQUIRE(take_length_prefixed(in, out) == VarintStatus::ok);
  REQUIRE(out.empty());
  REQUIRE(in == "rest");
  // Longer than the input, or than the limit: truncated.
  in = bytes;
  REQUIRE(take_length_prefixed(in, out, 4) == VarintStatus::truncated);
  std::string_view short_input = std::string_view(bytes).substr(0, 4);
  REQUIRE(take_length_prefixed(short_input, out) == VarintStatus::truncated);
  // The length's own encoding follows the rule.
  std::string_view overlong_length("\x81\x00x", 3);
  REQUIRE(take_length_prefixed(overlong_length, out, UINT64_MAX, VarintRule::minimal) ==
          VarintStatus::overlong);
}

TEST_CASE("varint: each status has a name for error messages", "[unit]") {
  REQUIRE(varint_status_name(VarintStatus::ok) == "ok");
  REQUIRE(varint_status_name(VarintStatus::truncated) == "truncated");
  REQUIRE(varint_status_name(VarintStatus::too_long) == "varint over 64 bits");
  REQUIRE(varint_status_name(VarintStatus::overlong) == "overlong varint");
}
