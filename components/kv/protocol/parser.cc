// The memcached text protocol parser: one pass over the bytes, no allocation per byte (one per
// key and one per value), no exceptions.
//
// Where memcached 1.6 (proto_text.c) and protocol.txt leave room, or where we differ on purpose:
// - Lines end in "\n", with or without "\r" before it. Tokens are split at runs of spaces; tabs
//   and other bytes belong to tokens. Verbs are case-sensitive.
// - Numbers are plain decimal digits (a leading "-" for the signed ones: exptime, delay); no "+",
//   no spaces, no overflow. memcached's strtoul() takes a little more.
// - A key is 1..key_bytes_max bytes. protocol.txt forbids control characters in keys, but
//   memcached checks only the length, and real clients (memcaslap) send keys with control bytes;
//   so by default only NUL, CR and LF are refused, and ProtocolLimits::strict_keys refuses every
//   byte below 0x21 and 0x7f, as protocol.txt says.
// - A line longer than its limit closes the connection, whether or not its "\n" has arrived,
//   so the outcome does not depend on how the stream was split. Only "get ", "gets ", "gat " and
//   "gats " at the very start of a line select the longer limit.
// - A storage line with a wrong argument (key, flags, exptime, cas) but a readable bytes field
//   discards its bytes + 2 of data, so the connection stays in sync. memcached discards only for
//   a value that is too large and otherwise reads the data block as a command line.
// - "gat <exptime>" without keys is "ERROR" (memcached answers "END").
// - An unknown verb on a line whose last token begins "HTTP/" (an HTTP request line) closes the
//   connection with no reply, as memcached.
// - A line over its limit is answered "CLIENT_ERROR line too long" before the close (memcached
//   closes without a word); more keys than keys_per_request_max is "CLIENT_ERROR too many keys"
//   (memcached has no such limit).
// - A bad data chunk ("\r\n" missing after the value) discards up to and including the next "\n",
//   starting at the first byte that should have been "\r\n".
// - An extra argument where "noreply" may stand but is not "noreply" is ignored, as memcached
//   ("set k 0 0 1 x" is a set); for delete it is the usage error, as memcached.
// - noreply and errors: memcached's out_string() drops every reply of a command whose last token
//   is "noreply", errors included (a wrong argument count answers "ERROR" before that check).
//   We report the error with ProtocolError::noreply set and let the server choose.

#include "components/kv/protocol/parser.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <optional>
#include <utility>

#include "components/kv/protocol/meta.h"
#include "runtime/assert.h"

namespace doppel::kv {
namespace {

constexpr std::string_view kError = "ERROR";
constexpr std::string_view kBadFormat = "CLIENT_ERROR bad command line format";
constexpr std::string_view kBadDelete =
    "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]";
constexpr std::string_view kBadExptime = "CLIENT_ERROR invalid exptime argument";
constexpr std::string_view kBadDelta = "CLIENT_ERROR invalid numeric delta argument";
constexpr std::string_view kBadChunk = "CLIENT_ERROR bad data chunk";
constexpr std::string_view kTooManyKeys = "CLIENT_ERROR too many keys";
constexpr std::string_view kTooLarge = "SERVER_ERROR object too large for cache";
constexpr std::string_view kLineTooLong = "CLIENT_ERROR line too long";

// Room enough for a non-retrieval line beyond its key: a cas with every number at its widest and
// "noreply" needs 98 bytes ("cas", 4 numbers of at most 20 digits, 6 spaces, "noreply\r\n").
constexpr std::size_t kLineBytesBeyondKey = 128;

ProtocolError error(std::string_view line, bool noreply = false) {
  return ProtocolError{std::string(line), false, noreply};
}

// The next token of `*rest`, or "" when none is left. Runs of spaces separate tokens.
std::string_view next_token(std::string_view* rest) {
  const std::size_t begin = rest->find_first_not_of(' ');
  if (begin == std::string_view::npos) {
    *rest = {};
    return {};
  }
  std::size_t end = rest->find(' ', begin);
  if (end == std::string_view::npos) end = rest->size();
  const std::string_view token = rest->substr(begin, end - begin);
  rest->remove_prefix(end);
  return token;
}

// The first tokens of a line, for the commands with a fixed number of arguments.
struct Tokens {
  static constexpr std::size_t kCountMax = 8;  // one more than the longest command (cas noreply)
  std::array<std::string_view, kCountMax> items{};
  std::size_t count = 0;
  bool overflow = false;  // the line has more than kCountMax tokens

