// The memcached text protocol parser on bad input: each error memcached replies, that the
// connection stays in sync after it (or is closed when it cannot), under every split size.

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "components/kv/protocol/parser.h"
#include "protocol_test_support.h"
#include "runtime/assert.h"

using namespace doppel::kv;
using namespace doppel::kv::test;
using namespace std::string_literals;

namespace {

const std::string kBadFormat = "CLIENT_ERROR bad command line format";
const std::string kBadExptime = "CLIENT_ERROR invalid exptime argument";
const std::string kBadDelta = "CLIENT_ERROR invalid numeric delta argument";
const std::string kBadChunk = "CLIENT_ERROR bad data chunk";
const std::string kTooLarge = "SERVER_ERROR object too large for cache";
const std::string kLineTooLong = "CLIENT_ERROR line too long";
const std::string kBadDelete =
    "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]";

// A set refused as too large: the reply, and the key whose old value the server drops.
ParseOutcome set_too_large(std::string key) {
  ProtocolError e{kTooLarge, false, false};
  e.drop_key = std::move(key);
  return e;
}

// A command that must parse after each error: proof that the stream is back in sync.
const std::string kProbe = "get probe\r\n";
const ParseOutcome kProbeRequest = Request{.verb = Verb::get, .keys = {"probe"}};

// Feeds `text` + kProbe under every split size and expects `expected` then the probe.
void require_outcomes(const std::string& text, std::vector<ParseOutcome> expected,
                      const ProtocolLimits& limits = {}) {
  expected.push_back(kProbeRequest);
  for (const std::size_t split : kSplitSizes) {
    CAPTURE(escape(text), split);
    const FeedResult result = feed(text + kProbe, {split}, limits);
    REQUIRE(result.violation.empty());
    REQUIRE(result.outcomes == expected);
  }
}

void require_error(const std::string& text, const std::string& reply, bool noreply = false,
                   const ProtocolLimits& limits = {}) {
  require_outcomes(text, {error_outcome(reply, noreply)}, limits);
}

[[noreturn]] void throw_on_assertion(const char* expr, const char*, int, const char*) {
  throw std::string(expr);
}

}  // namespace

TEST_CASE("kv protocol: an unknown command or an empty line is ERROR", "[unit]") {
  for (const std::string text : {"bogus\r\n", "\r\n", "\n", "   \r\n", "GET a\r\n", "g\r\n",
                                 "get\ta\r\n", "set\r\n", "gets\r\n", "getss a\r\n"}) {
    require_error(text, "ERROR");
  }
}

TEST_CASE("kv protocol: an HTTP request line closes the connection without a reply, as memcached",
          "[unit]") {
  for (const std::string text :
       {"GET / HTTP/1.1\r\nHost: cache\r\n\r\n", "POST /set?k=v HTTP/1.0\r\n",
        "HEAD  /  HTTP/2\r\n", "OPTIONS * HTTP/1.1\n"}) {
    for (const std::size_t split : kSplitSizes) {
      CAPTURE(escape(text), split);
      const FeedResult result = feed(text + kProbe, {split});
      REQUIRE(result.violation.empty());
      REQUIRE(result.outcomes == std::vector<ParseOutcome>{close_outcome("")});
    }
  }
  // Not a request line: a verb of ours, or no "HTTP/" last.
  require_outcomes("get / HTTP/1.1\r\n", {Request{.verb = Verb::get, .keys = {"/", "HTTP/1.1"}}});
  require_error("GET /\r\n", "ERROR");
}

TEST_CASE("kv protocol: lru_crawler answers metadump only, of all classes or a list of them",
          "[unit]") {
  for (const std::string text :
       {"lru_crawler\r\n", "lru_crawler crawl all\r\n", "lru_crawler metadump\r\n",
        "lru_crawler metadump all extra\r\n", "lru_crawler metadump hash\r\n"}) {
    require_error(text, kBadFormat);
  }
}

TEST_CASE("kv protocol: a wrong number of arguments is ERROR, as memcached", "[unit]") {
  for (const std::string text :
       {"get\r\n", "gat 10\r\n", "gat\r\n", "set k 0 0\r\n", "set k 0 0 1 noreply x\r\n",
        "cas k 0 0 1\r\n", "delete\r\n", "delete k 0 noreply x\r\n", "incr k\r\n",
        "decr k 1 noreply x\r\n", "touch k\r\n", "flush_all 1 noreply x\r\n", "verbosity\r\n",
        "verbosity 1 noreply x\r\n"}) {
    require_error(text, "ERROR");
  }
}

