#pragma once
// The limits every HTTP parser of ours enforces, and the error a parser answers with.

#include <cstddef>
#include <cstdint>
#include <string>

namespace doppel::http {

// A limit on everything a parser buffers or accepts. A line's size counts its "\r\n".
struct HttpLimits {
  // The request line (or a response's status line). Longer: 414.
  std::size_t request_line_bytes_max = 8 * 1024;
  // Header fields of one message (trailer fields count separately, against the same limit).
  // More: 431.
  std::size_t header_count_max = 100;
  // The header section after the request line, its closing empty line included. Larger: 431.
  std::size_t header_bytes_max = 32 * 1024;
  // Empty lines tolerated before a request line (RFC 9112 2.2 asks for at least one). More: 400.
  std::size_t empty_lines_before_request_max = 16;
  // A whole request body (the server reads it whole). Larger: 413, before any of it is read
  // when a Content-Length announces it.
  std::uint64_t body_bytes_max = 64u << 20;
  // One chunk of a chunked body. Larger: 413.
  std::uint64_t chunk_bytes_max = 16u << 20;
  // A chunk-size line with its extensions. Longer: 400.
  std::size_t chunk_line_bytes_max = 4 * 1024;
};

// A message the parser refuses, and the status to answer it with (400, 413, 414, 417, 431,
// 501, 505). The connection cannot be resynced after one: answer, then close.
struct ParseError {
  int status = 400;
  std::string reason;  // one line: "header section too large"

  bool operator==(const ParseError&) const = default;
};

}  // namespace doppel::http
