// The linearizability checker on known histories, for both models.

#include <catch2/catch.hpp>

#include "properties/history/jsonl.h"
#include "properties/linearizability/checker.h"
#include "tests/properties/generate.h"

using namespace doppel;
using namespace doppel::properties;
using namespace doppel::properties::linearizability;

namespace {

const Value kNull{};

// One operation: invoked at t0, completed with `type` and `result` at t1.
void op(History& h, std::int64_t process, std::string_view f, std::string_view key, Value in,
        std::int64_t t0, std::int64_t t1, Value result = {}, OpType type = OpType::ok) {
  h.invoke(process, f, key, std::move(in), t0);
  h.complete(process, type, std::move(result), t1);
}

CheckResult check(const History& h, ModelKind model = ModelKind::kv, Value initial = {}) {
  CheckOptions o;
  o.model = model;
  o.initial = std::move(initial);
  auto r = check_linearizable(h, o);
  REQUIRE(r.ok());
  return std::move(*r);
}

Verdict verdict(const History& h, ModelKind model = ModelKind::kv) {
  return check(h, model).verdict;
}

// The counter-example is a history that fails on its own, from each state it may start in.
void require_window_fails(const CounterExample& ce, ModelKind model) {
  REQUIRE_FALSE(ce.initial_states.empty());
  for (const Value& from : ce.initial_states) {
    REQUIRE(check(ce.window, model, from).verdict == Verdict::not_linearizable);
  }
}

History file(const std::string& name) {
  auto h = read_jsonl_file(std::string(DOPPEL_SOURCE_DIR) + "/tests/properties/histories/" + name);
  REQUIRE(h.ok());
  return std::move(*h);
}

}  // namespace

TEST_CASE("linearizability: kv: a get of what a completed set wrote is linearizable", "[unit]") {
  History h;
  op(h, 0, "set", "a", Value::of("1"), 0, 10, Value::of("1"));
  op(h, 1, "get", "a", kNull, 20, 30, Value::of("1"));
  op(h, 1, "get", "b", kNull, 40, 50, kNull);
  const CheckResult r = check(h);
  REQUIRE(r.verdict == Verdict::linearizable);
  REQUIRE(r.operations == 3);
  REQUIRE(r.keys == 2);
  REQUIRE_THAT(summarize(r, ModelKind::kv),
               Catch::StartsWith("linearizable: 3 operations on 2 keys"));
}

TEST_CASE(
    "linearizability: kv: a stale get after a completed set is not, and the window is that get",
    "[unit]") {
  History h;
  op(h, 0, "set", "a", Value::of("1"), 0, 10, Value::of("1"));
  op(h, 0, "set", "a", Value::of("2"), 20, 30, Value::of("2"));
  op(h, 1, "get", "a", kNull, 40, 50, Value::of("1"));
  const CheckResult r = check(h);
  REQUIRE(r.verdict == Verdict::not_linearizable);
  REQUIRE(r.failed_keys == std::vector<std::string>{"a"});
  REQUIRE(r.counter_example.has_value());
  const CounterExample& ce = *r.counter_example;
  REQUIRE(ce.key == "a");
  REQUIRE(ce.window.size() == 2);  // the get's invocation and completion
  REQUIRE(ce.window.records()[ce.culprit].f == "get");
  REQUIRE(ce.operations_before == 2);
  REQUIRE(ce.key_operations == 3);
  REQUIRE(ce.initial_states == std::vector<Value>{Value::of("2")});
  require_window_fails(ce, ModelKind::kv);
  const std::string text = format_counter_example(ce);
  REQUIRE_THAT(text, Catch::Contains("key \"a\": cannot linearize p1 get -> \"1\" [40 .. 50]"));
  REQUIRE_THAT(text, Catch::Contains("the 2 before it leave the key as \"2\""));
}

