// RapidCheck on the parser: any bytes, split anywhere, keep its guarantees and give the same
// outcomes as one whole feed; and a formatted request parses back to itself.

#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstddef>
#include <limits>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "components/kv/protocol/parser.h"
#include "protocol_test_support.h"

using namespace doppel::kv;
using namespace doppel::kv::test;

// How RapidCheck shows a counterexample's verbs and outcomes (found by argument-dependent
// lookup; without them it prints "<???>").
namespace doppel::kv {
static void showValue(Verb verb, std::ostream& os) {
  os << verb_name(verb);
}
static void showValue(const ParseOutcome& outcome, std::ostream& os) {
  os << test::describe(outcome);
}
}  // namespace doppel::kv

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
      "get ",   "gets ",     "gat ",  "set ",       "cas ",    "delete ",     "incr ",
      "touch ", "flush_all", "stats", "verbosity ", "version", "quit",        "noreply",
      " ",      " ",         "0",     "1",          "5",       "-1",          "k",
      "key ",   "\r\n",      "\r\n",  "\n",         "\r",      "99999999999", std::string(150, 'x'),
      "mg ",    "ms ",       "md ",   "ma ",        "mn",      "me ",         " v",
      " q",     " T5",       " O1",   " b",         " MA"};
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

// The flags each meta command takes (meta.cc's flags_of, P and L aside), and which of them put
// something in the reply.
std::string_view meta_flags_of(Verb verb) {
  switch (verb) {
    case Verb::mg:
      return "bcfhkOqstuvNRT";
    case Verb::ms:
      return "bcCFIkOqTM";
    case Verb::md:
      return "bCIkOqT";
    case Verb::ma:
      return "bCNJDTMqtcvkO";
    case Verb::me:
      return "b";
    default:
      return "";
  }
}
constexpr std::string_view kReturnedFlags = "cfhkOst";

// The letters some meta command takes (P and L, proxy hints, included). One that `verb` does not
// take is ignored by it once its token reads well; but mg refuses "l" (meta.cc).
constexpr std::string_view kEveryMetaFlag = "bcfhklOqstuvNRTCFIMJDPL";

std::string ignored_letters_of(Verb verb) {
  std::string letters;
  for (const char letter : kEveryMetaFlag) {
    const bool taken = meta_flags_of(verb).find(letter) != std::string_view::npos;
    if (!taken && !(verb == Verb::mg && letter == 'l')) letters += letter;
  }
  return letters;
}

// A token that reads well for `letter`, a flag the command does not take: a number of the flag's
// type for N, T, R (int64), C, J, D (uint64) and F (uint32), one character after M (whatever
// mode: a command without M does not check it), any token bytes after another letter.
std::string random_ignored_token(char letter) {
  std::string token(1, letter);
  switch (letter) {
    case 'N':
    case 'T':
    case 'R':
      return token + std::to_string(random_number<std::int64_t>());
    case 'C':
    case 'J':
    case 'D':
      return token + std::to_string(random_number<std::uint64_t>());
    case 'F':
      return token + std::to_string(random_number<std::uint32_t>());
    case 'M':
      return token + static_cast<char>(*rc::gen::inRange(0x21, 0x7f));
    default: {
      const int size = *rc::gen::inRange(0, 9);
      for (int b = 0; b < size; ++b) token += static_cast<char>(*rc::gen::inRange(0x21, 0x7f));
      return token;
    }
  }
}

// A token me ignores: me reads no flag but b, so any bytes but a line end or a space, any
// number of times; b is left out (memcached's me takes b only as the token right after the key).
std::string random_me_ignored_token() {
  std::string token;
  const int size = *rc::gen::inRange(1, 9);
  while (static_cast<int>(token.size()) < size) {
    const auto byte = static_cast<char>(*rc::gen::inRange(1, 256));
    if (byte == ' ' || byte == '\r' || byte == '\n' || (token.empty() && byte == 'b')) continue;
    token += byte;
  }
  return token;
}

