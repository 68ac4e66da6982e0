// The kv model's verbs beyond get/set/append/delete: cas uniques, incr/decr,
// flags, expiry windows on a skewed clock, touch and gat, flush_all with and
// without delay, noreply, item sizes.

#include <catch2/catch.hpp>

#include "properties/linearizability/checker.h"

using namespace doppel;
using namespace doppel::properties;
using namespace doppel::properties::linearizability;

namespace {

constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kS = 1'000'000'000;
const Value kNull{};

using Fields = std::vector<std::pair<std::string, Value>>;

class Ops {
 public:
  // One operation: invoked at t0, completed ok with `result` at t1.
  Ops& op(std::string_view f, std::string_view key, Value in, std::int64_t t0, std::int64_t t1,
          Value result = {}) {
    h_.invoke(next_, f, key, std::move(in), t0);
    h_.complete(next_++, OpType::ok, std::move(result), t1);
    return *this;
  }
  Ops& info(std::string_view f, std::string_view key, Value in, std::int64_t t0) {
    h_.invoke(next_, f, key, std::move(in), t0);
    h_.complete(next_++, OpType::info, kNull, t0 + 1);
    return *this;
  }
  Verdict check(std::int64_t clock_error_ns = 0, std::uint32_t item_bytes_max = 0) const {
    CheckOptions o;
    o.clock_error_ns = clock_error_ns;
    o.item_bytes_max = item_bytes_max;
    o.item_header_bytes_max = 21;
    auto r = check_linearizable(h_, o);
    REQUIRE(r.ok());
    if (r->counter_example) {
      // The window of a failure fails on its own.
      for (const Value& from : r->counter_example->initial_states) {
        o.initial = from;
        auto w = check_linearizable(r->counter_example->window, o);
        REQUIRE(w.ok());
        REQUIRE(w->verdict == Verdict::not_linearizable);
      }
    }
    return r->verdict;
  }

 private:
  History h_;
  std::int64_t next_ = 0;
};

Value map(Fields fields) {
  return Value::map(std::move(fields));
}
Value text(std::string_view s) {
  return Value::of(std::string(s));
}
Value hit(std::string_view v, std::int64_t flags, std::string_view unique = "") {
  Fields f{{"value", text(v)}, {"flags", Value::of(flags)}};
  if (!unique.empty()) f.emplace_back("unique", text(unique));
  return map(std::move(f));
}
Value cas_args(std::string_view v, std::string_view unique) {
  return map({{"value", text(v)}, {"unique", text(unique)}});
}

}  // namespace

TEST_CASE(
    "linearizability: kv: a cas with the unique a gets showed stores only while nothing "
    "changed",
    "[unit]") {
  Ops ok;
  ok.op("set", "a", text("1"), 0, 10, text("STORED"))
      .op("gets", "a", kNull, 20, 30, hit("1", 0, "7"))
      .op("cas", "a", cas_args("2", "7"), 40, 50, text("STORED"))
      .op("get", "a", kNull, 60, 70, text("2"));
  REQUIRE(ok.check() == Verdict::linearizable);
  Ops changed;  // a set between the gets and the cas: the cas must find another unique
  changed.op("set", "a", text("1"), 0, 10, text("STORED"))
      .op("gets", "a", kNull, 20, 30, hit("1", 0, "7"))
      .op("set", "a", text("3"), 32, 38, text("STORED"))
      .op("cas", "a", cas_args("2", "7"), 40, 50, text("STORED"));
  REQUIRE(changed.check() == Verdict::not_linearizable);
  Ops right;
  right.op("set", "a", text("1"), 0, 10, text("STORED"))
      .op("gets", "a", kNull, 20, 30, hit("1", 0, "7"))
      .op("set", "a", text("3"), 32, 38, text("STORED"))
      .op("cas", "a", cas_args("2", "7"), 40, 50, text("EXISTS"))
      .op("gets", "a", kNull, 60, 70, hit("3", 0, "9"));
  REQUIRE(right.check() == Verdict::linearizable);
  Ops unchanged;  // nothing changed, yet EXISTS
  unchanged.op("set", "a", text("1"), 0, 10, text("STORED"))
      .op("gets", "a", kNull, 20, 30, hit("1", 0, "7"))
      .op("cas", "a", cas_args("2", "7"), 40, 50, text("EXISTS"));
  REQUIRE(unchanged.check() == Verdict::not_linearizable);
}

