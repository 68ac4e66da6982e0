// base/json.h: every kind of value, whole and non-whole numbers at and past the 64-bit edges,
// escapes and surrogate pairs, every limit, errors that name the byte, a writer -> reader round
// trip, and mutated documents that are read or refused, never a crash.

#include "base/json.h"

#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <variant>
#include <vector>

using namespace doppel;
using Kind = JsonValue::Kind;

namespace {

JsonValue parsed(std::string_view text, const JsonLimits& limits = {}) {
  auto v = JsonValue::parse(text, limits);
  INFO(text << " -> " << (v ? std::string("ok") : v.error().what));
  REQUIRE(v.ok());
  return std::move(*v);
}

// The error's message, checking that it names the offset `error_at` received.
std::string refused(std::string_view text, const JsonLimits& limits = {},
                    std::size_t* at_out = nullptr) {
  std::size_t at = SIZE_MAX;
  auto v = JsonValue::parse(text, limits, &at);
  INFO(text);
  REQUIRE_FALSE(v.ok());
  REQUIRE(v.code() == Errc::protocol);
  REQUIRE(at <= text.size());
  REQUIRE_THAT(v.error().what, Catch::StartsWith("json at byte " + std::to_string(at) + ": "));
  if (at_out != nullptr) *at_out = at;
  return v.error().what;
}

std::string nested_arrays(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

}  // namespace

TEST_CASE("json: null, booleans, strings, arrays and objects read as their kinds", "[unit]") {
  REQUIRE(parsed("null").is(Kind::null));
  REQUIRE(parsed(" true ").flag());
  REQUIRE(parsed("\tfalse\r\n").is(Kind::boolean));
  REQUIRE_FALSE(parsed("false").flag());
  REQUIRE(parsed(R"("abc")").text() == "abc");
  const JsonValue a = parsed(R"([1, "two", [], {}, null])");
  REQUIRE(a.is(Kind::array));
  REQUIRE(a.items().size() == 5);
  REQUIRE(a.items()[1].text() == "two");
  REQUIRE(a.items()[2].is(Kind::array));
  REQUIRE(a.items()[3].is(Kind::object));
  REQUIRE(a.items()[4].is(Kind::null));
  const JsonValue o = parsed(R"({"b": 1, "a": {"x": true}, "b": 2})");
  REQUIRE(o.members().size() == 3);
  REQUIRE(o.members()[0].first == "b");  // document order, duplicates kept
  REQUIRE(o.get("b")->number() == 1);    // get() finds the first
  REQUIRE(o.get("a")->get("x")->flag());
  REQUIRE(o.get("missing") == nullptr);
  REQUIRE(a.get("b") == nullptr);  // not an object
}

TEST_CASE("json: typed members answer their value or an error naming the member", "[unit]") {
  const JsonValue o = parsed(R"({"n": 7, "neg": -7, "f": true, "s": "x", "a": [], "o": {}})");
  REQUIRE(*o.u64("n") == 7);
  REQUIRE(*o.i64("neg") == -7);
  REQUIRE(*o.boolean("f"));
  REQUIRE(*o.string("s") == "x");
  REQUIRE((*o.array("a"))->is(Kind::array));
  REQUIRE((*o.object("o"))->is(Kind::object));
  const auto wrong = {o.u64("neg").ok(),   o.u64("s").ok(),    o.u64("missing").ok(),
                      o.boolean("n").ok(), o.string("n").ok(), o.array("o").ok(),
                      o.object("a").ok()};
  for (const bool ok : wrong) REQUIRE_FALSE(ok);
  REQUIRE(o.u64("neg").code() == Errc::protocol);
  REQUIRE(o.u64("neg").error().what == "json: member \"neg\": expected a whole number");
  REQUIRE(o.string("n").error().what == "json: member \"n\": expected a string");
  REQUIRE(o.boolean("n").error().what == "json: member \"n\": expected true or false");
}

TEST_CASE("json: whole numbers within 64 bits are integers, signed or not, at both edges",
          "[unit]") {
  REQUIRE(*parsed("0").as_u64() == 0);
  REQUIRE(*parsed("-0").as_i64() == 0);
  REQUIRE(*parsed("-0").as_u64() == 0);  // -0 is the whole number 0
  const JsonValue max_u = parsed("18446744073709551615");
  REQUIRE(*max_u.as_u64() == UINT64_MAX);
  REQUIRE_FALSE(max_u.as_i64());  // above INT64_MAX
  const JsonValue max_i = parsed("9223372036854775807");
  REQUIRE(*max_i.as_i64() == INT64_MAX);
  REQUIRE(*max_i.as_u64() == static_cast<std::uint64_t>(INT64_MAX));
  const JsonValue min_i = parsed("-9223372036854775808");
  REQUIRE(*min_i.as_i64() == INT64_MIN);
  REQUIRE_FALSE(min_i.as_u64());  // negative
  REQUIRE(min_i.number() == 0);   // number(): 0 for anything not a whole non-negative
  REQUIRE(*parsed("-1").as_i64() == -1);
  REQUIRE(parsed("-1").text() == "-1");
}

TEST_CASE("json: fractions, exponents and integers past 64 bits are numbers that are not whole",
          "[unit]") {
  for (const char* text : {"18446744073709551616", "-9223372036854775809", "1.0", "1e3", "1E+3",
                           "-2.5e-7", "0.0", "123456789012345678901234567890"}) {
    INFO(text);
    const JsonValue v = parsed(text);
    REQUIRE(v.is(Kind::number));
    REQUIRE_FALSE(v.as_u64());
    REQUIRE_FALSE(v.as_i64());
    REQUIRE(v.text() == text);  // kept as written
    REQUIRE(v.number() == 0);
  }
  REQUIRE_FALSE(parsed(R"({"n": 1.5})").u64("n").ok());
}

TEST_CASE("json: numbers off RFC 8259's grammar are refused at the byte where they go wrong",
          "[unit]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"01", "json at byte 2: a leading zero"},
      {"-", "json at byte 1: expected a digit"},
      {"-a", "json at byte 1: expected a digit"},
      {"1.", "json at byte 2: expected a digit after '.'"},
      {"1.e5", "json at byte 2: expected a digit after '.'"},
      {"1e", "json at byte 2: expected a digit in the exponent"},
      {"1e+", "json at byte 3: expected a digit in the exponent"},
      {".5", "json at byte 0: expected a value"},
      {"+1", "json at byte 0: expected a value"},
      {"1 2", "json at byte 2: trailing bytes"},
  };
  for (const auto& [text, message] : cases) REQUIRE(refused(text) == message);
}

