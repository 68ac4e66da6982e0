#pragma once
// An incremental parser of the memcached text protocol: bytes in, requests out, no I/O.
//
// A server keeps one Parser and one receive buffer per connection, appends whatever the socket
// gave (split anywhere), and calls parse() on the unconsumed bytes until it answers NeedMoreBytes:
//
//   for (;;) {
//     std::size_t used = 0;
//     ParseOutcome outcome = parser.parse(buffer, &used);
//     buffer.erase(0, used);  // drop what was used, whatever the outcome
//     if (std::holds_alternative<NeedMoreBytes>(outcome)) break;
//     ... serve the Request, or write the ProtocolError's line (and close if it says so) ...
//   }
//
// Guarantees, whatever the bytes (the fuzz tests check each one):
// - it never uses more than it was given;
// - a Request or a ProtocolError uses at least one byte, so the loop above ends;
// - NeedMoreBytes means nothing more can be parsed: the bytes it leaves hold no "\n" (a value
//   being received and bytes being discarded are used up as they arrive, kept inside the parser
//   or dropped);
// - the outcomes do not depend on how the stream was split.
// The bytes passed to each call must begin with the bytes left unused by the previous one.
//
// Replies to errors follow memcached 1.6 (proto_text.c): "ERROR" for an unknown verb, an empty
// line or a wrong number of arguments; "CLIENT_ERROR <why>" for a bad argument;
// "SERVER_ERROR object too large for cache" for a value over the limit. Where memcached's reply
// would be lost with "noreply" (its out_string() drops every reply of a noreply command, errors
// included), ProtocolError::noreply is set and the server decides. parser.cc lists where we
// chose or differ.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "components/kv/protocol/request.h"

namespace doppel::kv {

// A limit on everything the parser buffers or accepts.
struct ProtocolLimits {
  // A command line with its "\n" (and "\r"). Longer: "CLIENT_ERROR line too long" and close.
  std::size_t line_bytes_max = 8 * 1024;
  // The same for get, gets, gat and gats, whose lines carry many keys.
  std::size_t retrieval_line_bytes_max = 64 * 1024;
  // Keys of one get, gets, gat or gats. More: "CLIENT_ERROR too many keys".
  std::size_t keys_per_request_max = 4096;
  // memcached's KEY_MAX_LENGTH.
  std::size_t key_bytes_max = 250;
  // protocol.txt: no control characters in keys. memcached does not check, and memcaslap sends
  // them; off, only NUL, CR and LF are refused (see parser.cc).
  bool strict_keys = false;
  // The largest value (memcached's item size limit, -I, 1 MiB by default). Larger:
  // "SERVER_ERROR object too large for cache", and the bytes + 2 that follow are discarded.
  std::uint64_t value_bytes_max = 1024 * 1024;
  // A bytes field above this is malformed ("CLIENT_ERROR bad command line format"; nothing is
  // discarded, as memcached, whose field is an int, INT_MAX - 2).
  std::uint64_t bytes_field_max = 2147483645;
};

// The parser has used what it could and needs more bytes to go on.
struct NeedMoreBytes {
  bool operator==(const NeedMoreBytes&) const = default;
};

// A reply to send instead of serving a request.
struct ProtocolError {
  // e.g. "CLIENT_ERROR bad data chunk", without "\r\n"; empty only with close_connection,
  // for a close without a word (an HTTP request line).
  std::string reply_line;
  bool close_connection = false;  // send the line, then close: the stream cannot be resynced
  // The offending line ended in "noreply" (for a verb that takes it); memcached then sends
  // nothing. Never set together with close_connection.
  bool noreply = false;
  // A set refused because its value is too large: memcached also removes the
  // key's old value ("avoid stale data persisting in cache because we failed
  // alloc"), and so must the server. Empty otherwise.
  std::string drop_key;

  bool operator==(const ProtocolError&) const = default;
};

using ParseOutcome = std::variant<NeedMoreBytes, Request, ProtocolError>;

class Parser {
 public:
  explicit Parser(ProtocolLimits limits = {});

  // Parses from the front of `input` (the bytes received and not yet used) and sets *consumed to
  // the number of bytes it used; the caller drops them. After an outcome that closes the
  // connection the parser is done: calling parse() again is a bug (it asserts).
  ParseOutcome parse(std::string_view input, std::size_t* consumed);

  bool closed() const { return state_ == State::closed; }
  const ProtocolLimits& limits() const { return limits_; }

 private:
  enum class State : std::uint8_t {
    line,     // waiting for a command line
    data,     // copying a value into pending_
    data_cr,  // the value is complete; expecting its "\r"
    data_lf,  // expecting its "\n"
    swallow,  // discarding remaining_bytes_ (the value of a refused storage command)
    resync,   // discarding up to and including the next "\n" (after a bad data chunk)
    closed,   // the connection is to be closed
  };

  std::optional<ParseOutcome> step_line(std::string_view rest, std::size_t* used);
  std::optional<ParseOutcome> step_data(std::string_view rest, std::size_t* used);
  std::optional<ParseOutcome> step_data_end(std::string_view rest, std::size_t* used);
  std::optional<ParseOutcome> step_swallow(std::string_view rest, std::size_t* used);
  std::optional<ParseOutcome> step_resync(std::string_view rest, std::size_t* used);
  ParseOutcome parse_line(std::string_view line);
  ParseOutcome parse_storage(Verb verb, std::string_view line);
  ParseOutcome parse_meta(Verb verb, std::string_view args);
  ParseOutcome refuse_storage(std::uint64_t bytes, bool bytes_ok, ProtocolError refusal);
  std::size_t line_bytes_max_for(std::string_view line_start) const;
  ProtocolError close_for_long_line(std::string_view rest, std::size_t* used);

  ProtocolLimits limits_;
  State state_ = State::line;
  // line: how many of the unused bytes are known to hold no "\n" (so each byte is searched once).
  std::size_t scanned_bytes_ = 0;
  // data: bytes of the value still to come; swallow: bytes still to discard.
  std::uint64_t remaining_bytes_ = 0;
  // data, data_cr, data_lf: the storage request whose value is arriving.
  Request pending_;
};

// The text a client sends for `request`, "\r\n" and data block included. The parser's inverse:
// parsing it gives back an equal Request. `request` must be valid (keys within the limits).
void append_request(std::string& out, const Request& request);

}  // namespace doppel::kv