TEST_CASE("linearizability: kv: concurrent sets with gets seeing both orders are linearizable",
          "[unit]") {
  History h;
  op(h, 0, "set", "a", Value::of("x"), 0, 100, Value::of("x"));
  op(h, 1, "set", "a", Value::of("y"), 0, 100, Value::of("y"));
  op(h, 2, "get", "a", kNull, 10, 20, Value::of("x"));
  op(h, 2, "get", "a", kNull, 30, 40, Value::of("y"));
  REQUIRE(verdict(h) == Verdict::linearizable);
  History swapped;
  op(swapped, 0, "set", "a", Value::of("x"), 0, 100, Value::of("x"));
  op(swapped, 1, "set", "a", Value::of("y"), 0, 100, Value::of("y"));
  op(swapped, 2, "get", "a", kNull, 10, 20, Value::of("y"));
  op(swapped, 2, "get", "a", kNull, 30, 40, Value::of("x"));
  REQUIRE(verdict(swapped) == Verdict::linearizable);
  // But once a get saw y after x, x cannot come back.
  op(h, 3, "get", "a", kNull, 50, 60, Value::of("x"));
  REQUIRE(verdict(h) == Verdict::not_linearizable);
}

TEST_CASE("linearizability: kv: an info set may or may not have happened, at any time after it",
          "[unit]") {
  History h;
  op(h, 0, "set", "a", Value::of("v"), 0, 10, kNull, OpType::info);
  op(h, 1, "get", "a", kNull, 20, 30, kNull);
  REQUIRE(verdict(h) == Verdict::linearizable);
  op(h, 1, "get", "a", kNull, 1000, 1010, Value::of("v"));
  REQUIRE(verdict(h) == Verdict::linearizable);
  op(h, 1, "get", "a", kNull, 2000, 2010, kNull);  // once seen, it cannot un-happen
  REQUIRE(verdict(h) == Verdict::not_linearizable);
  History never_completed;
  never_completed.invoke(0, "set", "a", Value::of("v"), 0);
  op(never_completed, 1, "get", "a", kNull, 20, 30, Value::of("v"));
  REQUIRE(verdict(never_completed) == Verdict::linearizable);
}

TEST_CASE("linearizability: kv: a failed operation did not happen", "[unit]") {
  History h;
  op(h, 0, "set", "a", Value::of("v"), 0, 10, kNull, OpType::fail);
  op(h, 1, "get", "a", kNull, 20, 30, kNull);
  REQUIRE(verdict(h) == Verdict::linearizable);
  op(h, 1, "get", "a", kNull, 40, 50, Value::of("v"));
  REQUIRE(verdict(h) == Verdict::not_linearizable);
}

TEST_CASE("linearizability: kv: a lost append is not linearizable", "[unit]") {
  const CheckResult r = check(file("kv-lost-append-bad.jsonl"));
  REQUIRE(r.verdict == Verdict::not_linearizable);
  const CounterExample& ce = *r.counter_example;
  REQUIRE(ce.key == "log");
  REQUIRE(ce.window.records()[ce.culprit].line == 7);
  require_window_fails(ce, ModelKind::kv);
  History h;
  op(h, 0, "set", "log", Value::of("a"), 0, 10, Value::of("a"));
  op(h, 1, "append", "log", Value::of("b"), 20, 30, Value::of("STORED"));
  op(h, 2, "append", "log", Value::of("c"), 25, 35, Value::of("STORED"));
  op(h, 0, "get", "log", kNull, 40, 50, Value::of("acb"));
  REQUIRE(verdict(h) == Verdict::linearizable);
}

TEST_CASE("linearizability: kv: append answers NOT_STORED exactly when the key is missing",
          "[unit]") {
  History h;
  op(h, 0, "append", "a", Value::of("x"), 0, 10, Value::of("NOT_STORED"));
  op(h, 0, "get", "a", kNull, 20, 30, kNull);
  REQUIRE(verdict(h) == Verdict::linearizable);
  op(h, 0, "set", "a", Value::of(5), 40, 50, kNull);  // an integer is its digits
  op(h, 0, "append", "a", Value::of(6), 60, 70, Value::of("STORED"));
  op(h, 0, "get", "a", kNull, 80, 90, Value::of("56"));
  REQUIRE(verdict(h) == Verdict::linearizable);
  op(h, 0, "append", "a", Value::of("x"), 100, 110, Value::of("NOT_STORED"));
  REQUIRE(verdict(h) == Verdict::not_linearizable);
  History stored_on_missing;
  op(stored_on_missing, 0, "append", "a", Value::of("x"), 0, 10, Value::of("STORED"));
  REQUIRE(verdict(stored_on_missing) == Verdict::not_linearizable);
}

