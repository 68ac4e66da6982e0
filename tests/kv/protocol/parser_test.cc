// The memcached text protocol parser: every command, whole and under every split size, alone and
// pipelined.

#include "components/kv/protocol/parser.h"

#include <catch2/catch.hpp>
#include <limits>
#include <string>
#include <vector>

#include "protocol_test_support.h"

using namespace doppel::kv;
using namespace doppel::kv::test;
using namespace std::string_literals;

namespace {

struct Case {
  std::string text;
  Request expected;
};

constexpr std::int64_t kInt64Min = std::numeric_limits<std::int64_t>::min();
constexpr std::uint64_t kUint64Max = std::numeric_limits<std::uint64_t>::max();

std::vector<Case> every_command() {
  const std::string key250(250, 'k');
  return {
      {"get a\r\n", {.verb = Verb::get, .keys = {"a"}}},
      {"get a bb ccc\r\n", {.verb = Verb::get, .keys = {"a", "bb", "ccc"}}},
      {"get " + key250 + "\r\n", {.verb = Verb::get, .keys = {key250}}},
      {"get \xc3\xa9t\xc3\xa9 ~!\r\n", {.verb = Verb::get, .keys = {"\xc3\xa9t\xc3\xa9", "~!"}}},
      {"gets a b\r\n", {.verb = Verb::gets, .keys = {"a", "b"}}},
      {"gat 100 a b\r\n", {.verb = Verb::gat, .keys = {"a", "b"}, .exptime = 100}},
      {"gats -1 a\r\n", {.verb = Verb::gats, .keys = {"a"}, .exptime = -1}},
      {"set k 1 2 5\r\nhello\r\n",
       {.verb = Verb::set, .keys = {"k"}, .flags = 1, .exptime = 2, .data = "hello"}},
      {"set k 4294967295 -9223372036854775808 0\r\n\r\n",
       {.verb = Verb::set, .keys = {"k"}, .flags = 4294967295u, .exptime = kInt64Min}},
      {"add k 0 0 3 noreply\r\nabc\r\n",
       {.verb = Verb::add, .keys = {"k"}, .data = "abc", .noreply = true}},
      {"replace k 0 0 4\r\na\r\nb\r\n", {.verb = Verb::replace, .keys = {"k"}, .data = "a\r\nb"}},
      {"append k 7 0 1\r\n\n\r\n", {.verb = Verb::append, .keys = {"k"}, .flags = 7, .data = "\n"}},
      {"prepend k 0 9 2\r\n\0\xff\r\n"s,
       {.verb = Verb::prepend, .keys = {"k"}, .exptime = 9, .data = "\0\xff"s}},
      {"cas k 3 4 2 18446744073709551615\r\nhi\r\n",
       {.verb = Verb::cas,
        .keys = {"k"},
        .flags = 3,
        .exptime = 4,
        .cas_unique = kUint64Max,
        .data = "hi"}},
      {"cas k 0 0 2 7 noreply\r\nhi\r\n",
       {.verb = Verb::cas, .keys = {"k"}, .cas_unique = 7, .data = "hi", .noreply = true}},
      {"delete k\r\n", {.verb = Verb::delete_, .keys = {"k"}}},
      {"delete k noreply\r\n", {.verb = Verb::delete_, .keys = {"k"}, .noreply = true}},
      {"delete k 0\r\n", {.verb = Verb::delete_, .keys = {"k"}}},
      {"delete k 0 noreply\r\n", {.verb = Verb::delete_, .keys = {"k"}, .noreply = true}},
      {"delete noreply\r\n", {.verb = Verb::delete_, .keys = {"noreply"}}},
      {"incr k 1\r\n", {.verb = Verb::incr, .keys = {"k"}, .delta = 1}},
      {"decr k 18446744073709551615 noreply\r\n",
       {.verb = Verb::decr, .keys = {"k"}, .delta = kUint64Max, .noreply = true}},
      {"touch k 10\r\n", {.verb = Verb::touch, .keys = {"k"}, .exptime = 10}},
      {"touch k -5 noreply\r\n",
       {.verb = Verb::touch, .keys = {"k"}, .exptime = -5, .noreply = true}},
      {"flush_all\r\n", {.verb = Verb::flush_all}},
      {"flush_all 30\r\n", {.verb = Verb::flush_all, .delay = 30}},
      {"flush_all noreply\r\n", {.verb = Verb::flush_all, .noreply = true}},
      {"flush_all 0 noreply\r\n", {.verb = Verb::flush_all, .noreply = true, .delay = 0}},
      {"version\r\n", {.verb = Verb::version}},
      {"stats\r\n", {.verb = Verb::stats}},
      {"stats slabs\r\n", {.verb = Verb::stats, .stats_group = "slabs"}},
      {"stats  detail   on \r\n", {.verb = Verb::stats, .stats_group = "detail on"}},
      {"verbosity 1\r\n", {.verb = Verb::verbosity, .verbosity = 1}},
      {"verbosity 2 noreply\r\n", {.verb = Verb::verbosity, .noreply = true, .verbosity = 2}},
      {"lru_crawler metadump all\r\n", {.verb = Verb::lru_crawler, .subcommand = "metadump all"}},
      {"lru_crawler  metadump 1,2\r\n", {.verb = Verb::lru_crawler, .subcommand = "metadump 1,2"}},
      {"quit\r\n", {.verb = Verb::quit}},
      // memcached's leniencies: a bare "\n" ends a line, runs of spaces separate tokens.
      {"get a\n", {.verb = Verb::get, .keys = {"a"}}},
      {"set k 0 0 1\nx\r\n", {.verb = Verb::set, .keys = {"k"}, .data = "x"}},
      {"  get   a  b  \r\n", {.verb = Verb::get, .keys = {"a", "b"}}},
      // An argument where "noreply" may stand but is not "noreply" is ignored, as memcached.
      {"incr k 2 please\r\n", {.verb = Verb::incr, .keys = {"k"}, .delta = 2}},
      {"version 1 2 3 4 5 6 7 8 9\r\n", {.verb = Verb::version}},
  };
}

std::string all_text(const std::vector<Case>& cases) {
  std::string text;
  for (const Case& c : cases) text += c.text;
  return text;
}

}  // namespace

