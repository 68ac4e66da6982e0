// The reply formats of the memcached text protocol, byte for byte.

#include "components/kv/protocol/response.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <string>

using namespace doppel::kv;
using namespace std::string_literals;

TEST_CASE("kv protocol: each one-word reply is its word and a line end", "[unit]") {
  const std::pair<Reply, std::string> words[] = {
      {Reply::stored, "STORED\r\n"},   {Reply::not_stored, "NOT_STORED\r\n"},
      {Reply::exists, "EXISTS\r\n"},   {Reply::not_found, "NOT_FOUND\r\n"},
      {Reply::deleted, "DELETED\r\n"}, {Reply::touched, "TOUCHED\r\n"},
      {Reply::ok, "OK\r\n"},           {Reply::end, "END\r\n"},
      {Reply::error, "ERROR\r\n"}};
  for (const auto& [reply, text] : words) {
    std::string out = "before|";
    append_reply(out, reply);
    REQUIRE(out == "before|" + text);
    REQUIRE(reply_word(reply) == text.substr(0, text.size() - 2));
  }
}

TEST_CASE("kv protocol: a retrieval reply is VALUE lines with their data, then END", "[unit]") {
  std::string out;
  append_value(out, "a", 0, "hello");
  append_value(out, "bb", 4294967295u, "two\r\nlines");
  append_value(out, "empty", 7, "");
  append_reply(out, Reply::end);
  REQUIRE(out ==
          "VALUE a 0 5\r\nhello\r\n"
          "VALUE bb 4294967295 10\r\ntwo\r\nlines\r\n"
          "VALUE empty 7 0\r\n\r\n"
          "END\r\n");
}

TEST_CASE("kv protocol: gets and gats replies carry the cas unique", "[unit]") {
  std::string out;
  append_value(out, "k", 3, "v\0w"s, std::uint64_t{42});
  append_value(out, "m", 0, "x", std::numeric_limits<std::uint64_t>::max());
  REQUIRE(out ==
          "VALUE k 3 3 42\r\nv\0w\r\n"s
          "VALUE m 0 1 18446744073709551615\r\nx\r\n");
}

TEST_CASE("kv protocol: incr and decr reply the new value as a number", "[unit]") {
  std::string out;
  append_number(out, 0);
  append_number(out, 18446744073709551615u);
  REQUIRE(out == "0\r\n18446744073709551615\r\n");
}

TEST_CASE("kv protocol: stats reply STAT lines then END", "[unit]") {
  std::string out;
  append_stat(out, "pid", 1234);
  append_stat(out, "uptime", std::uint64_t{18446744073709551615u});
  append_stat(out, "skew", std::int64_t{-5});
  append_stat(out, "version", "1.6.21");
  append_stat(out, "empty", "");
  append_reply(out, Reply::end);
  REQUIRE(out ==
          "STAT pid 1234\r\n"
          "STAT uptime 18446744073709551615\r\n"
          "STAT skew -5\r\n"
          "STAT version 1.6.21\r\n"
          "STAT empty \r\n"
          "END\r\n");
}

TEST_CASE("kv protocol: version and the three kinds of error reply", "[unit]") {
  std::string out;
  append_version(out, "1.6.21 doppel");
  append_reply(out, Reply::error);
  append_client_error(out, "bad data chunk");
  append_server_error(out, "out of memory storing object");
  append_error(out, ProtocolError{"CLIENT_ERROR line too long", true, false});
  REQUIRE(out ==
          "VERSION 1.6.21 doppel\r\n"
          "ERROR\r\n"
          "CLIENT_ERROR bad data chunk\r\n"
          "SERVER_ERROR out of memory storing object\r\n"
          "CLIENT_ERROR line too long\r\n");
}

TEST_CASE("kv protocol: a formatted request is the text a memcached client sends", "[unit]") {
  std::string out;
  append_request(out, Request{.verb = Verb::gats, .keys = {"a", "b"}, .exptime = -1});
  append_request(out, Request{.verb = Verb::cas,
                              .keys = {"k"},
                              .flags = 1,
                              .exptime = 2,
                              .cas_unique = 3,
                              .data = "v\r\n",
                              .noreply = true});
  append_request(out, Request{.verb = Verb::delete_, .keys = {"k"}});
  append_request(out, Request{.verb = Verb::flush_all, .delay = 10});
  append_request(out, Request{.verb = Verb::stats, .stats_group = "slabs"});
  REQUIRE(out ==
          "gats -1 a b\r\n"
          "cas k 1 2 3 3 noreply\r\nv\r\n\r\n"
          "delete k\r\n"
          "flush_all 10\r\n"
          "stats slabs\r\n");
}
