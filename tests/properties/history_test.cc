// History records and the builder the simulator's clients call.

#include "properties/history/history.h"

#include <catch2/catch.hpp>

using namespace doppel;
using namespace doppel::properties;

TEST_CASE("history: the builder pairs each completion with its process's invocation", "[unit]") {
  History h;
  const std::size_t a = h.invoke(1, "set", "k", Value::of("v"), 10);
  const std::size_t b = h.invoke(2, "get", "k", Value{}, 11);
  h.complete(2, OpType::ok, Value::of("v"), 30);
  h.complete(1, OpType::ok, Value::of("v"), 40);
  REQUIRE(h.size() == 4);
  REQUIRE(h.partner(a) == 3);
  REQUIRE(h.partner(b) == 2);
  REQUIRE(h.partner(2) == b);
  REQUIRE(h.records()[2].f == "get");
  REQUIRE(h.records()[2].key == "k");
  REQUIRE_FALSE(h.pending(1).has_value());
}

TEST_CASE("history: an invocation never completed stays pending", "[unit]") {
  History h;
  const std::size_t a = h.invoke(7, "append", "k", Value::of("x"), 5);
  REQUIRE(h.pending(7) == a);
  REQUIRE(h.partner(a) == History::npos);
}

TEST_CASE("history: event records an invoke and an ok at the same instant", "[unit]") {
  History h;
  h.event(9, "restart", "", 100);
  REQUIRE(h.size() == 2);
  REQUIRE(h.records()[0].type == OpType::invoke);
  REQUIRE(h.records()[1].type == OpType::ok);
  REQUIRE(h.records()[1].time_ns == 100);
  REQUIRE(h.records()[1].f == "restart");
}

TEST_CASE(
    "history: append rejects completions of nothing, double invocations and time running backwards",
    "[unit]") {
  History h;
  Status s = h.append(Operation{1, OpType::ok, "get", "k", Value{}, 5});
  REQUIRE_FALSE(s.ok());
  REQUIRE_THAT(s.error().what, Catch::Contains("no invocation pending"));
  REQUIRE(h.append(Operation{1, OpType::invoke, "get", "k", Value{}, 5}).ok());
  s = h.append(Operation{1, OpType::invoke, "set", "k", Value::of(1), 6});
  REQUIRE_THAT(s.error().what, Catch::Contains("has not completed"));
  s = h.append(Operation{1, OpType::ok, "set", "k", Value{}, 6});
  REQUIRE_THAT(s.error().what, Catch::Contains("f 'set' completes"));
  s = h.append(Operation{1, OpType::ok, "get", "other", Value{}, 6});
  REQUIRE_THAT(s.error().what, Catch::Contains("key 'other'"));
  s = h.append(Operation{1, OpType::ok, "get", "k", Value{}, 4});
  REQUIRE_THAT(s.error().what, Catch::Contains("before its invocation"));
  REQUIRE(h.append(Operation{1, OpType::info, "get", "", Value{}, 5}).ok());
  REQUIRE(h.records()[1].key == "k");  // a completion may leave its key out
}

TEST_CASE("history: values order by kind then content and print as JSON", "[unit]") {
  REQUIRE(Value{} < Value::of(-5));
  REQUIRE(Value::of(7) < Value::of(""));
  REQUIRE(Value::of("a") < Value::of("b"));
  REQUIRE(Value::of("z") < Value::pair(Value{}, Value{}));
  REQUIRE(Value::pair(Value::of(1), Value::of(2)) < Value::pair(Value::of(1), Value::of(3)));
  REQUIRE(Value::of(1) != Value::of("1"));
  REQUIRE(to_json(Value{}) == "null");
  REQUIRE(to_json(Value::of(-12)) == "-12");
  REQUIRE(to_json(Value::of("a\"b\\c\n\x01")) == "\"a\\\"b\\\\c\\n\\u0001\"");
  REQUIRE(to_json(Value::pair(Value{}, Value::of("x"))) == "[null, \"x\"]");
}
