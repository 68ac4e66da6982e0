#pragma once
// Helpers for the HTTP tests: feed a stream to a parser the way the server and the client do,
// check the parsers' guarantees on every call, and print outcomes readably when a test fails.

#include <catch2/catch.hpp>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "components/http/parser.h"

namespace doppel::http::test {

// Seastar's memcached tests feed every command under each of these split sizes.
inline const std::vector<std::size_t> kSplitSizes = {100000, 1000, 100, 10, 5, 2, 1};

struct FeedResult {
  std::vector<RequestOutcome> outcomes;  // every outcome but NeedMoreBytes, in order
  std::string violation;                 // the first broken guarantee, or "" when none
};

// Appends `stream` to one receive buffer in chunks of `chunk_sizes` (cycled) and, after each
// chunk, calls parse() until it needs more bytes, dropping what it used. Stops at an error.
// Checks on every call that the parser used no more than it was given, that every outcome but
// NeedMoreBytes used at least one byte, and that what NeedMoreBytes leaves is an incomplete head
// within the limits.
FeedResult feed(std::string_view stream, const std::vector<std::size_t>& chunk_sizes,
                const HttpLimits& limits = {});

// The response parser fed the same way, expecting one response per entry of `to_head` (true:
// it answers a HEAD). Its outcomes as text lines: "head 200 OK", "body <bytes>" (the pieces
// of one body joined), "end", "error 400 <reason>"; and "closed" where finish() was called at the
// end.
struct ResponseFeedResult {
  std::vector<std::string> events;
  std::string violation;
};
ResponseFeedResult feed_responses(std::string_view stream,
                                  const std::vector<std::size_t>& chunk_sizes,
                                  const std::vector<bool>& to_head, const HttpLimits& limits = {});

// Printable forms, with control bytes escaped.
std::string escape(std::string_view bytes);
std::string describe(const Request& request);
std::string describe(const RequestOutcome& outcome);

}  // namespace doppel::http::test

namespace Catch {
template <>
struct StringMaker<doppel::http::Request> {
  static std::string convert(const doppel::http::Request& r) {
    return doppel::http::test::describe(r);
  }
};
template <>
struct StringMaker<doppel::http::RequestOutcome> {
  static std::string convert(const doppel::http::RequestOutcome& outcome) {
    return doppel::http::test::describe(outcome);
  }
};
}  // namespace Catch