namespace {
void require_bad_key(const std::string& key, const ProtocolLimits& limits) {
  CAPTURE(escape(key), limits.strict_keys);
  require_error("get ok " + key + "\r\n", kBadFormat, false, limits);
  require_error("gat 1 " + key + "\r\n", kBadFormat, false, limits);
  require_error("delete " + key + "\r\n", kBadFormat, false, limits);
  require_error("incr " + key + " 1\r\n", kBadFormat, false, limits);
  require_error("touch " + key + " 1 noreply\r\n", kBadFormat, true, limits);
  // The data block of a refused set is discarded, so it is not read as a command.
  require_error("set " + key + " 0 0 9\r\nflush_all\r\n", kBadFormat, false, limits);
}
}  // namespace

TEST_CASE("kv protocol: a key too long, or with NUL, CR or LF, is a bad command line", "[unit]") {
  for (const std::string& key : {std::string(251, 'k'), "a\rb"s, "a\0b"s}) require_bad_key(key, {});
}

TEST_CASE("kv protocol: strict keys refuse every control byte; the default takes them as memcached",
          "[unit]") {
  ProtocolLimits strict;
  strict.strict_keys = true;
  for (const std::string& key : {"a\tb"s, "a\x7f"s, "\x01"s, "\x10\x10key"s}) {
    require_bad_key(key, strict);
    CAPTURE(escape(key));
    Request get;
    get.verb = Verb::get;
    get.keys = {key};
    require_outcomes("get " + key + "\r\n", {get});
  }
}

TEST_CASE("kv protocol: bad storage arguments discard the data block when its size is readable",
          "[unit]") {
  for (const std::string line :
       {"set k x 0 3", "set k 4294967296 0 3", "add k 0 1.5 3", "replace k 0 9223372036854775808 3",
        "cas k 0 0 3 -1", "cas k 0 0 3 18446744073709551616", "set k +1 0 3"}) {
    require_error(line + "\r\nabc\r\n", kBadFormat);
  }
  require_error("set k x 0 3 noreply\r\nabc\r\n", kBadFormat, true);
}

TEST_CASE("kv protocol: a negative or unreadable bytes field leaves the data to be parsed",
          "[unit]") {
  // As memcached: with no length to trust, the data line is read as a command line.
  for (const std::string line :
       {"set k 0 0 -1", "set k 0 0 abc", "set k 0 0 ", "set k 0 0 1e3", "set k 0 0 2147483646"}) {
    require_outcomes(line + "\r\nversion\r\n",
                     {error_outcome(line == "set k 0 0 " ? "ERROR" : kBadFormat),
                      Request{.verb = Verb::version}});
  }
}

TEST_CASE("kv protocol: a value over the size limit is refused and swallowed across feeds",
          "[unit]") {
  const ProtocolLimits limits{.value_bytes_max = 1000};
  const std::string data(1001, 'd');
  const std::string text = "set k 0 0 1001\r\n" + data + "\r\n";
  require_outcomes(text, {set_too_large("k")}, limits);
  require_outcomes("cas k 0 0 1001 5 noreply\r\n" + data + "\r\n", {error_outcome(kTooLarge, true)},
                   limits);
  // Swallowed blindly, as memcached: what follows bytes + 2 is the next command.
  require_outcomes("set k 0 0 1001\r\n" + data + "XXget j\r\n",
                   {set_too_large("k"), Request{.verb = Verb::get, .keys = {"j"}}}, limits);
}

TEST_CASE("kv protocol: a too large value under the default limit is swallowed over many feeds",
          "[unit]") {
  const std::string data(2 * 1024 * 1024, 'd');
  const std::string text = "set k 0 0 " + std::to_string(data.size()) + "\r\n" + data + "\r\n";
  Parser parser;
  const FeedResult result = feed(parser, text + kProbe, {4096});
  REQUIRE(result.violation.empty());
  REQUIRE(result.outcomes == std::vector<ParseOutcome>{set_too_large("k"), kProbeRequest});
}

