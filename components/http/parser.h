#pragma once
// Incremental HTTP/1.1 parsers: bytes in, messages out, no I/O (RFC 9112).
//
// The server keeps one RequestParser and one receive buffer per connection, appends whatever the
// socket gave (split anywhere), and calls parse() on the unused bytes until it needs more:
//
//   for (;;) {
//     std::size_t used = 0;
//     RequestOutcome outcome = parser.parse(buffer, &used);
//     buffer.erase(0, used);  // drop what was used, whatever the outcome
//     if (std::holds_alternative<NeedMoreBytes>(outcome)) break;  // read more
//     ContinueNeeded: write "HTTP/1.1 100 Continue" and go on parsing (the body follows);
//     Request: answer it (pipelined requests come out one by one, in order);
//     ParseError: answer its status with its reason, then close.
//   }
//
// Guarantees, whatever the bytes (the fuzz tests check each one):
// - it never uses more than it was given;
// - every outcome but NeedMoreBytes uses at least one byte, so the loop above ends (a
//   ParseError uses all it was given: nothing after it can be trusted), except the Request
//   whose body's last bytes were received directly (below);
// - NeedMoreBytes means nothing more can be parsed now; what it leaves unused is an incomplete
//   head within the limits (body bytes are used as they arrive, kept inside the parser);
// - the outcomes do not depend on how the stream was split.
// The bytes passed to each call must begin with the bytes left unused by the previous one.
//
// The ResponseParser is the client's: it hands out the head, then the body in pieces (views into
// the input, valid until the caller drops those bytes), then MessageEnd.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "components/http/body_decoder.h"
#include "components/http/head.h"
#include "components/http/limits.h"
#include "components/http/message.h"

namespace doppel::http {

// The parser has used what it could and needs more bytes to go on.
struct NeedMoreBytes {
  bool operator==(const NeedMoreBytes&) const = default;
};

// The request's head asked "Expect: 100-continue" and its body is still to come: answer
// "100 Continue" now, then keep parsing.
struct ContinueNeeded {
  bool operator==(const ContinueNeeded&) const = default;
};

using RequestOutcome = std::variant<NeedMoreBytes, ContinueNeeded, Request, ParseError>;

class RequestParser {
 public:
  explicit RequestParser(HttpLimits limits = {});

  // Parses from the front of `input` and sets *consumed to the bytes it used. After a ParseError
  // the parser is done: calling parse() again is a bug (it asserts).
  RequestOutcome parse(std::string_view input, std::size_t* consumed);

  // Receiving a body directly: while a Content-Length body is coming and the caller holds no
  // unused bytes, it may read up to `max` of the next body bytes into body_space(max) (empty
  // when no such body is coming) instead of passing them to parse(), then count the first n
  // with body_filled(n); the next parse() gives the request once it is complete. A large upload
  // is then copied once, from the socket into the request, not three times.
  std::span<char> body_space(std::size_t max);
  void body_filled(std::size_t n);

  bool closed() const { return state_ == State::closed; }
  // Between requests, with nothing of the next one used yet (an idle connection). Bytes left
  // unused by the last call may still hold the start of one.
  bool at_message_start() const { return state_ == State::start && empty_lines_ == 0; }
  // The head is parsed and the body is coming.
  bool in_body() const { return state_ == State::body; }
  const HttpLimits& limits() const { return limits_; }

 private:
  enum class State : std::uint8_t {
    start,   // skipping empty lines before a request line
    head,    // waiting for the whole head
    body,    // decoding the body into pending_
    closed,  // an error was returned
  };

  std::optional<RequestOutcome> step_start(std::string_view rest, std::size_t* used);
  std::optional<RequestOutcome> step_head(std::string_view rest, std::size_t* used);
  std::optional<RequestOutcome> step_body(std::string_view rest, std::size_t* used);
  std::optional<ParseError> parse_head(std::string_view head);
  std::optional<ParseError> parse_request_line(std::string_view line);
  std::optional<RequestOutcome> start_body();
  void make_body_room(std::size_t n);
  RequestOutcome fail(ParseError error);
  RequestOutcome finish_request();

  HttpLimits limits_;
  State state_ = State::start;
  std::size_t empty_lines_ = 0;
  HeadScanner scanner_;
  BodyDecoder body_;
  Request pending_;
  std::uint64_t body_length_ = 0;  // of a Content-Length body being received
  std::size_t space_given_ = 0;    // by the last body_space()
  bool filled_directly_ = false;   // the current body's last bytes came by body_filled()
  // While a body is read straight into (body_space): its bytes so far. The string is longer,
  // its tail room for the next reads, zero-filled once rather than at every read (which
  // zero-filled several times what arrived: 4 % of a dedup server's CPU).
  std::size_t body_size_ = 0;
  bool body_has_room_ = false;
  void trim_body_room();
};

// The status line and header fields of a response.
struct ResponseHead {
  int status = 0;
  std::string reason;
  int version_minor = 1;
  Headers headers;
  bool keep_alive = true;  // the server keeps the connection open after this response

  bool operator==(const ResponseHead&) const = default;
};

// Some bytes of the body: a view into the input given to parse().
struct BodyPiece {
  std::string_view bytes;
  bool operator==(const BodyPiece&) const = default;
};

// The response is complete. Unlike the other outcomes it may use no bytes.
struct MessageEnd {
  bool operator==(const MessageEnd&) const = default;
};

using ResponseOutcome =
    std::variant<NeedMoreBytes, ResponseHead, BodyPiece, MessageEnd, ParseError>;

class ResponseParser {
 public:
  explicit ResponseParser(HttpLimits limits = {});

  // Before each response: whether it answers a HEAD request (then it has no body) and the
  // largest body to accept (more is an error with status 413). Interim (1xx) responses come
  // out as a ResponseHead each, before the final one.
  void expect(bool to_head_request, std::uint64_t body_bytes_max);
  ResponseOutcome parse(std::string_view input, std::size_t* consumed);
  // The server closed the connection: MessageEnd for a body that runs to the close, an error
  // for any other unfinished response.
  ResponseOutcome finish();

  // Between responses (after MessageEnd, before expect()).
  bool idle() const { return state_ == State::idle; }
  // Receiving a body directly: while a Content-Length body is coming and the caller holds no
  // unused bytes, it may read up to `max` of the next body bytes into body_space(max) (empty
  // when no such body is coming) instead of passing them to parse(), then count the first n
  // with body_filled(n); the next parse() gives the request once it is complete. A large upload
  // is then copied once, from the socket into the request, not three times.
  std::span<char> body_space(std::size_t max);
  void body_filled(std::size_t n);

  bool closed() const { return state_ == State::closed; }

 private:
  enum class State : std::uint8_t { idle, head, body, ending, closed };

  ResponseOutcome step_head(std::string_view input, std::size_t* consumed);
  ResponseOutcome step_body(std::string_view input, std::size_t* consumed);
  std::optional<ParseError> parse_head(std::string_view head, ResponseHead& out) const;
  ResponseOutcome fail(ParseError error);

  HttpLimits limits_;
  State state_ = State::idle;
  bool to_head_request_ = false;
  std::uint64_t body_bytes_max_ = 0;
  HeadScanner scanner_;
  BodyDecoder body_;
};

}  // namespace doppel::http
