// The HTTP/1.1 parsers: every request whole and under every split size, alone and pipelined;
// chunked bodies split anywhere; every error with its status; 100-continue; responses.

#include "components/http/parser.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "http_test_support.h"

using namespace doppel::http;
using namespace doppel::http::test;
using namespace std::string_literals;

namespace {

struct Case {
  std::string text;
  Request expected;
};

Headers fields(std::initializer_list<std::pair<const char*, std::string>> list) {
  Headers h;
  for (const auto& [name, value] : list) h.add(name, value);
  return h;
}

Request req(std::string method, std::string target, std::string path,
            std::vector<std::string> segments, Headers headers) {
  Request r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.path = std::move(path);
  r.segments = std::move(segments);
  r.headers = std::move(headers);
  return r;
}

std::vector<Case> every_request() {
  std::vector<Case> cases;
  cases.push_back(
      {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", req("GET", "/", "/", {}, fields({{"Host", "a"}}))});
  {
    Request r = req("GET", "/buckets/b%20c/keys/k%2Fx?returnbody=true&r=2&q=a+b%26",
                    "/buckets/b%20c/keys/k%2Fx", {"buckets", "b c", "keys", "k/x"},
                    fields({{"Host", "h:8098"}, {"Accept", "*/*"}}));
    r.query = {{"returnbody", "true"}, {"r", "2"}, {"q", "a b&"}};
    cases.push_back(
        {"GET " + r.target + " HTTP/1.1\r\nHost: h:8098\r\nAccept:   */*  \r\n\r\n", r});
  }
  {
    Request r = req("GET", "/a/", "/a/", {"a", ""}, fields({{"Connection", "keep-alive"}}));
    r.version_minor = 0;
    cases.push_back({"GET /a/ HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", r});
  }
  {
    Request r = req("GET", "/x", "/x", {"x"}, {});
    r.version_minor = 0;
    r.keep_alive = false;
    cases.push_back({"GET /x HTTP/1.0\r\n\r\n", r});
  }
  {
    Request r = req("DELETE", "/k", "/k", {"k"}, fields({{"Host", "a"}, {"Connection", "Close"}}));
    r.keep_alive = false;
    cases.push_back({"DELETE /k HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n", r});
  }
  {
    Request r = req("PUT", "/k", "/k", {"k"},
                    fields({{"Host", "a"}, {"Content-Length", "12"}, {"X-Riak-Vclock", "a85h"}}));
    r.body = "hello\r\nworld";
    cases.push_back(
        {"PUT /k HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\nX-Riak-Vclock: a85h\r\n"
         "\r\nhello\r\nworld",
         r});
  }
  {
    Request r = req("POST", "/up", "/up", {"up"},
                    fields({{"Host", "a"}, {"Transfer-Encoding", "chunked"}}));
    r.body = "Wikipedia in\r\n\r\nchunks.\0x"s;
    cases.push_back(
        {"POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
         "4\r\nWiki\r\n5;name=value\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n"
         "2 ; x\r\n\0x\r\n0\r\nExpires: never\r\n\r\n"s,
         r});
  }
  {
    Request r = req("PUT", "/e", "/e", {"e"}, fields({{"Host", "a"}, {"Content-Length", "0"}}));
    cases.push_back({"PUT /e HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", r});
  }
  {
    Request r =
        req("GET", "/r", "/r", {"r"},
            fields({{"Host", "a"}, {"Link", "1"}, {"link", "2"}, {"X-Bin", "\x80\xff ok"}}));
    cases.push_back({"GET /r HTTP/1.1\nHost: a\nLink: 1\nlink:2\nX-Bin: \x80\xff ok\n\n", r});
  }
  {
    Request r = req("GET", "http://Example.com:80/p?x", "/p", {"p"}, fields({{"Host", "e"}}));
    r.query = {{"x", ""}};
    cases.push_back({"\r\n\r\nGET http://Example.com:80/p?x HTTP/1.1\r\nHost: e\r\n\r\n", r});
  }
  {
    Request r = req("OPTIONS", "*", "*", {}, fields({{"Host", "a"}}));
    cases.push_back({"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", r});
  }
  {
    Request r = req("HEAD", "/blob?", "/blob", {"blob"}, fields({{"Host", "a"}, {"Empty", ""}}));
    cases.push_back({"HEAD /blob? HTTP/1.1\r\nHost: a\r\nEmpty:\r\n\r\n", r});
  }
  return cases;
}

struct ErrorCase {
  std::string text;
  int status;
};

HttpLimits small_limits() {
  HttpLimits l;
  l.request_line_bytes_max = 64;
  l.header_count_max = 4;
  l.header_bytes_max = 128;
  l.body_bytes_max = 100;
  l.chunk_bytes_max = 50;
  l.chunk_line_bytes_max = 16;
  l.empty_lines_before_request_max = 2;
  return l;
}

std::vector<ErrorCase> every_error() {
  const std::string host = "Host: a\r\n";
  return {
      {"GET /\r\n\r\n", 400},
      {"GET  / HTTP/1.1\r\n" + host + "\r\n", 400},
      {"G(T / HTTP/1.1\r\n" + host + "\r\n", 400},
      {"GET / HTTP/1.1\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\n" + host + "Bad Name: x\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\n" + host + "X: a\r\n folded\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\n" + host + "no colon\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\n" + host + "X: a\x01z\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\n" + host + "X: a\rz\r\n\r\n", 400},
      {"PUT / HTTP/1.1\r\n" + host + "Content-Length: 1x\r\n\r\n", 400},
      {"PUT / HTTP/1.1\r\n" + host + "Content-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
      {"PUT / HTTP/1.1\r\n" + host + "Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
       400},
      {"PUT / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
      {"PUT / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked, chunked\r\n\r\n", 400},
      {"PUT / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
      {"PUT / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n1\r\nab\r\n", 400},
      {"PUT / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nbad\r\n\r\n",
       400},
      {"GET /a%zz HTTP/1.1\r\n" + host + "\r\n", 400},
      {"GET /a?b=%4 HTTP/1.1\r\n" + host + "\r\n", 400},
      {"GET a/b HTTP/1.1\r\n" + host + "\r\n", 400},
      {"GET * HTTP/1.1\r\n" + host + "\r\n", 400},
      {"GET /a#frag HTTP/1.1\r\n" + host + "\r\n", 400},
      {"GET /\x7f HTTP/1.1\r\n" + host + "\r\n", 400},
      {"GET / HTTP/1\r\n" + host + "\r\n", 400},
      {"GET / http/1.1\r\n" + host + "\r\n", 400},
      {"\r\n\r\n\r\nGET / HTTP/1.1\r\n" + host + "\r\n", 400},
      {"PUT / HTTP/1.1\r\n" + host + "Content-Length: 101\r\n\r\n", 413},
      {"PUT / HTTP/1.1\r\n" + host + "Content-Length: 99999999999999999999999\r\n\r\n", 413},
      {"PUT / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n33\r\n", 413},
      {"PUT / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n32\r\n" +
           std::string(50, 'x') + "\r\n32\r\n" + std::string(50, 'x') + "\r\n1\r\n",
       413},
      {"PUT / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n00000000000000001\r\n",
       400},
      {"PUT / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n1;" + std::string(20, 'e') +
           "\r\n",
       400},
      {"GET /" + std::string(100, 'a') + " HTTP/1.1\r\n" + host + "\r\n", 414},
      {"GET /" + std::string(100, 'a'), 414},
      {"GET / HTTP/1.1\r\n" + host + "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", 431},
      {"GET / HTTP/1.1\r\n" + host + "A: " + std::string(200, 'x') + "\r\n\r\n", 431},
      {"GET / HTTP/1.1\r\n" + host + "A: " + std::string(200, 'x'), 431},
      {"PUT / HTTP/1.1\r\n" + host +
           "Transfer-Encoding: chunked\r\n\r\n0\r\nT: " + std::string(200, 't') + "\r\n\r\n",
       431},
      {"BREW /pot HTTP/1.1\r\n" + host + "\r\n", 501},
      {"CONNECT a:443 HTTP/1.1\r\n" + host + "\r\n", 501},
      {"PUT / HTTP/1.1\r\n" + host + "Transfer-Encoding: gzip, chunked\r\n\r\n", 501},
      {"GET / HTTP/2.0\r\n" + host + "\r\n", 505},
      {"GET / HTTP/3.1\r\n" + host + "\r\n", 505},
      {"PUT / HTTP/1.1\r\n" + host + "Expect: the-unexpected\r\n\r\n", 417},
  };
}

}  // namespace

TEST_CASE("http parser: every request gives the same message at every split size", "[unit]") {
  for (const Case& c : every_request()) {
    for (std::size_t split : kSplitSizes) {
      INFO("request " << escape(c.text) << " split " << split);
      const FeedResult result = feed(c.text, {split});
      REQUIRE(result.violation.empty());
      REQUIRE(result.outcomes == std::vector<RequestOutcome>{c.expected});
    }
  }
}

TEST_CASE("http parser: pipelined requests in one buffer come out in order", "[unit]") {
  std::string all;
  std::vector<RequestOutcome> expected;
  for (const Case& c : every_request()) {
    all += c.text;
    expected.emplace_back(c.expected);
  }
  for (std::size_t split : kSplitSizes) {
    INFO("split " << split);
    const FeedResult result = feed(all, {split});
    REQUIRE(result.violation.empty());
    REQUIRE(result.outcomes == expected);
  }
}

namespace {

// Feeds `text` as the server's connection does: body bytes go straight into the request
// (body_space / body_filled) whenever the parser offers room and no unused bytes are held,
// other bytes through parse(); each read is at most `split` bytes.
std::vector<RequestOutcome> feed_receiving_bodies_directly(std::string_view text,
                                                           std::size_t split) {
  RequestParser parser;
  std::vector<RequestOutcome> outcomes;
  std::string in;
  std::size_t at = 0;
  for (;;) {
    std::size_t used = 0;
    RequestOutcome outcome = parser.parse(in, &used);
    in.erase(0, used);
    if (!std::holds_alternative<NeedMoreBytes>(outcome)) {
      outcomes.push_back(std::move(outcome));
      if (std::holds_alternative<ParseError>(outcomes.back())) return outcomes;
      continue;
    }
    if (at == text.size()) return outcomes;
    const std::span<char> space = in.empty() ? parser.body_space(split) : std::span<char>();
    if (!space.empty()) {
      const std::size_t n = std::min(space.size(), text.size() - at);
      text.substr(at, n).copy(space.data(), n);
      parser.body_filled(n);
      at += n;
    } else {
      const std::size_t n = std::min(split, text.size() - at);
      in.append(text.substr(at, n));
      at += n;
    }
  }
}

}  // namespace

TEST_CASE("http parser: bodies received straight into the request give the same requests",
          "[unit]") {
  std::string all;
  std::vector<RequestOutcome> expected;
  for (const Case& c : every_request()) {
    all += c.text;
    expected.emplace_back(c.expected);
  }
  // And a body larger than the first reservation, so it grows while being received.
  Request big =
      req("PUT", "/big", "/big", {"big"}, fields({{"Host", "a"}, {"Content-Length", "3000000"}}));
  big.body.assign(3000000, 'x');
  for (std::size_t i = 0; i < big.body.size(); i += 4093) big.body[i] = static_cast<char>(i);
  all += "PUT /big HTTP/1.1\r\nHost: a\r\nContent-Length: 3000000\r\n\r\n" + big.body;
  expected.emplace_back(big);
  for (const std::size_t split : {1u, 2u, 3u, 7u, 64u, 1000u, 65536u, 1u << 20, 4u << 20}) {
    INFO("split " << split);
    REQUIRE(feed_receiving_bodies_directly(all, split) == expected);
  }
}

TEST_CASE("http parser: a chunked body split at every byte gives the same request", "[unit]") {
  std::string text = "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
  std::string body;
  for (int i = 1; i <= 20; ++i) {
    const std::string piece(static_cast<std::size_t>(i * 7), static_cast<char>('a' + i));
    char size[16];
    std::snprintf(size, sizeof size, "%zx", piece.size());
    text += std::string(size) + (i % 3 == 0 ? ";ext=\"q\"" : "") + "\r\n" + piece + "\r\n";
    body += piece;
  }
  text += "0\r\n\r\n";
  const FeedResult whole = feed(text, {text.size()});
  REQUIRE(whole.violation.empty());
  REQUIRE(whole.outcomes.size() == 1);
  REQUIRE(std::get<Request>(whole.outcomes[0]).body == body);
  for (std::size_t cut = 1; cut < text.size(); ++cut) {
    const FeedResult split = feed(text, {cut, text.size()});
    REQUIRE(split.violation.empty());
    REQUIRE(split.outcomes == whole.outcomes);
  }
  for (std::size_t split : kSplitSizes) REQUIRE(feed(text, {split}).outcomes == whole.outcomes);
}

TEST_CASE("http parser: each malformed request maps to its status at every split size", "[unit]") {
  for (const ErrorCase& c : every_error()) {
    const FeedResult whole = feed(c.text, {c.text.size()}, small_limits());
    INFO("request " << escape(c.text));
    REQUIRE(whole.violation.empty());
    REQUIRE(whole.outcomes.size() == 1);
    const auto* error = std::get_if<ParseError>(&whole.outcomes[0]);
    REQUIRE(error != nullptr);
    REQUIRE(error->status == c.status);
    REQUIRE_FALSE(error->reason.empty());
    REQUIRE(error->reason.find('\n') == std::string::npos);
    for (std::size_t split : kSplitSizes) {
      INFO("split " << split);
      const FeedResult result = feed(c.text, {split}, small_limits());
      REQUIRE(result.violation.empty());
      REQUIRE(result.outcomes == whole.outcomes);
    }
  }
}

TEST_CASE("http parser: Expect 100-continue asks for a 100 before the body", "[unit]") {
  const std::string head = "PUT /k HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\n";
  for (std::size_t split : kSplitSizes) {
    INFO("split " << split);
    const FeedResult with_body = feed(head + "Content-Length: 5\r\n\r\nhello", {split});
    REQUIRE(with_body.outcomes.size() == 2);
    REQUIRE(std::holds_alternative<ContinueNeeded>(with_body.outcomes[0]));
    REQUIRE(std::get<Request>(with_body.outcomes[1]).body == "hello");
    const FeedResult chunked =
        feed(head + "Transfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n", {split});
    REQUIRE(chunked.outcomes.size() == 2);
    REQUIRE(std::holds_alternative<ContinueNeeded>(chunked.outcomes[0]));
    // No body to come, an HTTP/1.0 client, or a body over the limit: no 100.
    const FeedResult empty = feed(head + "Content-Length: 0\r\n\r\n", {split});
    REQUIRE(empty.outcomes.size() == 1);
    REQUIRE(std::holds_alternative<Request>(empty.outcomes[0]));
    const FeedResult old =
        feed("PUT /k HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx", {split});
    REQUIRE(old.outcomes.size() == 1);
    REQUIRE(std::holds_alternative<Request>(old.outcomes[0]));
    const FeedResult large = feed(head + "Content-Length: 101\r\n\r\n", {split}, small_limits());
    REQUIRE(large.outcomes == std::vector<RequestOutcome>{ParseError{413, "body too large"}});
  }
}

TEST_CASE("http parser: responses with every framing parse the same at every split size",
          "[unit]") {
  const std::string stream =
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x\r\nde\r\n0\r\n"
      "Trailer: t\r\n\r\n"
      "HTTP/1.1 204 No Content\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"  // an answer to HEAD
      "HTTP/1.1 304\r\nContent-Length: 3\r\n\r\n"
      "HTTP/1.0 200 Fine Thanks\r\n\r\nuntil the close";
  const std::vector<std::string> expected = {"head 100 Continue",
                                             "head 200 OK",
                                             "body hello",
                                             "end",
                                             "head 200 OK",
                                             "body abcde",
                                             "end",
                                             "head 204 No Content",
                                             "end",
                                             "head 200 OK",
                                             "end",
                                             "head 304 ",
                                             "end",
                                             "head 200 Fine Thanks",
                                             "body until the close",
                                             "closed",
                                             "end"};
  for (std::size_t split : kSplitSizes) {
    INFO("split " << split);
    const ResponseFeedResult r =
        feed_responses(stream, {split}, {false, false, false, true, false, false});
    REQUIRE(r.violation.empty());
    REQUIRE(r.events == expected);
  }
}

TEST_CASE("http parser: malformed or cut responses are errors", "[unit]") {
  struct Bad {
    std::string text;
    std::string event;
  };
  const std::vector<Bad> cases = {
      {"HTTP/1.1 20 OK\r\n\r\n", "error 400 bad status code"},
      {"HTTP/1.1 600 Nope\r\n\r\n", "error 400 bad status code"},
      {"HTTP/2 200 OK\r\n\r\n", "error 400 bad status line"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\ncut", "error 400 body cut short by the close"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
       "error 501 transfer coding not implemented: gzip"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n", "error 413 body too large"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n65\r\n", "error 413 body too large"},
  };
  HttpLimits limits;
  limits.body_bytes_max = 100;
  for (const Bad& c : cases) {
    for (std::size_t split : kSplitSizes) {
      INFO(escape(c.text) << " split " << split);
      const ResponseFeedResult r = feed_responses(c.text, {split}, {false}, limits);
      REQUIRE(r.violation.empty());
      REQUIRE(!r.events.empty());
      REQUIRE(r.events.back().rfind(c.event, 0) == 0);
    }
  }
}