TEST_CASE("json: escapes and surrogate pairs decode to UTF-8; broken ones are refused", "[unit]") {
  REQUIRE(parsed(R"("a\"\\\/\b\f\n\r\t")").text() == "a\"\\/\b\f\n\r\t");
  REQUIRE(parsed(R"("\u0041\u00e9\u20ac")").text() == "A\xc3\xa9\xe2\x82\xac");
  REQUIRE(parsed(R"("\ud83d\ude00")").text() == "\xf0\x9f\x98\x80");  // U+1F600
  REQUIRE(parsed(R"("\uD800\uDC00")").text() == "\xf0\x90\x80\x80");  // U+10000, upper hex
  REQUIRE(parsed(R"("\udbff\udfff")").text() == "\xf4\x8f\xbf\xbf");  // U+10FFFF
  REQUIRE(parsed("\"\xff\xfe\"").text() == "\xff\xfe");               // other bytes pass unchecked
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"("\ude00")", "a lone low surrogate"},
      {R"("\ud83d")", "a high surrogate without its low half"},
      {R"("\ud83dx")", "a high surrogate without its low half"},
      {R"("\ud83d\u0041")", "a high surrogate without its low half"},
      {R"("\ud83d\ud83d")", "a high surrogate without its low half"},
      {R"("\u12g4")", "expected 4 hex digits after \\u"},
      {R"("\u12)", "expected 4 hex digits after \\u"},
      {R"("\q")", "json at byte 2: unknown escape in a string"},
      {"\"a\tb\"", "json at byte 2: a control byte in a string"},
      {"\"abc", "json at byte 4: unterminated string"},
      {"\"abc\\", "unterminated string"},
  };
  for (const auto& [text, message] : cases) {
    REQUIRE_THAT(refused(text), Catch::Contains(message));
  }
}