TEST_CASE("kv protocol: every command parses the same whole and at every split size", "[unit]") {
  for (const Case& c : every_command()) {
    for (const std::size_t split : kSplitSizes) {
      CAPTURE(escape(c.text), split);
      const FeedResult result = feed(c.text, {split});
      REQUIRE(result.violation.empty());
      REQUIRE(result.outcomes == std::vector<ParseOutcome>{c.expected});
    }
  }
}

TEST_CASE("kv protocol: pipelined requests in one buffer come out in order", "[unit]") {
  const std::vector<Case> cases = every_command();
  std::vector<ParseOutcome> expected;
  for (const Case& c : cases) expected.emplace_back(c.expected);
  const std::string text = all_text(cases);
  for (const std::size_t split : kSplitSizes) {
    CAPTURE(split);
    const FeedResult result = feed(text, {split});
    REQUIRE(result.violation.empty());
    REQUIRE(result.outcomes == expected);
  }
}

TEST_CASE("kv protocol: a set split at every byte and every pair of bytes parses the same",
          "[unit]") {
  const std::string text = "set key 5 -1 10 noreply\r\n0123\r\n6789\r\nget key\r\n";
  const std::vector<ParseOutcome> expected = {Request{.verb = Verb::set,
                                                      .keys = {"key"},
                                                      .flags = 5,
                                                      .exptime = -1,
                                                      .data = "0123\r\n6789",
                                                      .noreply = true},
                                              Request{.verb = Verb::get, .keys = {"key"}}};
  for (std::size_t first = 1; first < text.size(); ++first) {
    for (std::size_t second = 1; first + second <= text.size(); ++second) {
      CAPTURE(first, second);
      const FeedResult result = feed(text, {first, second, text.size()});
      REQUIRE(result.violation.empty());
      REQUIRE(result.outcomes == expected);
    }
  }
}

TEST_CASE("kv protocol: a long multiget line is allowed past the ordinary line limit", "[unit]") {
  Request expected{.verb = Verb::gets};
  std::string text = "gets";
  for (int i = 0; text.size() < 20 * 1024; ++i) {
    expected.keys.push_back("key:" + std::to_string(i));
    text += " " + expected.keys.back();
  }
  text += "\r\n";
  for (const std::size_t split : kSplitSizes) {
    CAPTURE(split);
    const FeedResult result = feed(text, {split});
    REQUIRE(result.violation.empty());
    REQUIRE(result.outcomes == std::vector<ParseOutcome>{expected});
  }
}

TEST_CASE("kv protocol: a value of exactly the size limit is accepted", "[unit]") {
  const ProtocolLimits limits{.value_bytes_max = 1024 * 1024};
  const std::string value(limits.value_bytes_max, 'v');
  const std::string text = "set big 0 0 " + std::to_string(value.size()) + "\r\n" + value + "\r\n";
  for (const std::size_t split : {100000, 1000, 100}) {
    CAPTURE(split);
    const FeedResult result = feed(text, {split}, limits);
    REQUIRE(result.violation.empty());
    REQUIRE(result.outcomes ==
            std::vector<ParseOutcome>{Request{.verb = Verb::set, .keys = {"big"}, .data = value}});
  }
}

TEST_CASE("kv protocol: a request outlives the buffer it was parsed from", "[unit]") {
  Parser parser;
  std::string buffer = "set k 0 0 3\r\nabc\r\n";
  std::size_t used = 0;
  ParseOutcome outcome = parser.parse(buffer, &used);
  REQUIRE(used == buffer.size());
  buffer.assign(buffer.size(), '#');
  REQUIRE(outcome == ParseOutcome{Request{.verb = Verb::set, .keys = {"k"}, .data = "abc"}});
}