TEST_CASE("linearizability: kv: delete answers DELETED or NOT_FOUND by presence", "[unit]") {
  History h;
  op(h, 0, "delete", "a", kNull, 0, 10, Value::of("NOT_FOUND"));
  op(h, 0, "set", "a", Value::of("v"), 20, 30, kNull);
  op(h, 0, "delete", "a", kNull, 40, 50, Value::of("DELETED"));
  op(h, 0, "get", "a", kNull, 60, 70, kNull);
  REQUIRE(verdict(h) == Verdict::linearizable);
  op(h, 0, "delete", "a", kNull, 80, 90, Value::of("DELETED"));
  REQUIRE(verdict(h) == Verdict::not_linearizable);
}

TEST_CASE("linearizability: kv: an eviction empties its key", "[unit]") {
  History h;
  op(h, 0, "set", "a", Value::of("v"), 0, 10, kNull);
  op(h, 0, "set", "b", Value::of("w"), 0, 10, kNull);
  h.event(99, "evict", "a", 15);
  op(h, 1, "get", "a", kNull, 20, 30, kNull);
  op(h, 1, "get", "b", kNull, 40, 50, Value::of("w"));
  REQUIRE(verdict(h) == Verdict::linearizable);
  op(h, 1, "get", "b", kNull, 60, 70, kNull);  // nothing evicted b
  const CheckResult r = check(h);
  REQUIRE(r.verdict == Verdict::not_linearizable);
  REQUIRE(r.failed_keys == std::vector<std::string>{"b"});
}

TEST_CASE("linearizability: kv: a restart empties every key, though it names none", "[unit]") {
  History h;
  op(h, 0, "set", "a", Value::of("v"), 0, 10, kNull);
  op(h, 0, "set", "b", Value::of("w"), 0, 10, kNull);
  op(h, 99, "restart", "", kNull, 12, 18);
  op(h, 1, "get", "a", kNull, 20, 30, kNull);
  op(h, 1, "get", "b", kNull, 40, 50, kNull);
  REQUIRE(verdict(h) == Verdict::linearizable);
  const CheckResult r = check(file("kv-restart-bad.jsonl"));
  REQUIRE(r.verdict == Verdict::not_linearizable);
  REQUIRE(r.counter_example->key == "k");
  require_window_fails(*r.counter_example, ModelKind::kv);
  // The set and the restart are before the window: they leave the key empty.
  REQUIRE_THAT(format_counter_example(*r.counter_example),
               Catch::Contains("cannot linearize p1 get -> \"a\" [30 .. 40]  line 5") &&
                   Catch::Contains("the 2 before it leave the key as null"));
}

TEST_CASE("linearizability: cas-register: reads, writes and cas on one register", "[unit]") {
  History h;
  op(h, 0, "read", "", kNull, 0, 10, kNull);  // the register starts as null
  op(h, 0, "write", "", Value::of(1), 20, 30, kNull);
  op(h, 1, "cas", "", Value::pair(Value::of(1), Value::of(2)), 40, 50, kNull);
  op(h, 2, "cas", "", Value::pair(Value::of(1), Value::of(3)), 60, 70, kNull, OpType::fail);
  op(h, 0, "read", "", kNull, 80, 90, Value::of(2));
  REQUIRE(verdict(h, ModelKind::cas_register) == Verdict::linearizable);
  History h2;
  op(h2, 0, "write", "", Value::of(1), 20, 30, kNull);
  op(h2, 1, "cas", "", Value::pair(Value::of(2), Value::of(3)), 40, 50, kNull);  // found 1, not 2
  REQUIRE(verdict(h2, ModelKind::cas_register) == Verdict::not_linearizable);
  History strings;  // scalars compare exactly: 1 is not "1"
  op(strings, 0, "write", "", Value::of(1), 20, 30, kNull);
  op(strings, 0, "read", "", kNull, 40, 50, Value::of("1"));
  REQUIRE(verdict(strings, ModelKind::cas_register) == Verdict::not_linearizable);
}

TEST_CASE("linearizability: the example histories give their expected verdicts", "[unit]") {
  struct Case {
    const char* name;
    ModelKind model;
    Verdict expected;
  };
  for (const Case& c :
       {Case{"kv-ok.jsonl", ModelKind::kv, Verdict::linearizable},
        Case{"kv-stale-read-bad.jsonl", ModelKind::kv, Verdict::not_linearizable},
        Case{"kv-lost-append-bad.jsonl", ModelKind::kv, Verdict::not_linearizable},
        Case{"kv-restart-bad.jsonl", ModelKind::kv, Verdict::not_linearizable},
        Case{"cas-register-ok.jsonl", ModelKind::cas_register, Verdict::linearizable},
        Case{"cas-register-bad.jsonl", ModelKind::cas_register, Verdict::not_linearizable}}) {
    INFO(c.name);
    const CheckResult r = check(file(c.name), c.model);
    REQUIRE(r.verdict == c.expected);
    if (r.counter_example) require_window_fails(*r.counter_example, c.model);
  }
}