TEST_CASE("linearizability: kv: uniques only grow, and a restart starts them again", "[unit]") {
  Ops h;
  h.op("set", "a", text("1"), 0, 10, text("STORED"))
      .op("gets", "a", kNull, 20, 30, hit("1", 0, "7"))
      .op("set", "a", text("2"), 40, 50, text("STORED"))
      .op("gets", "a", kNull, 60, 70, hit("2", 0, "5"));  // a later item, a smaller unique
  REQUIRE(h.check() == Verdict::not_linearizable);
  Ops restarted;
  restarted.op("set", "a", text("1"), 0, 10, text("STORED"))
      .op("gets", "a", kNull, 20, 30, hit("1", 0, "7"))
      .op("restart", "", kNull, 35, 35)
      .op("set", "a", text("2"), 40, 50, text("STORED"))
      .op("gets", "a", kNull, 60, 70, hit("2", 0, "1"));
  REQUIRE(restarted.check() == Verdict::linearizable);
}

TEST_CASE(
    "linearizability: kv: incr wraps at 2^64, decr stops at 0, and a value that is not "
    "a number is refused",
    "[unit]") {
  Ops h;
  h.op("set", "n", text("18446744073709551615"), 0, 10, text("STORED"))
      .op("incr", "n", text("2"), 20, 30, text("1"))
      .op("decr", "n", Value::of(5), 40, 50, text("0"))
      .op("set", "n", text("0042"), 60, 70, text("STORED"))
      .op("incr", "n", Value::of(1), 80, 90, text("43"))
      .op("get", "n", kNull, 100, 110, text("43"))
      .op("set", "n", text("99999999999999999999"), 120, 130, text("STORED"))
      .op("incr", "n", Value::of(1), 140, 150, text("NON_NUMERIC"))
      .op("incr", "m", Value::of(1), 160, 170, text("NOT_FOUND"));
  REQUIRE(h.check() == Verdict::linearizable);
  Ops no_wrap;
  no_wrap.op("set", "n", text("18446744073709551615"), 0, 10, text("STORED"))
      .op("incr", "n", text("2"), 20, 30, text("18446744073709551615"));  // saturated
  REQUIRE(no_wrap.check() == Verdict::not_linearizable);
  Ops below_zero;
  below_zero.op("set", "n", text("3"), 0, 10, text("STORED"))
      .op("decr", "n", text("5"), 20, 30, text("18446744073709551614"));
  REQUIRE(below_zero.check() == Verdict::not_linearizable);
}

TEST_CASE("linearizability: kv: flags are part of the item, and append keeps them", "[unit]") {
  Ops h;
  h.op("set", "a", map({{"value", text("x")}, {"flags", Value::of(7)}}), 0, 10, text("STORED"))
      .op("append", "a", map({{"value", text("y")}, {"flags", Value::of(9)}}), 20, 30,
          text("STORED"))
      .op("get", "a", kNull, 40, 50, hit("xy", 7));
  REQUIRE(h.check() == Verdict::linearizable);
  Ops wrong;
  wrong.op("set", "a", map({{"value", text("x")}, {"flags", Value::of(7)}}), 0, 10, text("STORED"))
      .op("get", "a", kNull, 40, 50, hit("x", 0));
  REQUIRE(wrong.check() == Verdict::not_linearizable);
}