  std::string_view operator[](std::size_t i) const {
    DOPPEL_ASSERT(i < count);
    return items[i];
  }
  // As memcached's set_noreply_maybe(): the last token, whatever its position, is "noreply".
  bool last_is_noreply() const { return count > 1 && items[count - 1] == "noreply"; }
  bool count_is(std::size_t low, std::size_t high) const {
    return !overflow && count >= low && count <= high;
  }
};

Tokens tokenize(std::string_view line) {
  Tokens tokens;
  for (std::string_view t = next_token(&line); !t.empty(); t = next_token(&line)) {
    if (tokens.count == Tokens::kCountMax) {
      tokens.overflow = true;
      break;
    }
    tokens.items[tokens.count++] = t;
  }
  return tokens;
}

// A whole token as a decimal number of type T (digits only; "-" first for signed T).
template <class T>
bool parse_number(std::string_view token, T* out) {
  if (token.empty() || token.front() == '+') return false;
  const char* end = token.data() + token.size();
  const auto [ptr, ec] = std::from_chars(token.data(), end, *out);
  return ec == std::errc{} && ptr == end;
}

bool valid_key(std::string_view key, std::size_t key_bytes_max, bool strict) {
  if (key.empty() || key.size() > key_bytes_max) return false;
  for (const char c : key) {
    const auto byte = static_cast<unsigned char>(c);
    if (strict ? (byte < 0x21 || byte == 0x7f) : (byte == 0 || byte == '\r' || byte == '\n'))
      return false;
  }
  return true;
}

std::optional<Verb> find_verb(std::string_view word) {
  for (int v = 0; v <= static_cast<int>(kLastVerb); ++v) {
    const auto verb = static_cast<Verb>(v);
    if (verb_name(verb) == word) return verb;
  }
  return std::nullopt;
}

// get <key>* ; gets <key>* ; gat <exptime> <key>* ; gats <exptime> <key>*
ParseOutcome parse_retrieval(Verb verb, std::string_view args, const ProtocolLimits& limits) {
  Request request{.verb = verb};
  if (verb == Verb::gat || verb == Verb::gats) {
    const std::string_view exptime = next_token(&args);
    if (exptime.empty()) return error(kError);
    if (!parse_number(exptime, &request.exptime)) return error(kBadExptime);
  }
  for (std::string_view key = next_token(&args); !key.empty(); key = next_token(&args)) {
    if (request.keys.size() == limits.keys_per_request_max) return error(kTooManyKeys);
    if (!valid_key(key, limits.key_bytes_max, limits.strict_keys)) return error(kBadFormat);
    request.keys.emplace_back(key);
  }
  if (request.keys.empty()) return error(kError);
  return request;
}

// delete <key> [0] [noreply]: the "0" is a legacy hold time, accepted and ignored.
ParseOutcome parse_delete(const Tokens& t, const ProtocolLimits& limits) {
  if (!t.count_is(2, 4)) return error(kError);
  const bool noreply = t.count > 2 && t.last_is_noreply();
  if (t.count > 2) {
    const bool hold_is_zero = t[2] == "0";
    const bool valid =
        (t.count == 3 && (hold_is_zero || noreply)) || (t.count == 4 && hold_is_zero && noreply);
    if (!valid) return error(kBadDelete, noreply);
  }
  if (!valid_key(t[1], limits.key_bytes_max, limits.strict_keys)) return error(kBadFormat, noreply);
  return Request{.verb = Verb::delete_, .keys = {std::string(t[1])}, .noreply = noreply};
}

// incr <key> <value> [noreply] ; decr <key> <value> [noreply]
ParseOutcome parse_arithmetic(Verb verb, const Tokens& t, const ProtocolLimits& limits) {
  if (!t.count_is(3, 4)) return error(kError);
  const bool noreply = t.last_is_noreply();
  if (!valid_key(t[1], limits.key_bytes_max, limits.strict_keys)) return error(kBadFormat, noreply);
  Request request{.verb = verb, .keys = {std::string(t[1])}, .noreply = noreply};
  if (!parse_number(t[2], &request.delta)) return error(kBadDelta, noreply);
  return request;
}

// touch <key> <exptime> [noreply]
ParseOutcome parse_touch(const Tokens& t, const ProtocolLimits& limits) {
  if (!t.count_is(3, 4)) return error(kError);
  const bool noreply = t.last_is_noreply();
  if (!valid_key(t[1], limits.key_bytes_max, limits.strict_keys)) return error(kBadFormat, noreply);
  Request request{.verb = Verb::touch, .keys = {std::string(t[1])}, .noreply = noreply};
  if (!parse_number(t[2], &request.exptime)) return error(kBadExptime, noreply);
  return request;
}

// flush_all [delay] [noreply]
ParseOutcome parse_flush_all(const Tokens& t) {
  if (!t.count_is(1, 3)) return error(kError);
  const bool noreply = t.last_is_noreply();
  Request request{.verb = Verb::flush_all, .noreply = noreply};
  if (t.count != (noreply ? 2u : 1u)) {
    std::int64_t delay = 0;
    if (!parse_number(t[1], &delay)) return error(kBadExptime, noreply);
    request.delay = delay;
  }
  return request;
}

// verbosity <level> [noreply]
ParseOutcome parse_verbosity(const Tokens& t) {
  if (!t.count_is(2, 3)) return error(kError);
  const bool noreply = t.last_is_noreply();
  Request request{.verb = Verb::verbosity, .noreply = noreply};
  if (!parse_number(t[1], &request.verbosity)) return error(kBadFormat, noreply);
  return request;
}

// stats [group ...]: the arguments are kept for the server, joined by single spaces.
ParseOutcome parse_stats(std::string_view args) {
  Request request{.verb = Verb::stats};
  for (std::string_view t = next_token(&args); !t.empty(); t = next_token(&args)) {
    if (!request.stats_group.empty()) request.stats_group += ' ';
    request.stats_group += t;
  }
  return request;
}

// lru_crawler metadump <all|class,...>: the only crawler command we answer (memcached's others
// steer its background crawler, which a log-structured store does not have).
ParseOutcome parse_lru_crawler(std::string_view args) {
  Request request{.verb = Verb::lru_crawler};
  const std::string_view what = next_token(&args);
  const std::string_view classes = next_token(&args);
  if (what != "metadump" || classes.empty() || !next_token(&args).empty()) {
    return error(kBadFormat);
  }
  if (classes != "all" && classes.find_first_not_of("0123456789,") != std::string_view::npos) {
    return error(kBadFormat);
  }
  request.subcommand = "metadump " + std::string(classes);
  return request;
}

// " <number>", for append_request().
template <class T>
void append_argument(std::string& out, T number) {
  std::array<char, 24> digits;  // 20 digits and a sign at most
  const auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), number);
  DOPPEL_ASSERT(ec == std::errc{});
  out += ' ';
  out.append(digits.data(), end);
}