TEST_CASE("json: structure errors name the byte offset, also through error_at", "[unit]") {
  std::size_t at = 0;
  REQUIRE(refused(R"({"a" 1})", {}, &at) == "json at byte 5: expected ':'");
  REQUIRE(at == 5);
  REQUIRE(refused(R"({"a": 1 "b": 2})") == "json at byte 8: expected ',' or '}'");
  REQUIRE(refused("[1 2]") == "json at byte 3: expected ',' or ']'");
  REQUIRE(refused("{1: 2}") == "json at byte 1: expected a member name");
  REQUIRE(refused("[1,]") == "json at byte 3: expected a value");
  REQUIRE(refused("") == "json at byte 0: unexpected end");
  REQUIRE(refused("   ") == "json at byte 3: unexpected end");
  REQUIRE(refused("[") == "json at byte 1: unexpected end");
  REQUIRE(refused("tru") == "json at byte 0: expected a value");
  REQUIRE(refused("nul") == "json at byte 0: expected a value");
  REQUIRE(refused("{} {}") == "json at byte 3: trailing bytes");
  // error_at is left alone on success.
  at = 77;
  REQUIRE(JsonValue::parse("[]", {}, &at).ok());
  REQUIRE(at == 77);
}

TEST_CASE("json: nesting up to depth_max is read, one deeper is refused", "[unit]") {
  const JsonLimits defaults;
  REQUIRE(parsed(nested_arrays(defaults.depth_max)).is(Kind::array));
  REQUIRE(refused(nested_arrays(defaults.depth_max + 1)) ==
          "json at byte " + std::to_string(defaults.depth_max) + ": nested too deep");
  JsonLimits one;
  one.depth_max = 1;
  REQUIRE(parsed(R"({"a": [], "b": 1})", JsonLimits{2, 100, 100}).members().size() == 2);
  REQUIRE(parsed("[1, 2]", one).items().size() == 2);
  REQUIRE_THAT(refused("[[]]", one), Catch::EndsWith("nested too deep"));
  REQUIRE_THAT(refused(R"({"a": {}})", one), Catch::EndsWith("nested too deep"));
  // Far past the limit: refused at the limit, without recursing further.
  REQUIRE_THAT(refused(std::string(100000, '[')), Catch::EndsWith("nested too deep"));
}

TEST_CASE("json: values up to values_max are read, one more is refused", "[unit]") {
  JsonLimits limits;
  limits.values_max = 4;  // the array and its items all count
  REQUIRE(parsed("[1, 2, 3]", limits).items().size() == 3);
  REQUIRE_THAT(refused("[1, 2, 3, 4]", limits), Catch::EndsWith("too many values"));
  REQUIRE(parsed(R"({"a": 1, "b": 2, "c": 3})", limits).members().size() == 3);
  REQUIRE_THAT(refused(R"({"a": 1, "b": 2, "c": 3, "d": 4})", limits),
               Catch::EndsWith("too many values"));
  limits.values_max = 1;
  REQUIRE(parsed("7", limits).number() == 7);
  REQUIRE_THAT(refused("[7]", limits), Catch::EndsWith("too many values"));
}

TEST_CASE("json: strings and member names up to string_bytes_max are read, longer refused",
          "[unit]") {
  JsonLimits limits;
  limits.string_bytes_max = 8;
  const std::string eight(8, 'x');
  REQUIRE(parsed("\"" + eight + "\"", limits).text() == eight);
  REQUIRE_THAT(refused("\"" + eight + "y\"", limits), Catch::EndsWith("string too long"));
  REQUIRE(parsed("{\"" + eight + "\": 1}", limits).members()[0].first == eight);
  REQUIRE_THAT(refused("{\"" + eight + "y\": 1}", limits), Catch::EndsWith("string too long"));
  // Counted in decoded bytes: eight escapes of one byte each fit.
  REQUIRE(parsed(R"("\n\n\n\n\n\n\n\n")", limits).text() == std::string(8, '\n'));
  REQUIRE_THAT(refused(R"("1234567\u20ac")", limits), Catch::EndsWith("string too long"));
}

TEST_CASE("json: the writer quotes controls, closes what it opens and separates items", "[unit]") {
  JsonWriter w;
  w.begin_object()
      .field("s", "a\"b\\c\n\x01")
      .field("u", std::uint64_t{UINT64_MAX})
      .field("i", std::int64_t{INT64_MIN})
      .field("t", true)
      .key("n")
      .null()
      .key("a")
      .begin_array()
      .value(1)
      .begin_object()
      .end_object()
      .begin_array()
      .end_array()
      .end_array()
      .end_object();
  const std::string text = w.take();
  REQUIRE(text == R"({"s":"a\"b\\c\n\u0001","u":18446744073709551615,"i":-9223372036854775808,)"
                  R"("t":true,"n":null,"a":[1,{},[]]})");
  const JsonValue v = parsed(text);
  REQUIRE(*v.string("s") == "a\"b\\c\n\x01");
  REQUIRE(*v.u64("u") == UINT64_MAX);
  REQUIRE(*v.i64("i") == INT64_MIN);
  REQUIRE(json_quote("") == "\"\"");
  REQUIRE(json_quote("\b\f\n\r\t\x1f\x7f") == R"("\b\f\n\r\t\u001f)"
                                              "\x7f\"");
}

