// base/toml.h: every reader of a field, its fallback, its bounds, and errors that name the
// file, the line and the key; the first error kept; unknown keys refused.

#include "base/toml.h"

#include <catch2/catch.hpp>
#include <functional>
#include <string>
#include <vector>

using namespace doppel;
using namespace std::chrono_literals;

namespace {

toml::table table_of(std::string_view text) {
  auto t = parse_toml(text, "node.toml");
  INFO(text);
  REQUIRE(t.ok());
  return std::move(*t);
}

}  // namespace

TEST_CASE("toml: a syntax error names the file and the line", "[unit]") {
  auto t = parse_toml("a = 1\nb = = 2\n", "node.toml");
  REQUIRE_FALSE(t.ok());
  REQUIRE(t.code() == Errc::invalid_argument);
  REQUIRE_THAT(t.error().what, Catch::StartsWith("node.toml:2: "));
}

TEST_CASE("toml: fields read their values, and their fallbacks when absent", "[unit]") {
  const toml::table t = table_of(R"(
count = 12
on = true
name = "n1"
mode = "fast"
wait_ms = 250
)");
  TomlFields f(t, "node.toml");
  REQUIRE(f.integer("count", 1, 100, 5) == 12);
  REQUIRE(f.integer("absent", 1, 100, 5) == 5);
  REQUIRE(f.boolean("on", false));
  REQUIRE_FALSE(f.boolean("off", false));
  REQUIRE(f.string("name", "x") == "n1");
  REQUIRE(f.string("nameless", "x") == "x");
  REQUIRE(f.choice("mode", {"slow", "fast"}, "slow") == "fast");
  REQUIRE(f.choice("other_mode", {"slow", "fast"}, "slow") == "slow");
  REQUIRE(f.ms("wait_ms", 1, 1000, 9ms) == 250ms);
  REQUIRE(f.ms("sleep_ms", 1, 1000, 9ms) == 9ms);
  REQUIRE(f.has("count"));
  REQUIRE_FALSE(f.has("absent"));
  f.reject_unknown_keys();
  REQUIRE(f.ok());
}

TEST_CASE("toml: a value out of range or of the wrong type names file:line:'key'", "[unit]") {
  const toml::table t = table_of(
      "a = 1\nmemory_mb = 0\nflag = 3\nname = 4\nmode = \"odd\"\n"
      "wait_ms = 5000\nratio = 1.5\n");
  struct Case {
    std::function<void(TomlFields&)> read;
    std::string message;
  };
  const std::vector<Case> cases = {
      {[](TomlFields& f) { (void)f.integer("memory_mb", 1, 1048576, 64); },
       "node.toml:2: 'memory_mb': must be between 1 and 1048576, got 0"},
      {[](TomlFields& f) { (void)f.integer("ratio", 0, 10, 1); },
       "node.toml:7: 'ratio': expected an integer"},
      {[](TomlFields& f) { (void)f.boolean("flag", false); },
       "node.toml:3: 'flag': expected true or false"},
      {[](TomlFields& f) { (void)f.string("name", ""); }, "node.toml:4: 'name': expected a string"},
      {[](TomlFields& f) {
         (void)f.choice("mode", {"fast", "slow"}, "fast");
       },
       "node.toml:5: 'mode': expected one of \"fast\", \"slow\", got \"odd\""},
      {[](TomlFields& f) { (void)f.choice("name", {"fast"}, "fast"); },
       "node.toml:4: 'name': expected a string"},
      {[](TomlFields& f) { (void)f.ms("wait_ms", 1, 1000, 10ms); },
       "node.toml:6: 'wait_ms': must be between 1 and 1000, got 5000"},
  };
  for (const Case& c : cases) {
    TomlFields f(t, "node.toml");
    c.read(f);
    REQUIRE_FALSE(f.ok());
    REQUIRE(f.error().code == Errc::invalid_argument);
    REQUIRE(f.error().what == c.message);
  }
}