void append_argument(std::string& out, std::string_view word) {
  DOPPEL_ASSERT(!word.empty());
  out += ' ';
  out += word;
}

void append_key(std::string& out, const Request& request) {
  DOPPEL_ASSERT(request.keys.size() == 1);
  append_argument(out, std::string_view(request.keys.front()));
}

// Moves `*used` past `rest` up to and including its first "\n"; false when it has none (then
// all of `rest` is used).
bool discard_through_newline(std::string_view rest, std::size_t* used) {
  const std::size_t newline = rest.find('\n');
  if (newline == std::string_view::npos) {
    *used += rest.size();
    return false;
  }
  *used += newline + 1;
  return true;
}

}  // namespace

Parser::Parser(ProtocolLimits limits) : limits_(limits) {
  DOPPEL_ASSERT(limits_.key_bytes_max >= 1);
  DOPPEL_ASSERT(limits_.keys_per_request_max >= 1);
  DOPPEL_ASSERT_MSG(limits_.line_bytes_max >= limits_.key_bytes_max + kLineBytesBeyondKey,
                    "every valid command with a longest key must fit in a line");
  DOPPEL_ASSERT(limits_.retrieval_line_bytes_max >= limits_.line_bytes_max);
  DOPPEL_ASSERT(limits_.value_bytes_max <= limits_.bytes_field_max);
  DOPPEL_ASSERT(limits_.bytes_field_max <= std::numeric_limits<std::size_t>::max() - 2);
}

