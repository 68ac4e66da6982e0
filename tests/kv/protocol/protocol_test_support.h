#pragma once
// Helpers for the protocol tests: feed a stream to a Parser the way a server does, check the
// parser's guarantees on every call, and print outcomes readably when a test fails.

#include <catch2/catch.hpp>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "components/kv/protocol/parser.h"

namespace doppel::kv::test {

// Seastar's memcached tests feed every command under each of these split sizes.
inline const std::vector<std::size_t> kSplitSizes = {100000, 1000, 100, 10, 5, 2, 1};

struct FeedResult {
  std::vector<ParseOutcome> outcomes;  // every outcome but NeedMoreBytes, in order
  std::string violation;               // the first broken guarantee, or "" when none
};

// Appends `stream` to one receive buffer in chunks of `chunk_sizes` (cycled; each at least 1)
// and, after each chunk, calls parse() until it needs more bytes, dropping what it used. Stops at
// an outcome that closes the connection. Checks on every call that the parser used no more than
// it was given, that a Request or an error used at least one byte, that NeedMoreBytes left no
// "\n" behind, and that only a close_connection error closes the parser.
FeedResult feed(Parser& parser, std::string_view stream,
                const std::vector<std::size_t>& chunk_sizes);

// feed() with a fresh parser.
FeedResult feed(std::string_view stream, const std::vector<std::size_t>& chunk_sizes,
                const ProtocolLimits& limits = {});

// Printable forms, with control bytes escaped.
std::string escape(std::string_view bytes);
std::string describe(const Request& request);
std::string describe(const MetaFlags& meta);
std::string describe(const ParseOutcome& outcome);

// Shorthands for the expected outcomes.
ParseOutcome error_outcome(std::string_view reply_line, bool noreply = false);
ParseOutcome close_outcome(std::string_view reply_line);

}  // namespace doppel::kv::test

namespace Catch {
template <>
struct StringMaker<doppel::kv::Request> {
  static std::string convert(const doppel::kv::Request& r) { return doppel::kv::test::describe(r); }
};
template <>
struct StringMaker<doppel::kv::ParseOutcome> {
  static std::string convert(const doppel::kv::ParseOutcome& outcome) {
    return doppel::kv::test::describe(outcome);
  }
};
}  // namespace Catch