TEST_CASE("json: every value knows the byte where it starts", "[unit]") {
  const JsonValue v = parsed(R"(  {"a": [1,  "two"], "b":null})");
  REQUIRE(v.offset() == 2);
  REQUIRE(v.get("a")->offset() == 8);
  REQUIRE(v.get("a")->items()[0].offset() == 9);
  REQUIRE(v.get("a")->items()[1].offset() == 13);
  REQUIRE(v.get("b")->offset() == 25);
}

// --- the round trip property: a tree of values, written, reads back as the same tree

namespace {

struct Tree {
  Kind kind = Kind::null;
  bool flag = false;
  std::variant<std::uint64_t, std::int64_t> number;
  std::string text;
  std::vector<Tree> items;
  std::vector<std::pair<std::string, Tree>> members;
};

rc::Gen<std::string> gen_text() {
  // Any bytes but mostly printable ones; controls, quotes and backslashes among them.
  return rc::gen::container<std::string>(rc::gen::oneOf(
      rc::gen::inRange<char>(0x20, 0x7f), rc::gen::elementOf(std::string("\"\\\n\t\x01\x7f")),
      rc::gen::map(rc::gen::inRange(0x80, 0x100), [](int b) { return static_cast<char>(b); })));
}

rc::Gen<Tree> gen_leaf() {
  return rc::gen::weightedOneOf<Tree>({{1, rc::gen::just(Tree{})},
                                       {1, rc::gen::map(rc::gen::arbitrary<bool>(),
                                                        [](bool b) {
                                                          Tree t;
                                                          t.kind = Kind::boolean;
                                                          t.flag = b;
                                                          return t;
                                                        })},
                                       {2, rc::gen::map(rc::gen::arbitrary<std::uint64_t>(),
                                                        [](std::uint64_t n) {
                                                          Tree t;
                                                          t.kind = Kind::number;
                                                          t.number = n;
                                                          return t;
                                                        })},
                                       {2, rc::gen::map(rc::gen::arbitrary<std::int64_t>(),
                                                        [](std::int64_t n) {
                                                          Tree t;
                                                          t.kind = Kind::number;
                                                          t.number = n;
                                                          return t;
                                                        })},
                                       {2, rc::gen::map(gen_text(), [](std::string s) {
                                          Tree t;
                                          t.kind = Kind::string;
                                          t.text = std::move(s);
                                          return t;
                                        })}});
}

// Trees of at most `depth` nested arrays and objects of at most 6 entries each.
rc::Gen<Tree> gen_tree(int depth) {
  if (depth == 0) return gen_leaf();
  auto array = rc::gen::lazy([depth] {
    return rc::gen::map(
        rc::gen::resize(6, rc::gen::container<std::vector<Tree>>(gen_tree(depth - 1))),
        [](std::vector<Tree> items) {
          Tree t;
          t.kind = Kind::array;
          t.items = std::move(items);
          return t;
        });
  });
  auto object = rc::gen::lazy([depth] {
    return rc::gen::map(
        rc::gen::resize(6, rc::gen::container<std::vector<std::pair<std::string, Tree>>>(
                               rc::gen::pair(gen_text(), gen_tree(depth - 1)))),
        [](std::vector<std::pair<std::string, Tree>> members) {
          Tree t;
          t.kind = Kind::object;
          t.members = std::move(members);
          return t;
        });
  });
  return rc::gen::weightedOneOf<Tree>({{4, gen_leaf()}, {1, array}, {1, object}});
}

void write_tree(JsonWriter& w, const Tree& t) {
  switch (t.kind) {
    case Kind::null:
      w.null();
      break;
    case Kind::boolean:
      w.value(t.flag);
      break;
    case Kind::string:
      w.value(std::string_view(t.text));
      break;
    case Kind::number:
      std::visit([&](auto n) { w.value(n); }, t.number);
      break;
    case Kind::array:
      w.begin_array();
      for (const Tree& item : t.items) write_tree(w, item);
      w.end_array();
      break;
    case Kind::object:
      w.begin_object();
      for (const auto& [name, value] : t.members) {
        w.key(name);
        write_tree(w, value);
      }
      w.end_object();
      break;
  }
}

// What the reader must give back for the tree; the first difference, or "".
std::string difference(const Tree& t, const JsonValue& v) {
  if (v.kind() != t.kind) return "a different kind";
  switch (t.kind) {
    case Kind::null:
      return "";
    case Kind::boolean:
      return v.flag() == t.flag ? "" : "another flag";
    case Kind::string:
      return v.text() == t.text ? "" : "another string";
    case Kind::number:
      if (const auto* u = std::get_if<std::uint64_t>(&t.number)) {
        return v.as_u64() == *u ? "" : "another unsigned number: " + v.text();
      }
      return v.as_i64() == std::get<std::int64_t>(t.number) ? ""
                                                            : "another signed number: " + v.text();
    case Kind::array:
      if (v.items().size() != t.items.size()) return "another item count";
      for (std::size_t i = 0; i < t.items.size(); ++i) {
        if (auto d = difference(t.items[i], v.items()[i]); !d.empty()) return d;
      }
      return "";
    case Kind::object:
      if (v.members().size() != t.members.size()) return "another member count";
      for (std::size_t i = 0; i < t.members.size(); ++i) {
        if (v.members()[i].first != t.members[i].first) return "another member name";
        if (auto d = difference(t.members[i].second, v.members()[i].second); !d.empty()) return d;
      }
      return "";
  }
  return "an unknown kind";
}

// A document of every kind, for mutation.
std::string sample_document() {
  JsonWriter w;
  w.begin_object().field("name", "vm-a\x01\xc3\xa9").field("n", std::uint64_t{UINT64_MAX});
  w.field("neg", std::int64_t{-42}).field("ok", false).key("none").null();
  w.key("list").begin_array().value(1).value("two").begin_object().field("x", 3).end_object();
  w.begin_array().end_array().end_array().end_object();
  return w.take() + R"( {"extra": [1.5e3, -0.25, "\ud83d\ude00\u0041"]})";
}

}  // namespace