ParseOutcome Parser::parse(std::string_view input, std::size_t* consumed) {
  DOPPEL_ASSERT(consumed != nullptr);
  DOPPEL_ASSERT_MSG(state_ != State::closed, "parse() after an outcome that closes");
  std::size_t used = 0;
  // Every pass uses at least one byte, returns, or moves to a state that will do either.
  for (;;) {
    std::optional<ParseOutcome> outcome;
    const std::string_view rest = input.substr(used);
    switch (state_) {
      case State::line:
        outcome = step_line(rest, &used);
        break;
      case State::data:
        outcome = step_data(rest, &used);
        break;
      case State::data_cr:
      case State::data_lf:
        outcome = step_data_end(rest, &used);
        break;
      case State::swallow:
        outcome = step_swallow(rest, &used);
        break;
      case State::resync:
        outcome = step_resync(rest, &used);
        break;
      case State::closed:
        DOPPEL_ASSERT(false);
        break;
    }
    if (outcome.has_value()) {
      DOPPEL_ASSERT(used <= input.size());
      *consumed = used;
      return std::move(*outcome);
    }
  }
}

std::optional<ParseOutcome> Parser::step_line(std::string_view rest, std::size_t* used) {
  DOPPEL_ASSERT(scanned_bytes_ <= rest.size());
  const std::size_t newline = rest.find('\n', scanned_bytes_);
  if (newline == std::string_view::npos) {
    // The line, once complete, will be at least one byte longer than what is here.
    if (rest.size() >= line_bytes_max_for(rest)) return close_for_long_line(rest, used);
    scanned_bytes_ = rest.size();
    return NeedMoreBytes{};
  }
  scanned_bytes_ = 0;
  std::string_view line = rest.substr(0, newline);
  if (newline + 1 > line_bytes_max_for(line)) return close_for_long_line(rest, used);
  *used += newline + 1;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  ParseOutcome outcome = parse_line(line);
  if (const auto* e = std::get_if<ProtocolError>(&outcome); e && e->close_connection) {
    *used += rest.size() - (newline + 1);  // nothing more is read from this connection
    state_ = State::closed;
    return outcome;
  }
  if (state_ == State::data) return std::nullopt;  // the line began a value: read it on
  return outcome;
}

std::optional<ParseOutcome> Parser::step_data(std::string_view rest, std::size_t* used) {
  if (remaining_bytes_ == 0) {
    state_ = State::data_cr;
    return std::nullopt;
  }
  if (rest.empty()) return NeedMoreBytes{};
  const std::size_t take =
      static_cast<std::size_t>(std::min<std::uint64_t>(rest.size(), remaining_bytes_));
  pending_.data.append(rest.data(), take);
  remaining_bytes_ -= take;
  *used += take;
  return std::nullopt;
}

std::optional<ParseOutcome> Parser::step_data_end(std::string_view rest, std::size_t* used) {
  if (rest.empty()) return NeedMoreBytes{};
  const char expected = state_ == State::data_cr ? '\r' : '\n';
  if (rest.front() != expected) {
    // Resync from this byte: it uses at least one byte, as it is there.
    const bool noreply = pending_.noreply;
    pending_ = Request{};
    state_ = discard_through_newline(rest, used) ? State::line : State::resync;
    return error(kBadChunk, noreply);
  }
  *used += 1;
  if (state_ == State::data_cr) {
    state_ = State::data_lf;
    return std::nullopt;
  }
  state_ = State::line;
  Request request = std::move(pending_);
  pending_ = Request{};
  return request;
}