TEST_CASE("toml: a field in error reads as its fallback, and the first error is kept", "[unit]") {
  const toml::table t = table_of("a = 0\nb = \"x\"\nc = 3\n");
  TomlFields f(t, "node.toml");
  REQUIRE(f.integer("a", 1, 9, 4) == 4);
  REQUIRE(f.boolean("b", true));
  REQUIRE(f.integer("c", 1, 9, 4) == 3);  // later fields still read
  REQUIRE_FALSE(f.ok());
  REQUIRE_THAT(f.error().what, Catch::StartsWith("node.toml:1: 'a': "));
  f.fail("c", "another problem");
  REQUIRE_THAT(f.error().what, Catch::StartsWith("node.toml:1: 'a': "));
}

TEST_CASE("toml: reject_unknown_keys names the first key no field asked for, and its line",
          "[unit]") {
  const toml::table t = table_of("alpha = 1\nbeta = 2\ntypo = 3\n");
  TomlFields f(t, "node.toml");
  (void)f.integer("alpha", 0, 9, 0);
  (void)f.integer("beta", 0, 9, 0);
  (void)f.integer("gamma", 0, 9, 0);  // asked, absent: allowed
  f.reject_unknown_keys();
  REQUIRE_FALSE(f.ok());
  REQUIRE(f.error().what ==
          "node.toml:3: 'typo': unknown key (expected one of: alpha, beta, gamma)");
  // After an earlier error the earlier one stands.
  TomlFields g(t, "node.toml");
  (void)g.integer("alpha", 5, 9, 5);
  g.reject_unknown_keys();
  REQUIRE_THAT(g.error().what, Catch::StartsWith("node.toml:1: 'alpha': must be between"));
}

TEST_CASE("toml: known_keys refuses a key outside its list, naming the list", "[unit]") {
  const toml::table t = table_of("a = 1\n\nzz = 2\n");
  TomlFields f(t, "node.toml");
  f.known_keys({"a", "b"});
  REQUIRE_FALSE(f.ok());
  REQUIRE(f.error().what == "node.toml:3: 'zz': unknown key (expected one of: a, b)");
  REQUIRE(toml_known_keys(t, "node.toml", {"a", "zz"}).ok());
}

TEST_CASE("toml: fail() names the key at its line, or without a line when it is absent", "[unit]") {
  const toml::table t = table_of("\n\nsegment_kb = 48\n");
  TomlFields f(t, "node.toml");
  f.fail("segment_kb", "must be a power of two");
  REQUIRE(f.error().what == "node.toml:3: 'segment_kb': must be a power of two");
  TomlFields g(t, "node.toml");
  g.fail("peers", "missing");
  REQUIRE(g.error().what == "node.toml: 'peers': missing");
}

TEST_CASE("toml: ms reads whole milliseconds as a Duration within its bounds", "[unit]") {
  const toml::table t = table_of("a_ms = 1\nb_ms = 3600000\nc_ms = 0\n");
  REQUIRE(*toml_ms(t, "a_ms", "s", 1, 3600000, 5ms) == 1ms);
  REQUIRE(*toml_ms(t, "b_ms", "s", 1, 3600000, 5ms) == 1h);
  REQUIRE_FALSE(toml_ms(t, "c_ms", "s", 1, 3600000, 5ms).ok());
  REQUIRE(*toml_ms(t, "d_ms", "s", 1, 3600000, 5ms) == 5ms);
}

TEST_CASE("toml: a required string that is missing is an error naming it", "[unit]") {
  const toml::table t = table_of("x = \"y\"\n");
  REQUIRE(*toml_string(t, "x", "s", true) == "y");
  REQUIRE(*toml_string(t, "absent", "s") == "");
  auto missing = toml_string(t, "absent", "s", true);
  REQUIRE_FALSE(missing.ok());
  REQUIRE(missing.error().what == "s: 'absent': missing");
  REQUIRE(toml_error("s", nullptr, "", "what").what == "s: what");
}