// Any bytes: what "b" is for.
std::string random_binary_key(std::size_t key_bytes_max) {
  const std::size_t size = *rc::gen::inRange<std::size_t>(1, key_bytes_max + 1);
  std::string key;
  for (std::size_t i = 0; i < size; ++i) key += static_cast<char>(*rc::gen::inRange(0, 256));
  return key;
}

// Valid MetaFlags for r.verb: each flag it takes at most once, the returned letters in a random
// order, an opaque of token bytes (at most 31, which memcached and we both take).
void fill_random_meta(Request& r, const ProtocolLimits& limits) {
  if (r.verb == Verb::mn) return;
  const std::string_view allowed = meta_flags_of(r.verb);
  const auto takes = [&](char letter) {
    return allowed.find(letter) != std::string_view::npos && *rc::gen::arbitrary<bool>();
  };
  MetaFlags& m = r.meta;
  m.base64_key = takes('b');
  if (m.base64_key) {
    // The key is held to the limit as sent: 4 base64 bytes for every 3 of the key.
    const std::size_t decoded_max = limits.key_bytes_max / 4 * 3;
    r.keys.push_back(*rc::gen::arbitrary<bool>() ? random_binary_key(decoded_max)
                                                 : random_key(decoded_max));
  } else {
    r.keys.push_back(random_key(limits.key_bytes_max));
  }
  for (const char letter : kReturnedFlags) {
    if (takes(letter)) m.returned += letter;
  }
  for (std::size_t i = m.returned.size(); i > 1; --i) {  // Fisher-Yates
    std::swap(m.returned[i - 1], m.returned[*rc::gen::inRange<std::size_t>(0, i)]);
  }
  if (m.returned.find('O') != std::string::npos) {
    const std::size_t size = *rc::gen::inRange<std::size_t>(0, MetaFlags::kOpaqueBytesMax);
    for (std::size_t i = 0; i < size; ++i) {
      m.opaque += static_cast<char>(*rc::gen::inRange(0x21, 0x7f));
    }
  }
  m.quiet = takes('q');
  m.no_bump = takes('u');
  m.value = takes('v');
  m.invalidate = takes('I');
  if (takes('T')) m.ttl = random_number<std::int64_t>();
  if (takes('N')) m.vivify_ttl = random_number<std::int64_t>();
  if (takes('R')) m.recache_s = random_number<std::int64_t>();
  if (takes('C')) m.compare_cas = random_number<std::uint64_t>();
  if (takes('F')) m.client_flags = random_number<std::uint32_t>();
  if (takes('J')) m.initial = random_number<std::uint64_t>();
  if (takes('D')) m.delta = random_number<std::uint64_t>();
  if (takes('M')) m.mode = *rc::gen::elementOf(std::string(r.verb == Verb::ms ? "EAPRS" : "I+D-"));
  if (r.verb == Verb::ms) r.data = *rc::gen::container<std::string>(rc::gen::arbitrary<char>());
}