std::optional<ParseOutcome> Parser::step_swallow(std::string_view rest, std::size_t* used) {
  const std::size_t take =
      static_cast<std::size_t>(std::min<std::uint64_t>(rest.size(), remaining_bytes_));
  remaining_bytes_ -= take;
  *used += take;
  if (remaining_bytes_ > 0) return NeedMoreBytes{};  // all of rest was discarded
  state_ = State::line;
  return std::nullopt;
}

std::optional<ParseOutcome> Parser::step_resync(std::string_view rest, std::size_t* used) {
  if (!discard_through_newline(rest, used)) return NeedMoreBytes{};
  state_ = State::line;
  return std::nullopt;
}

ParseOutcome Parser::parse_line(std::string_view line) {
  std::string_view args = line;
  const std::optional<Verb> verb = find_verb(next_token(&args));
  if (!verb.has_value()) {
    // "GET / HTTP/1.1": a browser, or a page's script, talking to the cache. memcached closes
    // such a connection without a word, so that a cross-protocol request cannot drive it.
    const Tokens t = tokenize(line);
    if (t.count >= 3 && t[t.count - 1].starts_with("HTTP/")) {
      return ProtocolError{std::string(), true, false};
    }
    return error(kError);  // an unknown verb, or an empty line
  }
  if (is_retrieval(*verb)) return parse_retrieval(*verb, args, limits_);
  if (is_storage(*verb)) return parse_storage(*verb, line);
  if (is_meta(*verb)) return parse_meta(*verb, args);
  switch (*verb) {
    case Verb::delete_:
      return parse_delete(tokenize(line), limits_);
    case Verb::incr:
    case Verb::decr:
      return parse_arithmetic(*verb, tokenize(line), limits_);
    case Verb::touch:
      return parse_touch(tokenize(line), limits_);
    case Verb::flush_all:
      return parse_flush_all(tokenize(line));
    case Verb::verbosity:
      return parse_verbosity(tokenize(line));
    case Verb::stats:
      return parse_stats(args);
    case Verb::lru_crawler:
      return parse_lru_crawler(args);
    default:
      return Request{.verb = *verb};  // version, quit: arguments ignored, as memcached
  }
}

// <verb> <key> <flags> <exptime> <bytes> [<cas unique>] [noreply]
ParseOutcome Parser::parse_storage(Verb verb, std::string_view line) {
  const Tokens t = tokenize(line);
  const std::size_t count = verb == Verb::cas ? 6 : 5;
  if (!t.count_is(count, count + 1)) return error(kError);
  const bool noreply = t.last_is_noreply();
  std::uint64_t bytes = 0;
  const bool bytes_ok = parse_number(t[4], &bytes) && bytes <= limits_.bytes_field_max;
  if (!valid_key(t[1], limits_.key_bytes_max, limits_.strict_keys)) {
    return refuse_storage(bytes_ok ? bytes : 0, bytes_ok, error(kBadFormat, noreply));
  }
  Request request{.verb = verb, .keys = {std::string(t[1])}, .noreply = noreply};
  const bool fields_ok = parse_number(t[2], &request.flags) &&
                         parse_number(t[3], &request.exptime) &&
                         (verb != Verb::cas || parse_number(t[5], &request.cas_unique));
  if (!fields_ok || !bytes_ok) return refuse_storage(bytes, bytes_ok, error(kBadFormat, noreply));
  if (bytes > limits_.value_bytes_max) {
    ProtocolError refusal = error(kTooLarge, noreply);
    if (verb == Verb::set) refusal.drop_key = request.keys[0];
    return refuse_storage(bytes, bytes_ok, std::move(refusal));
  }
  request.data.reserve(static_cast<std::size_t>(bytes));
  pending_ = std::move(request);
  remaining_bytes_ = bytes;
  state_ = State::data;
  return NeedMoreBytes{};  // not returned: step_line reads the value on
}

