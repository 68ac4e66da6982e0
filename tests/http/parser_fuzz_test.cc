// RapidCheck on the request parser: any bytes, split anywhere, keep its guarantees and give the
// same outcomes as one whole feed; and a formatted request parses back to itself.

#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "components/http/codec.h"
#include "components/http/parser.h"
#include "http_test_support.h"

using namespace doppel::http;
using namespace doppel::http::test;

namespace {

// Small limits reach every limit with short inputs; the defaults are what a server runs with.
HttpLimits random_limits() {
  if (*rc::gen::arbitrary<bool>()) return HttpLimits{};
  HttpLimits l;
  l.request_line_bytes_max = 60;
  l.header_count_max = 3;
  l.header_bytes_max = 80;
  l.body_bytes_max = 40;
  l.chunk_bytes_max = 20;
  l.chunk_line_bytes_max = 12;
  l.empty_lines_before_request_max = 2;
  return l;
}

std::vector<std::size_t> random_chunks() {
  return *rc::gen::nonEmpty(
      rc::gen::container<std::vector<std::size_t>>(rc::gen::inRange<std::size_t>(1, 40)));
}

// Bytes that look like HTTP often enough to get past the request line.
std::string random_httpish_bytes() {
  static const std::vector<std::string> kPieces = {"GET ",
                                                   "PUT ",
                                                   "POST ",
                                                   "HEAD ",
                                                   "/",
                                                   "/a",
                                                   "?x=1",
                                                   "%2F",
                                                   "%",
                                                   " HTTP/1.1",
                                                   " HTTP/1.0",
                                                   "\r\n",
                                                   "\r\n",
                                                   "\n",
                                                   "\r",
                                                   "Host: a",
                                                   "Content-Length: ",
                                                   "Transfer-Encoding: chunked",
                                                   "Expect: 100-continue",
                                                   "Connection: close",
                                                   "0",
                                                   "5",
                                                   "a",
                                                   "ff",
                                                   ";x=y",
                                                   ": ",
                                                   " ",
                                                   std::string(70, 'x')};
  std::string bytes;
  const int pieces = *rc::gen::inRange(0, 60);
  for (int i = 0; i < pieces; ++i) {
    if (*rc::gen::inRange(0, 5) == 0) {
      bytes += static_cast<char>(*rc::gen::inRange(0, 256));
    } else {
      bytes += *rc::gen::elementOf(kPieces);
    }
  }
  return bytes;
}

std::string random_text(int lo, int hi) {
  return *rc::gen::container<std::string>(
      static_cast<std::size_t>(*rc::gen::inRange(lo, hi)),
      rc::gen::map(rc::gen::inRange(0x21, 0x7f), [](int c) { return static_cast<char>(c); }));
}

std::string random_token(int lo, int hi) {
  return *rc::gen::container<std::string>(
      static_cast<std::size_t>(*rc::gen::inRange(lo, hi)),
      rc::gen::elementOf(
          std::string("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!~*'")));
}

// A random valid request within the default limits, with every derived field filled.
Request random_request() {
  Request r;
  r.method = *rc::gen::element<std::string>("GET", "PUT", "POST", "DELETE", "HEAD", "PATCH");
  r.segments = *rc::gen::container<std::vector<std::string>>(
      static_cast<std::size_t>(*rc::gen::inRange(0, 5)), rc::gen::arbitrary<std::string>());
  if (r.segments.size() == 1 && r.segments[0].empty()) r.segments[0] = "x";
  const int params = *rc::gen::inRange(0, 4);
  for (int i = 0; i < params; ++i) {
    r.query.emplace_back(*rc::gen::arbitrary<std::string>(), *rc::gen::arbitrary<std::string>());
  }
  r.target = make_target(r.segments, r.query);
  r.path = r.target.substr(0, r.target.find('?'));
  r.version_minor = *rc::gen::inRange(0, 2);
  r.headers.add("Host", random_token(1, 20));
  const int extra = *rc::gen::inRange(0, 6);
  for (int i = 0; i < extra; ++i) {
    std::string value = random_text(0, 30);
    if (value.size() > 2) value[value.size() / 2] = ' ';
    r.headers.add("X-" + random_token(1, 12), value);
  }
  const int connection = *rc::gen::inRange(0, 3);
  if (connection == 1) r.headers.add("Connection", "close");
  if (connection == 2) r.headers.add("Connection", "keep-alive");
  r.keep_alive = r.version_minor == 1 ? connection != 1 : connection == 2;
  r.body = *rc::gen::arbitrary<std::string>();
  if (!r.body.empty()) r.headers.add("Content-Length", std::to_string(r.body.size()));
  return r;
}

// Flips, overwrites, inserts and cuts bytes.
std::string mutate(std::string bytes) {
  const int edits = *rc::gen::inRange(1, 6);
  for (int e = 0; e < edits && !bytes.empty(); ++e) {
    const int kind = *rc::gen::inRange(0, 5);
    const std::size_t at = *rc::gen::inRange<std::size_t>(0, bytes.size());
    const auto any_byte = static_cast<char>(*rc::gen::inRange(0, 256));
    if (kind == 0) bytes[at] = static_cast<char>(bytes[at] ^ (1 << *rc::gen::inRange(0, 8)));
    if (kind == 1) bytes[at] = any_byte;
    if (kind == 2) bytes.insert(at, 1, *rc::gen::element(' ', '\r', '\n', ':', '0', any_byte));
    if (kind == 3) bytes.erase(at, 1);
    if (kind == 4) bytes.resize(at);
  }
  return bytes;
}

void check_any_split(const std::string& stream, const HttpLimits& limits) {
  const FeedResult whole = feed(stream, {stream.size() + 1}, limits);
  RC_ASSERT(whole.violation.empty());
  const FeedResult split = feed(stream, random_chunks(), limits);
  RC_ASSERT(split.violation.empty());
  RC_ASSERT(split.outcomes == whole.outcomes);
}

}  // namespace

TEST_CASE("http parser: random bytes split anywhere never break the parser's guarantees",
          "[prop]") {
  rc::prop("same outcomes whole and split, progress on every call",
           [] { check_any_split(random_httpish_bytes(), random_limits()); });
  rc::prop("arbitrary bytes",
           [](const std::string& bytes) { check_any_split(bytes, random_limits()); });
}

TEST_CASE("http parser: mutated valid requests never break the parser's guarantees", "[prop]") {
  rc::prop("mutate(format(requests)) keeps every guarantee", [] {
    std::string stream;
    const int count = *rc::gen::inRange(1, 4);
    for (int i = 0; i < count; ++i) stream += format_request(random_request());
    check_any_split(mutate(stream), random_limits());
  });
}

TEST_CASE("http parser: a formatted request parses back to an equal request", "[prop]") {
  rc::prop("parse(format(request)) == request, split anywhere", [] {
    const Request request = random_request();
    const FeedResult result = feed(format_request(request), random_chunks());
    RC_ASSERT(result.violation.empty());
    RC_ASSERT(result.outcomes == std::vector<RequestOutcome>{request});
  });
  rc::prop("pipelined requests parse back in order", [] {
    std::vector<RequestOutcome> expected;
    std::string stream;
    const int count = *rc::gen::inRange(1, 6);
    for (int i = 0; i < count; ++i) {
      Request r = random_request();
      stream += format_request(r);
      expected.emplace_back(std::move(r));
    }
    const FeedResult result = feed(stream, random_chunks());
    RC_ASSERT(result.violation.empty());
    RC_ASSERT(result.outcomes == expected);
  });
}
