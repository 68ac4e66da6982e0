// RapidCheck on the parser: any bytes, split anywhere, keep its guarantees and give the same
// outcomes as one whole feed; and a formatted request parses back to itself.

#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <catch2/catch.hpp>
#include <limits>
#include <string>
#include <vector>

#include "components/kv/protocol/parser.h"
#include "protocol_test_support.h"

using namespace doppel::kv;
using namespace doppel::kv::test;

namespace {

// Small limits reach every limit with short inputs; the defaults are what a server runs with.
ProtocolLimits random_limits() {
  if (*rc::gen::arbitrary<bool>()) return ProtocolLimits{};
  return ProtocolLimits{.line_bytes_max = 140,
                        .retrieval_line_bytes_max = 200,
                        .keys_per_request_max = 4,
                        .key_bytes_max = 8,
                        .value_bytes_max = 16,
                        .bytes_field_max = 1000};
}

// Chunk sizes for a random split of a stream (cycled by feed()).
std::vector<std::size_t> random_chunks() {
  return *rc::gen::nonEmpty(
      rc::gen::container<std::vector<std::size_t>>(rc::gen::inRange<std::size_t>(1, 40)));
}

// Bytes that look like the protocol often enough to get past the verb.
std::string random_protocolish_bytes() {
  static const std::vector<std::string> kPieces = {
      "get ",      "gets ",   "gat ",        "set ",
      "cas ",      "delete ", "incr ",       "touch ",
      "flush_all", "stats",   "verbosity ",  "version",
      "quit",      "noreply", " ",           " ",
      "0",         "1",       "5",           "-1",
      "k",         "key ",    "\r\n",        "\r\n",
      "\n",        "\r",      "99999999999", std::string(150, 'x')};
  std::string bytes;
  const int pieces = *rc::gen::inRange(0, 60);
  for (int i = 0; i < pieces; ++i) {
    if (*rc::gen::inRange(0, 4) == 0) {
      bytes += static_cast<char>(*rc::gen::inRange(0, 256));
    } else {
      bytes += *rc::gen::elementOf(kPieces);
    }
  }
  return bytes;
}

char random_key_byte() {
  const int byte = *rc::gen::oneOf(rc::gen::inRange(0x21, 0x7f), rc::gen::inRange(0x80, 0x100));
  return static_cast<char>(byte);
}

std::string random_key(std::size_t key_bytes_max) {
  const std::size_t size = *rc::gen::oneOf(rc::gen::inRange<std::size_t>(1, 12),
                                           rc::gen::inRange<std::size_t>(1, key_bytes_max + 1));
  std::string key;
  for (std::size_t i = 0; i < size; ++i) key += random_key_byte();
  return key;
}

template <class T>
T random_number() {
  return *rc::gen::oneOf(
      rc::gen::arbitrary<T>(),
      rc::gen::element(std::numeric_limits<T>::min(), std::numeric_limits<T>::max(), T{0}));
}

// Fills the fields `request.verb` uses, leaving the others at their defaults.
void fill_random_arguments(Request& r, const ProtocolLimits& limits) {
  if (is_retrieval(r.verb)) {
    const int keys = *rc::gen::inRange(1, 6);
    for (int i = 0; i < keys; ++i) r.keys.push_back(random_key(limits.key_bytes_max));
    if (r.verb == Verb::gat || r.verb == Verb::gats) r.exptime = random_number<std::int64_t>();
    return;
  }
  const bool keyed = is_storage(r.verb) || r.verb == Verb::delete_ || r.verb == Verb::incr ||
                     r.verb == Verb::decr || r.verb == Verb::touch;
  if (keyed) r.keys.push_back(random_key(limits.key_bytes_max));
  if (is_storage(r.verb)) {
    r.flags = random_number<std::uint32_t>();
    r.exptime = random_number<std::int64_t>();
    r.data = *rc::gen::container<std::string>(rc::gen::arbitrary<char>());
    if (r.verb == Verb::cas) r.cas_unique = random_number<std::uint64_t>();
  }
  if (r.verb == Verb::incr || r.verb == Verb::decr) r.delta = random_number<std::uint64_t>();
  if (r.verb == Verb::touch) r.exptime = random_number<std::int64_t>();
  if (r.verb == Verb::flush_all && *rc::gen::arbitrary<bool>()) {
    r.delay = random_number<std::int64_t>();
  }
  if (r.verb == Verb::verbosity) r.verbosity = random_number<std::uint32_t>();
  if (r.verb == Verb::lru_crawler) {
    r.subcommand = *rc::gen::arbitrary<bool>() ? "metadump all" : "metadump 1,3";
  }
  if (r.verb == Verb::stats) {
    const int words = *rc::gen::inRange(0, 3);
    for (int i = 0; i < words; ++i) {
      r.stats_group += (i > 0 ? " " : "") + random_key(12);
    }
  }
}

// A random valid request within the default limits.
Request random_request() {
  Request request{.verb = static_cast<Verb>(*rc::gen::inRange(0, int(Verb::quit) + 1))};
  fill_random_arguments(request, ProtocolLimits{});
  if (takes_noreply(request.verb)) request.noreply = *rc::gen::arbitrary<bool>();
  return request;
}

std::string format(const std::vector<Request>& requests) {
  std::string text;
  for (const Request& r : requests) append_request(text, r);
  return text;
}

// Flips, overwrites, inserts and cuts bytes, as the trace file fuzz does.
std::string mutate(std::string bytes) {
  const int edits = *rc::gen::inRange(1, 6);
  for (int e = 0; e < edits && !bytes.empty(); ++e) {
    const int kind = *rc::gen::inRange(0, 5);
    const std::size_t at = *rc::gen::inRange<std::size_t>(0, bytes.size());
    const auto any_byte = static_cast<char>(*rc::gen::inRange(0, 256));
    if (kind == 0) bytes[at] = static_cast<char>(bytes[at] ^ (1 << *rc::gen::inRange(0, 8)));
    if (kind == 1) bytes[at] = any_byte;
    if (kind == 2) bytes.insert(at, 1, *rc::gen::element(' ', '\r', '\n', '0', any_byte));
    if (kind == 3) bytes.erase(at, 1);
    if (kind == 4) bytes.resize(at);
  }
  return bytes;
}

// The guarantees, and the same outcomes whole as split at random.
void check_any_split(const std::string& stream, const ProtocolLimits& limits) {
  const FeedResult whole = feed(stream, {stream.size() + 1}, limits);
  RC_ASSERT(whole.violation.empty());
  const FeedResult split = feed(stream, random_chunks(), limits);
  RC_ASSERT(split.violation.empty());
  RC_ASSERT(split.outcomes == whole.outcomes);
}

}  // namespace