// Fills the fields `request.verb` uses, leaving the others at their defaults.
void fill_random_arguments(Request& r, const ProtocolLimits& limits) {
  if (is_meta(r.verb)) {
    fill_random_meta(r, limits);
    return;
  }
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

// A random valid request within the default limits, of any verb, meta commands included. The
// verb is uniform at every size (inRange narrows while the size is small, which would keep the
// last verbs, the meta commands, for the last runs).
Request random_request() {
  const int verb = *rc::gen::resize(100, rc::gen::inRange(0, int(kLastVerb) + 1));
  Request request{.verb = static_cast<Verb>(verb)};
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

// memcached 1.6.18 counts a meta line's tokens right after its key's length: 20 or more (the
// verb, the key, ms's datalen and every flag) are refused whatever they hold, mg's in its own
// words, and ms's data block is not discarded but read as the next command line.
TEST_CASE("kv protocol: a meta line of 20 tokens or more is refused before any flag is read",
          "[prop]") {
  rc::prop("options flags too long, then the next line parses", [] {
    const Verb verb = *rc::gen::element(Verb::mg, Verb::ms, Verb::md, Verb::ma);
    const auto separator = [] { return std::string(*rc::gen::inRange<std::size_t>(1, 4), ' '); };
    std::string line = std::string(verb_name(verb)) + separator() + random_key(250);
    // After the key: 18 or more tokens of any bytes but a space or a line end (ms's datalen is
    // the first of them).
    const int more = *rc::gen::inRange(18, 40);
    for (int i = 0; i < more; ++i) {
      line += separator();
      const int size = *rc::gen::inRange(1, 9);
      for (int b = 0; b < size; ++b) {
        const auto byte = static_cast<char>(*rc::gen::inRange(1, 256));
        line += byte == ' ' || byte == '\r' || byte == '\n' ? 'x' : byte;
      }
    }
    if (*rc::gen::arbitrary<bool>()) line += separator();
    const std::string words = verb == Verb::mg ? "CLIENT_ERROR options flags are too long"
                                               : "CLIENT_ERROR options flags too long";
    const FeedResult result = feed(line + "\r\nmn\r\n", random_chunks());
    RC_ASSERT(result.violation.empty());
    const std::vector<ParseOutcome> expected = {error_outcome(words), Request{.verb = Verb::mn}};
    RC_ASSERT(result.outcomes == expected);
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
  // To me, any token but b after the key changes nothing, however often (me reads no other flag).
  rc::prop("flags the command does not take, with tokens that read well, change nothing", [] {
    Request request{.verb = *rc::gen::element(Verb::mg, Verb::ms, Verb::md, Verb::ma, Verb::me)};
    fill_random_arguments(request, ProtocolLimits{});
    const std::string text = format({request});
    const std::size_t line_end = text.find("\r\n");
    std::vector<std::string> tokens;
    std::string_view line = std::string_view(text).substr(0, line_end);
    for (std::size_t space = line.find(' '); space != std::string_view::npos;
         space = line.find(' ')) {
      tokens.emplace_back(line.substr(0, space));
      line.remove_prefix(space + 1);
    }
    tokens.emplace_back(line);
    // The verb, the key and ms's datalen stay in front, and me's b right after its key (where
    // memcached reads it); at most 19 tokens in all (20 are too many).
    const bool me = request.verb == Verb::me;
    const std::size_t fixed = request.verb == Verb::ms || (me && request.meta.base64_key) ? 3 : 2;
    RC_ASSERT(tokens.size() >= fixed && tokens.size() <= 19);
    const bool me_b_after_key =
        !me || !request.meta.base64_key || (tokens.size() > 2 && tokens[2] == "b");
    RC_ASSERT(me_b_after_key);
    std::string letters = ignored_letters_of(request.verb);
    for (std::size_t i = letters.size(); i > 1; --i) {  // Fisher-Yates
      std::swap(letters[i - 1], letters[*rc::gen::inRange<std::size_t>(0, i)]);
    }
    // Each ignored letter at most once (a second is a duplicate flag); to me, any tokens.
    const std::size_t room = me ? 19 - tokens.size() : std::min(letters.size(), 19 - tokens.size());
    const std::size_t added = *rc::gen::inRange<std::size_t>(0, room + 1);
    for (std::size_t i = 0; i < added; ++i) {
      std::string token = me ? random_me_ignored_token() : random_ignored_token(letters[i]);
      const std::size_t at = *rc::gen::inRange<std::size_t>(fixed, tokens.size() + 1);
      tokens.insert(tokens.begin() + static_cast<std::ptrdiff_t>(at), std::move(token));
    }
    std::string padded;
    for (const std::string& token : tokens) padded += (padded.empty() ? "" : " ") + token;
    padded += text.substr(line_end);
    const FeedResult result = feed(padded, random_chunks());
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
