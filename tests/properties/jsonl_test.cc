// The JSONL reader: Jepsen's history shape, every split size, and errors
// that name the line.

#include "properties/history/jsonl.h"

#include <rapidcheck/catch.h>

#include <catch2/catch.hpp>

#include "runtime/random.h"
#include "tests/properties/generate.h"

using namespace doppel;
using namespace doppel::properties;

namespace {

// A Jepsen history's shape: extra fields, integer keys, a blank line, a
// nemesis line with an object value, a fail with a float in its error.
const std::string kJepsen =
    R"({"index": 0, "process": 0, "type": "invoke", "f": "write", "key": 3, "value": 1, )"
    R"("time": 1000}
{"process": 1, "type": "invoke", "f": "cas", "key": "3", "value": [1, 2], "time": 1500}
{"index": 2, "process": 0, "type": "ok", "f": "write", "key": 3, "value": 1, "time": 2000}

{"process": "nemesis", "type": "info", "f": "start-partition", )"
    R"("value": {"n1": ["n2", "n3"]}, "time": 2100}
{"process": 1, "type": "fail", "f": "cas", "value": [1, 2], "time": 3000, )"
    R"("error": ["did-not-match", 1.5e3]}
{"process": 2, "type": "invoke", "f": "read", "time": 3100}
{"process": 2, "type": "info", "f": "read", "time": 9000}
)";
std::string error_of(std::string_view text) {
  auto h = parse_jsonl(text, "h.jsonl");
  REQUIRE_FALSE(h.ok());
  return h.error().what;
}

std::string line(std::string_view fields) {
  return "{" + std::string(fields) + "}\n";
}

}  // namespace

TEST_CASE(
    "jsonl: a Jepsen history parses with its fields, skipping nemesis lines and unknown fields",
    "[unit]") {
  auto h = parse_jsonl(kJepsen, "h.jsonl");
  REQUIRE(h.ok());
  REQUIRE(h->size() == 6);
  const Operation& w = h->records()[0];
  REQUIRE(w.process == 0);
  REQUIRE(w.type == OpType::invoke);
  REQUIRE(w.f == "write");
  REQUIRE(w.key == "3");  // an integer key stands for its digits
  REQUIRE(w.value == Value::of(1));
  REQUIRE(w.time_ns == 1000);
  REQUIRE(w.line == 1);
  REQUIRE(h->records()[1].value == Value::pair(Value::of(1), Value::of(2)));
  REQUIRE(h->records()[3].type == OpType::fail);
  REQUIRE(h->records()[3].line == 6);
  REQUIRE(h->records()[4].key.empty());
  REQUIRE(h->records()[4].value.is_null());
  REQUIRE(h->partner(1) == 3);
}

TEST_CASE("jsonl: the reader gives the same history under every split size", "[unit]") {
  const auto whole = parse_jsonl(kJepsen, "h.jsonl");
  REQUIRE(whole.ok());
  const std::string text = kJepsen;
  for (const std::size_t split : {100000, 1000, 100, 10, 5, 2, 1}) {
    JsonlReader reader("h.jsonl");
    for (std::size_t at = 0; at < text.size(); at += split) {
      REQUIRE(reader.feed(std::string_view(text).substr(at, split)).ok());
    }
    auto h = reader.finish();
    REQUIRE(h.ok());
    REQUIRE(*h == *whole);
    for (std::size_t i = 0; i < h->size(); ++i)
      REQUIRE(h->records()[i].line == whole->records()[i].line);
  }
}

TEST_CASE(
    "jsonl: strings decode escapes and \\u sequences to UTF-8, and the last line needs no newline",
    "[unit]") {
  auto h = parse_jsonl(R"({"process": 1, "type": "invoke", "f": "set", "key": "k\u00e9", )"
                       R"("value": "a\"\\\/\b\f\n\r\t\u20ac\ud83d\ude00", "time": 0})",
                       "h.jsonl");
  REQUIRE(h.ok());
  REQUIRE(h->records()[0].key == "k\xc3\xa9");
  REQUIRE(h->records()[0].value.text == "a\"\\/\b\f\n\r\t\xe2\x82\xac\xf0\x9f\x98\x80");
}