// mg, md, ma, mn, me are whole in their line; ms reads its data block as a storage command does,
// and discards it when the line is refused but its <datalen> was readable (as memcached).
ParseOutcome Parser::parse_meta(Verb verb, std::string_view args) {
  MetaLine line = parse_meta_line(verb, args, limits_);
  if (auto* refused = std::get_if<ProtocolError>(&line.outcome)) {
    if (!line.data_bytes) return std::move(*refused);
    return refuse_storage(*line.data_bytes, true, std::move(*refused));
  }
  Request& request = std::get<Request>(line.outcome);
  if (verb != Verb::ms) return std::move(request);
  const std::uint64_t bytes = *line.data_bytes;
  if (bytes > limits_.value_bytes_max) {
    ProtocolError refusal = error(kTooLarge);
    // Whatever the mode, as memcached ("avoid stale data persisting in cache because we
    // failed alloc"); the classic append, prepend and cas keep it.
    refusal.drop_key = request.keys[0];
    return refuse_storage(bytes, true, std::move(refusal));
  }
  request.data.reserve(static_cast<std::size_t>(bytes));
  pending_ = std::move(request);
  remaining_bytes_ = bytes;
  state_ = State::data;
  return NeedMoreBytes{};  // not returned: step_line reads the value on
}

ParseOutcome Parser::refuse_storage(std::uint64_t bytes, bool bytes_ok, ProtocolError refusal) {
  if (bytes_ok) {
    state_ = State::swallow;
    remaining_bytes_ = bytes + 2;  // the value and its "\r\n"
  }
  return refusal;
}

std::size_t Parser::line_bytes_max_for(std::string_view line_start) const {
  for (const std::string_view prefix : {"get ", "gets ", "gat ", "gats "}) {
    if (line_start.starts_with(prefix)) return limits_.retrieval_line_bytes_max;
  }
  return limits_.line_bytes_max;
}

ProtocolError Parser::close_for_long_line(std::string_view rest, std::size_t* used) {
  *used += rest.size();  // nothing more is read from this connection
  state_ = State::closed;
  scanned_bytes_ = 0;
  return ProtocolError{std::string(kLineTooLong), true, false};
}

void append_request(std::string& out, const Request& r) {
  DOPPEL_ASSERT(!r.noreply || takes_noreply(r.verb));
  if (is_meta(r.verb)) {
    append_meta_request(out, r);
    out += "\r\n";
    if (r.verb == Verb::ms) (out += r.data, out += "\r\n");
    return;
  }
  out += verb_name(r.verb);
  if (is_retrieval(r.verb)) {
    DOPPEL_ASSERT(!r.keys.empty());
    if (r.verb == Verb::gat || r.verb == Verb::gats) append_argument(out, r.exptime);
    for (const std::string& key : r.keys) append_argument(out, std::string_view(key));
  } else if (is_storage(r.verb)) {
    append_key(out, r);
    append_argument(out, r.flags);
    append_argument(out, r.exptime);
    append_argument(out, r.data.size());
    if (r.verb == Verb::cas) append_argument(out, r.cas_unique);
  } else if (r.verb == Verb::delete_) {
    append_key(out, r);
  } else if (r.verb == Verb::incr || r.verb == Verb::decr) {
    append_key(out, r);
    append_argument(out, r.delta);
  } else if (r.verb == Verb::touch) {
    append_key(out, r);
    append_argument(out, r.exptime);
  } else if (r.verb == Verb::flush_all && r.delay.has_value()) {
    append_argument(out, *r.delay);
  } else if (r.verb == Verb::verbosity) {
    append_argument(out, r.verbosity);
  } else if (r.verb == Verb::stats && !r.stats_group.empty()) {
    append_argument(out, std::string_view(r.stats_group));
  } else if (r.verb == Verb::lru_crawler) {
    append_argument(out, std::string_view(r.subcommand));
  }
  if (r.noreply) out += " noreply";
  out += "\r\n";
  if (is_storage(r.verb)) (out += r.data, out += "\r\n");
}

}  // namespace doppel::kv