TEST_CASE(
    "linearizability: an f the model does not know, or a value of the wrong shape, is an error "
    "naming the line",
    "[unit]") {
  auto r = check_linearizable(file("cas-register-ok.jsonl"), CheckOptions{ModelKind::kv});
  REQUIRE_FALSE(r.ok());
  REQUIRE_THAT(r.error().what, Catch::Contains("line 1: f 'write' is not one of model kv's"));
  History h;
  op(h, 0, "set", "a", Value::pair(kNull, kNull), 0, 10);
  r = check_linearizable(h);
  REQUIRE_FALSE(r.ok());
  REQUIRE_THAT(r.error().what, Catch::Contains("record #0: 'set' with value [null, null]"));
  History cas;
  op(cas, 0, "cas", "", Value::of(1), 0, 10);
  r = check_linearizable(cas, CheckOptions{ModelKind::cas_register});
  REQUIRE_THAT(r.error().what, Catch::Contains("needs [expected, new]"));
}

TEST_CASE("linearizability: a search past its step limit answers unknown, never a verdict",
          "[unit]") {
  testing::GenerateOptions g;
  g.seed = 3;
  g.keys = 1;
  g.operations = 300;
  const History h = testing::generate(g).history;
  CheckOptions o;
  o.steps_max = 50;
  auto r = check_linearizable(h, o);
  REQUIRE(r.ok());
  REQUIRE(r->verdict == Verdict::unknown);
  REQUIRE(r->unknown_keys == std::vector<std::string>{"k0"});
  REQUIRE_THAT(summarize(*r, ModelKind::kv),
               Catch::StartsWith("unknown (search limit): 1 of 1 keys"));
  o.steps_max = 10'000'000;
  REQUIRE(check_linearizable(h, o)->verdict == Verdict::linearizable);
}

TEST_CASE("linearizability: the window starts after the last quiescent point", "[unit]") {
  History h;
  for (int i = 0; i < 100; ++i) {
    op(h, i % 3, "set", "a", Value::of(std::to_string(i)), i * 10, i * 10 + 5, kNull);
  }
  op(h, 5, "get", "a", kNull, 2000, 2010, Value::of("42"));
  op(h, 6, "append", "a", Value::of("!"), 2005, 2100, Value::of("STORED"));  // completes later
  const CheckResult r = check(h);
  REQUIRE(r.verdict == Verdict::not_linearizable);
  const CounterExample& ce = *r.counter_example;
  REQUIRE(ce.operations_before == 100);
  REQUIRE(ce.initial_states == std::vector<Value>{Value::of("99")});
  REQUIRE(ce.window.size() == 4);  // the get, and the late append as an info
  REQUIRE(ce.unfinished.size() == 1);
  REQUIRE(ce.window.records()[ce.unfinished[0]].f == "append");
  REQUIRE(ce.window.records()[ce.window.partner(ce.unfinished[0])].type == OpType::info);
  require_window_fails(ce, ModelKind::kv);
  const std::string text = format_counter_example(ce);
  REQUIRE_THAT(text, Catch::Contains("[2005 .. after the failure point]"));
  REQUIRE_THAT(text, Catch::Contains("longest linearization found: 1 of them, from \"99\""));
  REQUIRE_THAT(text, Catch::Contains("p6 append \"!\"") && Catch::Contains("=> \"99!\""));
}

TEST_CASE("linearizability: a counter-example with several possible starting states lists them all",
          "[unit]") {
  History h;
  op(h, 0, "set", "a", Value::of("x"), 0, 10, kNull);
  op(h, 1, "set", "a", Value::of("y"), 0, 10, kNull);
  op(h, 2, "get", "a", kNull, 20, 30, Value::of("z"));
  const CheckResult r = check(h);
  const CounterExample& ce = *r.counter_example;
  REQUIRE(ce.initial_states == std::vector<Value>{Value::of("x"), Value::of("y")});
  require_window_fails(ce, ModelKind::kv);
  REQUIRE_THAT(format_counter_example(ce), Catch::Contains("leave the key as one of \"x\", \"y\""));
}