TEST_CASE("json: any written tree of values reads back as the same tree", "[prop]") {
  rc::prop("parse(write(t)) == t", [] {
    const Tree t = *gen_tree(4);
    JsonWriter w;
    write_tree(w, t);
    const std::string text = w.take();
    JsonLimits roomy;
    roomy.depth_max = 8;
    auto v = JsonValue::parse(text, roomy);
    RC_ASSERT(v.ok());
    RC_ASSERT(difference(t, *v) == "");
  });
}

TEST_CASE("json: mutated documents are read or refused naming a byte, never a crash", "[prop]") {
  const std::string whole = sample_document();
  // The sample is two documents; the first alone is valid.
  const std::string valid = whole.substr(0, whole.find(" {\"extra\""));
  REQUIRE(JsonValue::parse(valid).ok());
  rc::prop("mutated bytes", [&] {
    std::string text = *rc::gen::element(valid, whole);
    const std::string alphabet = "{}[]\":,\\ \t\n0123456789-+.eEtrufalsn\x01\x7f\x80\xff";
    const int edits = *rc::gen::inRange(1, 6);
    for (int i = 0; i < edits && !text.empty(); ++i) {
      const auto at = *rc::gen::inRange<std::size_t>(0, text.size());
      const char c = *rc::gen::elementOf(alphabet);
      switch (*rc::gen::inRange(0, 4)) {
        case 0:
          text[at] = c;
          break;
        case 1:
          text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), c);
          break;
        case 2:
          text.erase(at, 1);
          break;
        default:
          text.resize(at);
          break;  // truncated
      }
    }
    JsonLimits small;
    small.depth_max = *rc::gen::inRange<std::size_t>(1, 5);
    small.values_max = *rc::gen::inRange<std::size_t>(1, 40);
    small.string_bytes_max = *rc::gen::inRange<std::size_t>(0, 12);
    for (const JsonLimits& limits : {JsonLimits{}, small}) {
      std::size_t at = SIZE_MAX;
      auto v = JsonValue::parse(text, limits, &at);
      if (v.ok()) continue;
      RC_ASSERT(v.code() == Errc::protocol);
      RC_ASSERT(at <= text.size());
      RC_ASSERT(v.error().what.rfind("json at byte " + std::to_string(at) + ": ", 0) == 0);
    }
  });
}
