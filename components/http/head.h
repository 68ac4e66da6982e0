#pragma once
// The pieces of a message head that requests and responses share: finding lines and the end of
// a head within the limits, parsing field lines, and deciding how the body is framed
// (RFC 9112 sections 2, 5 and 6).
//
// Lines end with "\r\n"; a bare "\n" is accepted as well (RFC 9112 2.2 allows it), a "\r"
// anywhere else is an error.

#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>

#include "components/http/limits.h"
#include "components/http/message.h"

namespace doppel::http {

struct Line {
  enum class Status : std::uint8_t { complete, need_more, too_long };
  Status status = Status::need_more;
  std::string_view text;  // without its "\r\n" or "\n"
  std::size_t bytes = 0;  // with it
};

// The line at the front of `input`. A line of more than `line_bytes_max` bytes (its ending
// included) is too_long as soon as that many bytes hold no "\n", whatever the split.
Line next_line(std::string_view input, std::size_t line_bytes_max);

// tchar of RFC 9110 5.6.2.
bool is_token_char(char c);
bool is_token(std::string_view s);

// A field line "name: value" appended to `into` (value trimmed of spaces and tabs). A field
// line that folds (starts with a space), has space before the colon, a name that is not a
// token, or a control byte in its value is an error (400).
std::optional<ParseError> parse_field_line(std::string_view line, Headers& into);

// Finds where a head ends (the empty line), checking the limits on the way. Its input always
// starts at the head's first byte; each byte is examined once however the head arrives.
class HeadScanner {
 public:
  struct Scan {
    std::size_t head_bytes = 0;  // the head's size once complete; 0 while it needs more
    std::optional<ParseError> error;
  };
  explicit HeadScanner(const HttpLimits& limits) : limits_(limits) {}
  Scan scan(std::string_view input);
  void reset() { *this = HeadScanner(limits_); }

 private:
  Scan on_line_end(std::size_t newline_at);
  Scan check_partial(std::size_t input_bytes) const;

  HttpLimits limits_;
  std::size_t scanned_ = 0;         // bytes known to hold no head end
  std::size_t line_start_ = 0;      // where the current line begins
  std::size_t first_line_end_ = 0;  // after the request/status line; 0 until seen
  std::size_t field_lines_ = 0;
};

// How a body is framed.
struct Framing {
  enum class Kind : std::uint8_t { none, length, chunked, until_close };
  Kind kind = Kind::none;
  std::uint64_t length = 0;  // Kind::length

  bool operator==(const Framing&) const = default;
};

// A request's framing (RFC 9112 6.3): Transfer-Encoding "chunked" or a Content-Length, never
// both (400: a smuggling vector); another transfer coding is 501; a Content-Length over
// body_bytes_max is 413; no field, no body.
std::variant<Framing, ParseError> request_framing(const Headers& headers, int version_minor,
                                                  const HttpLimits& limits);
// A response's framing: none for 1xx, 204, 304 and answers to HEAD; else chunked, a length, or
// until the close.
std::variant<Framing, ParseError> response_framing(const Headers& headers, int status,
                                                   bool to_head_request);

// "HTTP/1.0" -> 0, "HTTP/1.1" -> 1 (a later 1.x counts as 1.1); another major version is 505,
// anything else 400.
std::variant<int, ParseError> parse_version(std::string_view text);

}  // namespace doppel::http