TEST_CASE(
    "linearizability: kv: an item with a ttl may vanish only within its window, and "
    "must be gone after it",
    "[unit]") {
  const Value ttl2 = map({{"value", text("v")}, {"ttl_s", Value::of(2)}});
  Ops early;  // gone after half a second of a 2 s ttl
  early.op("set", "a", ttl2, 0, 10 * kMs, text("STORED"))
      .op("get", "a", kNull, 500 * kMs, 510 * kMs, kNull);
  REQUIRE(early.check() == Verdict::not_linearizable);
  REQUIRE(early.check(kS) == Verdict::linearizable);  // a clock 1 s off may do that
  Ops late;                                           // still there 3 s later
  late.op("set", "a", ttl2, 0, 10 * kMs, text("STORED"))
      .op("get", "a", kNull, 3 * kS, 3 * kS + 10, text("v"));
  REQUIRE(late.check() == Verdict::not_linearizable);
  REQUIRE(late.check(kS) == Verdict::linearizable);
  Ops edge;  // the deadline is in whole seconds: between 1 and 2 s, either
  edge.op("set", "a", ttl2, 0, 10 * kMs, text("STORED"))
      .op("get", "a", kNull, 1500 * kMs, 1510 * kMs, kNull)
      .op("get", "a", kNull, 1600 * kMs, 1610 * kMs, text("v"));  // and gone stays gone
  REQUIRE(edge.check() == Verdict::not_linearizable);
  const Value absolute = map({{"value", text("v")}, {"expires_ns", Value::of(2 * kS)}});
  Ops at;
  at.op("set", "a", absolute, 0, 10, text("STORED"))
      .op("get", "a", kNull, 1900 * kMs, 1910 * kMs, text("v"))
      .op("get", "a", kNull, 2000 * kMs, 2010 * kMs, kNull);
  REQUIRE(at.check() == Verdict::linearizable);
  Ops past;  // a negative ttl stores nothing, and removes the old item
  past.op("set", "a", text("old"), 0, 10, text("STORED"))
      .op("set", "a", map({{"value", text("v")}, {"ttl_s", Value::of(-1)}}), 20, 30, text("STORED"))
      .op("get", "a", kNull, 40, 50, text("old"));
  REQUIRE(past.check() == Verdict::not_linearizable);
}

TEST_CASE("linearizability: kv: touch and gat move the deadline, and keep the unique", "[unit]") {
  const Value ttl1 = map({{"value", text("v")}, {"ttl_s", Value::of(1)}});
  Ops touched;
  touched.op("set", "a", ttl1, 0, 10 * kMs, text("STORED"))
      .op("touch", "a", map({{"ttl_s", Value::of(10)}}), 100 * kMs, 110 * kMs, text("TOUCHED"))
      .op("get", "a", kNull, 3 * kS, 3 * kS + 10, text("v"));
  REQUIRE(touched.check() == Verdict::linearizable);
  Ops not_touched;
  not_touched.op("set", "a", ttl1, 0, 10 * kMs, text("STORED"))
      .op("get", "a", kNull, 3 * kS, 3 * kS + 10, text("v"));
  REQUIRE(not_touched.check() == Verdict::not_linearizable);
  Ops gat;
  gat.op("set", "a", ttl1, 0, 10 * kMs, text("STORED"))
      .op("gats", "a", map({{"ttl_s", Value::of(10)}}), 100 * kMs, 110 * kMs, hit("v", 0, "3"))
      .op("cas", "a", cas_args("w", "3"), 3 * kS, 3 * kS + 10, text("STORED"));
  REQUIRE(gat.check() == Verdict::linearizable);
  Ops gat_miss;
  gat_miss.op("gat", "a", map({{"ttl_s", Value::of(10)}}), 0, 10, kNull)
      .op("touch", "a", kNull, 20, 30, text("TOUCHED"));
  REQUIRE(gat_miss.check() == Verdict::not_linearizable);
}

TEST_CASE("linearizability: kv: flush_all empties every key, a delayed one within its window",
          "[unit]") {
  Ops now;
  now.op("set", "a", text("1"), 0, 10, text("STORED"))
      .op("set", "b", text("2"), 0, 10, text("STORED"))
      .op("flush_all", "", kNull, 20, 30, text("OK"))
      .op("get", "b", kNull, 40, 50, text("2"));
  REQUIRE(now.check() == Verdict::not_linearizable);
  const Value delay = map({{"delay_s", Value::of(2)}});
  Ops later;
  later.op("set", "a", text("1"), 0, 10, text("STORED"))
      .op("flush_all", "", delay, 20, 30, text("OK"))
      .op("get", "a", kNull, 500 * kMs, 510 * kMs, text("1"))
      .op("get", "a", kNull, 2100 * kMs, 2110 * kMs, kNull)
      .op("set", "a", text("2"), 2200 * kMs, 2210 * kMs, text("STORED"))
      .op("get", "a", kNull, 5 * kS, 5 * kS + 10, text("2"));  // stored after the flush: stays
  REQUIRE(later.check() == Verdict::linearizable);
  Ops not_flushed;
  not_flushed.op("set", "a", text("1"), 0, 10, text("STORED"))
      .op("flush_all", "", delay, 20, 30, text("OK"))
      .op("get", "a", kNull, 4 * kS, 4 * kS + 10, text("1"));
  REQUIRE(not_flushed.check() == Verdict::not_linearizable);
}

