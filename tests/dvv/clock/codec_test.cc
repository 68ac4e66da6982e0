// The wire format of objects and contexts: exact bytes, every kind of damage
// refused with `corrupt`, and round trips of everything a history produces.
#include <rapidcheck/catch.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "components/dvv/clock/clock_conversion.h"
#include "components/dvv/clock/object_clock.h"
#include "tests/dvv/clock/history.h"

using namespace doppel;
using namespace doppel::dvv;
using namespace doppel::dvv::testing;

namespace {

std::string bytes(std::initializer_list<int> list) {
  std::string out;
  for (const int b : list) out += static_cast<char>(b);
  return out;
}

void require_corrupt(std::string_view input) {
  INFO("input of " << input.size() << " bytes");
  const auto decoded = decode_object(input);
  REQUIRE_FALSE(decoded.ok());
  REQUIRE(decoded.code() == Errc::corrupt);
}

void require_corrupt_context(std::string_view input, ClockKind kind) {
  const auto decoded = decode_context(input, kind);
  REQUIRE_FALSE(decoded.ok());
  REQUIRE(decoded.code() == Errc::corrupt);
}

const Object kDvvObject(DvvSet{{{"a", 2, {"x"}}, {"b", 1, {}}}, {}});
const Object kVvObject(VvObject{VersionVector{{{"c", 1, -1}, {"d", 300, 64}}}, {"x", "y"}, {}});
// A vv object converted from a DVVSet keeps it (clock_conversion.h).
const Object kVvObjectWithOrigin(VvObject{
    VersionVector{{{"dvv:a", 2, 0}}}, {"x"}, DvvSet{{{"a", 2, {"x"}}}, {}}});

}  // namespace

TEST_CASE("codec: objects and contexts have the documented bytes", "[unit]") {
  REQUIRE(encode_object(kDvvObject) == bytes({0xD1, 2, 1, 'a', 2, 1, 1, 'x', 1, 'b', 1, 0, 0}));
  REQUIRE(encode_context(kDvvObject.context()) == bytes({0xD2, 2, 1, 'a', 2, 1, 'b', 1}));
  // zigzag(-1) = 1, zigzag(64) = 128 = 0x80 0x01; 300 = 0xAC 0x02.
  REQUIRE(encode_object(kVvObject) ==
          bytes({0xA1, 2, 1, 'c', 1, 1, 1, 'd', 0xAC, 0x02, 0x80, 0x01, 2, 1, 'x', 1, 'y'}));
  REQUIRE(encode_context(kVvObject.context()) ==
          bytes({0xA2, 2, 1, 'c', 1, 1, 1, 'd', 0xAC, 0x02, 0x80, 0x01}));
  REQUIRE(encode_object(Object::empty(ClockKind::dvvset)) == bytes({0xD1, 0, 0}));
  REQUIRE(encode_object(Object::empty(ClockKind::vv)) == bytes({0xA1, 0, 0}));
  const std::string vv_body = bytes({1, 5, 'd', 'v', 'v', ':', 'a', 2, 0, 1, 1, 'x'});
  const std::string dvvset_body = bytes({1, 1, 'a', 2, 1, 1, 'x', 0});
  REQUIRE(encode_object(kVvObjectWithOrigin) == bytes({0xA3}) + vv_body + dvvset_body);
}

TEST_CASE("codec: a decoded object or context equals the encoded one", "[unit]") {
  for (const Object& o :
       {kDvvObject, kVvObject, kVvObjectWithOrigin, Object::empty(ClockKind::dvvset)}) {
    const auto back = decode_object(encode_object(o));
    REQUIRE(back.ok());
    REQUIRE(*back == o);
    const auto context = decode_context(encode_context(o.context()), o.kind());
    REQUIRE(context.ok());
    REQUIRE(*context == o.context());
  }
}

TEST_CASE("codec: every truncation and any trailing byte is corrupt", "[unit]") {
  for (const Object& o : {kDvvObject, kVvObject, kVvObjectWithOrigin}) {
    const std::string whole = encode_object(o);
    for (std::size_t n = 0; n < whole.size(); ++n) require_corrupt(whole.substr(0, n));
    require_corrupt(whole + '\0');
    const std::string context = encode_context(o.context());
    for (std::size_t n = 0; n < context.size(); ++n) {
      require_corrupt_context(context.substr(0, n), o.kind());
    }
    require_corrupt_context(context + '\0', o.kind());
  }
}

TEST_CASE("codec: bad varints, tags and limits are corrupt", "[unit]") {
  require_corrupt(bytes({0x00, 0, 0}));           // unknown tag
  require_corrupt(bytes({0xD2, 0}));              // a context is not an object
  require_corrupt(bytes({0xD1, 0x80, 0x00, 0}));  // overlong zero
  require_corrupt(bytes({0xD1, 0x81, 0x00, 0}));  // overlong one
  require_corrupt(bytes({0xD1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}));
  require_corrupt(bytes({0xD1, 0x81, 0x80, 0x04}));    // 65537 entries > the limit
  std::string long_id = bytes({0xD1, 1, 0x80, 0x02});  // a 256-byte id
  long_id += std::string(256, 'r') + bytes({1, 0, 0});
  require_corrupt(long_id);
  require_corrupt_context(bytes({0xA1, 0, 0}), ClockKind::vv);  // an object is not a context
}