TEST_CASE("jsonl: malformed lines are rejected naming the line and what is wrong", "[unit]") {
  const std::string ok =
      line(R"("process": 1, "type": "invoke", "f": "get", "key": "k", "time": 1)");
  struct Case {
    std::string text;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"[1, 2]\n", "h.jsonl:1: column 1: expected '{'"},
      {ok + "{\"process\": 1 \"type\": \"ok\"}\n", "h.jsonl:2: column 15: expected ',' or '}'"},
      {ok + ok, "h.jsonl:2: an invoke of process 1"},
      {line(R"("process": 1, "type": "ok", "f": "get", "time": 1)"),
       "h.jsonl:1: an ok of process 1, which has no invocation pending"},
      {line(R"("process": 1.5, "type": "invoke", "f": "get", "time": 1)"),
       "h.jsonl:1: column 13: 'process': expected an integer"},
      {line(R"("process": 1, "type": "done", "f": "get", "time": 1)"),
       "'type': expected \"invoke\""},
      {line(R"("process": 1, "type": "invoke", "f": 7, "time": 1)"), "'f': expected a string"},
      {line(R"("process": 1, "type": "invoke", "f": "get", "time": -1)"),
       "'time': expected an integer number of nanoseconds"},
      {line(R"("process": 1, "type": "invoke", "f": "get")"), "h.jsonl:1: 'time' is missing"},
      {line(R"("process": 1, "type": "invoke", "f": "cas", "value": [1, 2, 3], "time": 1)"),
       "a value array has exactly 2 elements"},
      {line(R"("process": 1, "type": "invoke", "f": "cas", "value": [[1], 2], "time": 1)"),
       "inside [a, b]"},
      {line(R"("process": 1, "type": "invoke", "f": "set", "value": true, "time": 1)"),
       "expected null, an integer, a string, [a, b] or {...}"},
      {line(R"("process": 1, "type": "invoke", "f": "set", "value": {"a": 1, "a": 2}, "time": 1)"),
       "'a' appears twice in a value"},
      {line(R"("process": 1, "type": "invoke", "f": "set", "value": {"a": [1, 2]}, "time": 1)"),
       "inside [a, b] or {...}"},
      {line(R"("process": 1, "type": "invoke", "f": "set", "value": {}, "time": 1)"),
       "an empty object as a value"},
      {line(R"("process": 1, "type": "invoke", "f": "set", "value": 2.5, "time": 1)"),
       "expected an integer, not a fraction"},
      {line(R"("process": 1, "type": "invoke", "f": "set", )"
            R"("value": 9223372036854775808, "time": 1)"),
       "out of the 64-bit range"},
      {line(R"("process": 1, "type": "invoke", "f": "set", "value": "abc, "time": 1)"),
       "expected ',' or '}'"},
      {line(R"("process": 1, "type": "invoke", "f": "set", "value": "a\qb", "time": 1)"),
       "unknown escape"},
      {line(R"("process": 1, "type": "invoke", "f": "set", "value": "\ud800", "time": 1)"),
       "high surrogate"},
      {line(R"("process": 1, "process": 2, "type": "invoke", "f": "get", "time": 1)"),
       "'process' appears twice"},
      {line(R"("process": 1, "type": "invoke", "f": "get", "time": 1} x)"),
       "column 57: trailing bytes"},
      {line(R"("process": 1, "x": [[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]], )"
            R"("type": "invoke", "f": "get", "time": 1)"),
       "nested too deep"},
      {ok + "{\"process\": 2, \"type\": \"invoke\", \"f\": \"get\", \"value\": \"tab\there\", "
            "\"time\": 1}\n",
       "h.jsonl:2: column 59: a control byte in a string"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    REQUIRE_THAT(error_of(c.text), Catch::Contains(c.expected));
  }
}

TEST_CASE("jsonl: a line over the length limit and a history over the record limit are rejected",
          "[unit]") {
  JsonlLimits limits;
  limits.line_bytes_max = 100;
  const std::string ok =
      line(R"("process": 1, "type": "invoke", "f": "get", "key": "k", "time": 1)");
  const std::string long_line = line(R"("process": 2, "type": "invoke", "f": "set", "value": ")" +
                                     std::string(100, 'x') + R"(", "time": 1)");
  for (const std::size_t split : {100000, 7, 1}) {
    JsonlReader reader("h.jsonl", limits);
    const std::string text = ok + long_line;
    Status s;
    for (std::size_t at = 0; at < text.size() && s.ok(); at += split) {
      s = reader.feed(std::string_view(text).substr(at, split));
    }
    REQUIRE_FALSE(s.ok());
    REQUIRE_THAT(s.error().what, Catch::Contains("h.jsonl:2: longer than the limit of 100 bytes"));
    REQUIRE_FALSE(reader.finish().ok());
  }
  limits = JsonlLimits{};
  limits.records_max = 2;
  auto h = parse_jsonl(ok + line(R"("process": 1, "type": "ok", "f": "get", "time": 2)") + ok,
                       "h.jsonl", limits);
  REQUIRE_FALSE(h.ok());
  REQUIRE_THAT(h.error().what, Catch::Contains("h.jsonl:3: over the limit of 2 records"));
}

TEST_CASE("jsonl: a missing file is an error naming it", "[unit]") {
  auto h = read_jsonl_file("/nonexistent/history.jsonl");
  REQUIRE_FALSE(h.ok());
  REQUIRE(h.code() == Errc::not_found);
  REQUIRE_THAT(h.error().what, Catch::Contains("/nonexistent/history.jsonl"));
}

TEST_CASE("jsonl: a written history reads back the same", "[prop]") {
  rc::prop("parse(to_jsonl(h)) == h", [](std::uint64_t seed, bool kv) {
    testing::GenerateOptions o;
    o.seed = seed;
    o.model = kv ? linearizability::ModelKind::kv : linearizability::ModelKind::cas_register;
    o.operations = 50;
    const History h = testing::generate(o).history;
    auto back = parse_jsonl(to_jsonl(h), "h.jsonl");
    RC_ASSERT(back.ok());
    RC_ASSERT(*back == h);
  });
}

TEST_CASE("jsonl: a corrupted history is read or rejected naming a line, never a crash", "[prop]") {
  rc::prop("mutated bytes", [](std::uint64_t seed) {
    testing::GenerateOptions o;
    o.seed = seed;
    o.operations = 20;
    std::string text = to_jsonl(testing::generate(o).history);
    Prng rng(seed);
    const std::string alphabet = "{}[]\":,\\ \n0-9eE.ntrufalse\x01\xff";
    for (int i = 0, n = static_cast<int>(rng.between(1, 4)); i < n; ++i) {
      text[rng.below(text.size())] = alphabet[rng.below(alphabet.size())];
    }
    auto h = parse_jsonl(text, "h.jsonl");
    if (!h.ok()) RC_ASSERT(h.error().what.rfind("h.jsonl:", 0) == 0);
  });
}