TEST_CASE(
    "linearizability: kv: add, replace and prepend store only as the key's presence "
    "allows",
    "[unit]") {
  Ops h;
  h.op("add", "a", text("1"), 0, 10, text("STORED"))
      .op("add", "a", text("2"), 20, 30, text("NOT_STORED"))
      .op("replace", "a", text("3"), 40, 50, text("STORED"))
      .op("prepend", "a", text("0"), 60, 70, text("STORED"))
      .op("get", "a", kNull, 80, 90, text("03"))
      .op("replace", "b", text("x"), 100, 110, text("NOT_STORED"))
      .op("prepend", "b", text("x"), 120, 130, text("NOT_STORED"));
  REQUIRE(h.check() == Verdict::linearizable);
  Ops wrong;
  wrong.op("add", "a", text("1"), 0, 10, text("STORED"))
      .op("add", "a", text("2"), 20, 30, text("STORED"));
  REQUIRE(wrong.check() == Verdict::not_linearizable);
}

TEST_CASE(
    "linearizability: kv: a noreply request did what the state made it do, by the time a "
    "later reply came",
    "[unit]") {
  Ops h;
  h.op("append", "a", map({{"value", text("x")}, {"noreply", Value::of(1)}}), 0, 10, kNull)
      .op("get", "a", kNull, 20, 30, kNull)  // missing: the append stored nothing
      .op("set", "a", map({{"value", text("v")}, {"noreply", Value::of(1)}}), 40, 50, kNull)
      .op("get", "a", kNull, 60, 70, text("v"));
  REQUIRE(h.check() == Verdict::linearizable);
  Ops lost;  // acknowledged by a later reply, but gone
  lost.op("set", "a", map({{"value", text("v")}, {"noreply", Value::of(1)}}), 40, 50, kNull)
      .op("get", "a", kNull, 60, 70, kNull);
  REQUIRE(lost.check() == Verdict::not_linearizable);
}

TEST_CASE(
    "linearizability: kv: an item over the size limit is refused, and a refused set drops "
    "the old value",
    "[unit]") {
  const std::string big(100, 'L');
  Ops h;
  h.op("set", "a", text("old"), 0, 10, text("STORED"))
      .op("set", "a", text(big), 20, 30, text("TOO_LARGE"))
      .op("get", "a", kNull, 40, 50, kNull);
  REQUIRE(h.check(0, 64) == Verdict::linearizable);
  Ops kept;
  kept.op("set", "a", text("old"), 0, 10, text("STORED"))
      .op("set", "a", text(big), 20, 30, text("TOO_LARGE"))
      .op("get", "a", kNull, 40, 50, text("old"));
  REQUIRE(kept.check(0, 64) == Verdict::not_linearizable);
  Ops small;  // 1 + 5 + 21 bytes always fit in 64
  small.op("set", "a", text("small"), 0, 10, text("TOO_LARGE"));
  REQUIRE(small.check(0, 64) == Verdict::not_linearizable);
  Ops stored;
  stored.op("set", "a", text(big), 0, 10, text("STORED"));
  REQUIRE(stored.check(0, 64) == Verdict::not_linearizable);
}

TEST_CASE("linearizability: kv: a state with more than bytes reads back from its description",
          "[unit]") {
  States states;
  ModelState s;
  s.value = states.intern_value(text("v"));
  s.flags = 3;
  s.unique = 12;
  s.unique_floor = 9;
  s.expires_lo = 5;
  s.expires_hi = 7;
  s.flush_lo = 100;
  s.flush_hi = 200;
  const StateId id = states.intern(s);
  const Value shown = describe(ModelKind::kv, states, id);
  REQUIRE(shown.kind == Value::Kind::map);
  auto back = parse_state(ModelKind::kv, shown, states);
  REQUIRE(back.ok());
  REQUIRE(*back == id);
  REQUIRE(describe(ModelKind::kv, states, States::kNull).is_null());
}