TEST_CASE("codec: values that break the representation invariants are corrupt", "[unit]") {
  // dvvset: ids out of order, a repeated id, an empty id, more values than dots.
  require_corrupt(bytes({0xD1, 2, 1, 'b', 1, 0, 1, 'a', 1, 0, 0}));
  require_corrupt(bytes({0xD1, 2, 1, 'a', 1, 0, 1, 'a', 1, 0, 0}));
  require_corrupt(bytes({0xD1, 1, 0, 1, 0, 0}));
  require_corrupt(bytes({0xD1, 1, 1, 'a', 1, 2, 1, 'x', 1, 'y', 0}));
  require_corrupt_context(bytes({0xD2, 2, 1, 'b', 1, 1, 'a', 1}), ClockKind::dvvset);
  // vv: a zero counter, siblings out of order, a repeated sibling.
  require_corrupt(bytes({0xA1, 1, 1, 'c', 0, 0, 0}));
  require_corrupt(bytes({0xA1, 0, 2, 1, 'y', 1, 'x'}));
  require_corrupt(bytes({0xA1, 0, 2, 1, 'x', 1, 'x'}));
  require_corrupt_context(bytes({0xA2, 2, 1, 'd', 1, 0, 1, 'c', 1, 0}), ClockKind::vv);
  // Anonymous values keep their order (the reference keeps a list), so any order decodes.
  REQUIRE(decode_object(bytes({0xD1, 0, 2, 1, 'y', 1, 'x'})).ok());
}

TEST_CASE("codec: a context of the other kind decodes converted to the expected kind", "[unit]") {
  const auto dvv = decode_context(encode_context(kVvObject.context()), ClockKind::dvvset);
  REQUIRE(dvv.ok());
  REQUIRE(dvv->kind() == ClockKind::dvvset);
  REQUIRE(*dvv == convert(kVvObject.context(), ClockKind::dvvset));
  const auto vv = decode_context(encode_context(kDvvObject.context()), ClockKind::vv);
  REQUIRE(vv.ok());
  REQUIRE(*vv == convert(kDvvObject.context(), ClockKind::vv));
}

TEST_CASE("codec: everything a history holds round-trips", "[prop]") {
  rc::prop("decode(encode(o)) == o for objects and contexts of both kinds", [] {
    const auto ops = *rc::gen::container<std::vector<Op>>(gen_op());
    for (const ClockKind kind : {ClockKind::dvvset, ClockKind::vv}) {
      History h(ClockOptions{kind, VvPruneOptions{2, 3, 5, 50}}, 7);
      h.run(ops);
      for (const Object& o : h.seen()) {
        const auto back = decode_object(encode_object(o));
        RC_ASSERT(back.ok());
        RC_ASSERT(*back == o);
        const auto context = decode_context(encode_context(o.context()), kind);
        RC_ASSERT(context.ok());
        RC_ASSERT(*context == o.context());
      }
    }
  });
}

TEST_CASE("codec: any well-formed dvvset, anonymous values included, round-trips", "[prop]") {
  rc::prop("decode(encode(o)) == o for arbitrary clocks", [] {
    // Ids from a small alphabet, deduplicated and sorted; values <= counter.
    const auto raw = *rc::gen::container<std::vector<std::pair<int, int>>>(
        rc::gen::pair(rc::gen::inRange(0, 6), rc::gen::inRange(0, 5)));
    DvvSet clock;
    for (const auto& [id, counter] : raw) {
      const ReplicaId name(1 + static_cast<std::size_t>(id), 'r');
      bool present = false;
      for (const DvvEntry& e : clock.entries) present = present || e.id == name;
      if (present) continue;
      DvvEntry e{name, static_cast<std::uint64_t>(counter), {}};
      const auto n = *rc::gen::inRange(0, counter + 1);
      for (int k = 0; k < n; ++k) e.values.push_back(*rc::gen::arbitrary<std::string>());
      clock.entries.push_back(std::move(e));
    }
    std::sort(clock.entries.begin(), clock.entries.end(),
              [](const DvvEntry& x, const DvvEntry& y) { return x.id < y.id; });
    clock.anonymous = *rc::gen::arbitrary<std::vector<std::string>>();
    const Object o(clock);
    const auto back = decode_object(encode_object(o));
    RC_ASSERT(back.ok());
    RC_ASSERT(*back == o);
  });
}

TEST_CASE("codec: damaged bytes decode to an error or to their one encoding", "[prop]") {
  rc::prop("decode(mutate(encode(o))) never crashes; accepted bytes re-encode to themselves", [] {
    const auto ops = *rc::gen::container<std::vector<Op>>(gen_op());
    const auto kind = *rc::gen::element(ClockKind::dvvset, ClockKind::vv);
    History h(ClockOptions{kind, {}}, 1);
    h.run(ops);
    std::string input = encode_object(h.replica(0));
    const auto flips = *rc::gen::inRange(1, 4);
    for (int i = 0; i < flips; ++i) {
      const auto at = *rc::gen::inRange<std::size_t>(0, input.size());
      input[at] = static_cast<char>(*rc::gen::arbitrary<unsigned char>());
    }
    if (*rc::gen::arbitrary<bool>()) input.resize(*rc::gen::inRange<std::size_t>(0, input.size()));
    const auto decoded = decode_object(input);
    if (decoded.ok()) {
      RC_ASSERT(encode_object(*decoded) == input);
    } else {
      RC_ASSERT(decoded.code() == Errc::corrupt);
    }
    const auto context = decode_context(input, kind);
    if (context.ok()) RC_ASSERT(encode_context(*context) == input);
  });
}