TEST_CASE("kv protocol: random bytes split anywhere never break the parser's guarantees",
          "[prop]") {
  rc::prop("same outcomes whole and split, progress on every call", [] {
    const ProtocolLimits limits = random_limits();
    check_any_split(random_protocolish_bytes(), limits);
  });
  rc::prop("arbitrary bytes",
           [](const std::string& bytes) { check_any_split(bytes, random_limits()); });
}

TEST_CASE("kv protocol: mutated valid requests never break the parser's guarantees", "[prop]") {
  rc::prop("mutate(format(requests)) keeps every guarantee", [] {
    std::vector<Request> requests(*rc::gen::inRange<std::size_t>(1, 5));
    for (Request& r : requests) r = random_request();
    check_any_split(mutate(format(requests)), random_limits());
  });
}

TEST_CASE("kv protocol: a formatted request parses back to an equal request", "[prop]") {
  rc::prop("parse(format(request)) == request, split anywhere", [] {
    const Request request = random_request();
    const std::string text = format({request});
    const FeedResult result = feed(text, random_chunks());
    RC_ASSERT(result.violation.empty());
    RC_ASSERT(result.outcomes == std::vector<ParseOutcome>{request});
  });
  rc::prop("pipelined requests parse back in order", [] {
    std::vector<Request> requests(*rc::gen::inRange<std::size_t>(1, 8));
    for (Request& r : requests) r = random_request();
    const FeedResult result = feed(format(requests), random_chunks());
    RC_ASSERT(result.violation.empty());
    RC_ASSERT(result.outcomes == std::vector<ParseOutcome>(requests.begin(), requests.end()));
  });
}