TEST_CASE("kv protocol: a bad data chunk is reported and the stream resyncs at the next line",
          "[unit]") {
  require_error("set k 0 0 3\r\nabcd\r\n", kBadChunk);       // one byte too many
  require_error("set k 0 0 3\r\nab\r\n", kBadChunk);         // one byte too few
  require_error("set k 0 0 1\r\nx\n", kBadChunk);            // a bare "\n" after data
  require_error("set k 0 0 1\r\nx\rYget k\r\n", kBadChunk);  // the rest of the line is lost
  require_error("set k 0 0 1 noreply\r\nxyz\r\n", kBadChunk, true);
  require_error("set k 0 0 3\r\nabc" + std::string(20000, 'z') + "\r\n", kBadChunk);
}

TEST_CASE("kv protocol: a line longer than the limit closes the connection", "[unit]") {
  const ProtocolLimits limits;
  const std::string limit_line = "stats " + std::string(limits.line_bytes_max - 8, 'x') + "\r\n";
  REQUIRE(limit_line.size() == limits.line_bytes_max);
  const std::string group = limit_line.substr(6, limit_line.size() - 8);
  require_outcomes(limit_line, {Request{.verb = Verb::stats, .stats_group = group}});
  const std::vector<std::string> too_long = {
      "stats " + std::string(limits.line_bytes_max - 7, 'x') + "\r\n",  // one byte too long
      std::string(limits.line_bytes_max, 'x'),                          // no "\n" yet
      std::string(limits.line_bytes_max + 100, ' ') + "get a\r\n",
      "set " + std::string(10000, 'k') + " 0 0 1\r\nx\r\n",
      "get " + std::string(limits.retrieval_line_bytes_max, 'k') + "\r\n",
      "get " + std::string(100, 'k') + "\r\n" + "gets " + std::string(70000, 'k')};
  for (const std::string& text : too_long) {
    for (const std::size_t split : kSplitSizes) {
      CAPTURE(escape(text.substr(0, 20)), text.size(), split);
      const FeedResult result = feed(text + kProbe, {split});
      REQUIRE(result.violation.empty());
      REQUIRE_FALSE(result.outcomes.empty());
      REQUIRE(result.outcomes.back() == close_outcome(kLineTooLong));
      REQUIRE(result.outcomes.size() <= 2);
    }
  }
}

TEST_CASE("kv protocol: more keys than the limit is an error", "[unit]") {
  const ProtocolLimits limits{.keys_per_request_max = 3};
  require_outcomes("get a b c\r\n", {Request{.verb = Verb::get, .keys = {"a", "b", "c"}}}, limits);
  require_outcomes("get a b c d\r\n", {error_outcome("CLIENT_ERROR too many keys")}, limits);
}

TEST_CASE("kv protocol: bad delete, incr, decr, touch, gat, flush_all and verbosity arguments",
          "[unit]") {
  require_error("delete k 1\r\n", kBadDelete);
  require_error("delete k 0 0\r\n", kBadDelete);
  require_error("delete k 1 noreply\r\n", kBadDelete, true);
  require_error("delete k noreply 0\r\n", kBadDelete);
  for (const std::string delta : {"-1", "abc", "18446744073709551616", "1.0", "+1"}) {
    require_error("incr k " + delta + "\r\n", kBadDelta);
    require_error("decr k " + delta + " noreply\r\n", kBadDelta, true);
  }
  require_error("touch k soon\r\n", kBadExptime);
  require_error("gat soon k\r\n", kBadExptime);
  require_error("gats 99999999999999999999 k\r\n", kBadExptime);
  require_error("flush_all soon\r\n", kBadExptime);
  require_error("flush_all soon noreply\r\n", kBadExptime, true);
  require_error("verbosity loud\r\n", kBadFormat);
  require_error("verbosity 4294967296\r\n", kBadFormat);
  // memcached takes the last token as noreply even where a value should stand.
  require_error("verbosity noreply\r\n", kBadFormat, true);
  require_error("incr k noreply\r\n", kBadDelta, true);
}

TEST_CASE("kv protocol: parsing again after a closing error is a caller bug", "[unit]") {
  Parser parser;
  std::size_t used = 0;
  const ParseOutcome outcome = parser.parse(std::string(9000, 'x'), &used);
  REQUIRE(outcome == close_outcome(kLineTooLong));
  REQUIRE(parser.closed());
  const auto previous = doppel::set_assertion_handler(&throw_on_assertion);
  CHECK_THROWS_AS(parser.parse("get a\r\n", &used), std::string);
  doppel::set_assertion_handler(previous);
}
