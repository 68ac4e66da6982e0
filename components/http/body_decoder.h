#pragma once
// The framing of a message body, decoded incrementally: a Content-Length body, a chunked body
// (chunk-size lines, chunk data, trailer fields), or -- responses only -- a body that runs to
// the close of the connection. Bytes in, body bytes out, no I/O and no copies: each step hands
// back a view of the body bytes inside the input it was given.
//
//   for (;;) {
//     BodyDecoder::Step s = decoder.step(input);
//     input.remove_prefix(s.used);   // framing and data alike
//     if (s.error) ... answer s.error->status, close ...
//     consume(s.data);
//     if (s.done) break;             // body and trailers complete
//     if (s.used == 0) ... read more bytes ...
//   }
//
// Like the parsers, it never uses more than it is given, its results do not depend on how the
// stream was split, and once it needs more bytes the input left holds no complete line.

#include <cstdint>
#include <optional>
#include <string_view>

#include "components/http/limits.h"

namespace doppel::http {

class BodyDecoder {
 public:
  explicit BodyDecoder(const HttpLimits& limits) : limits_(limits) {}  // copies them

  // A body of exactly `length` bytes (at most body_bytes_max: the caller checks first).
  void start_length(std::uint64_t length, std::uint64_t body_bytes_max);
  // A chunked body of at most body_bytes_max bytes of data.
  void start_chunked(std::uint64_t body_bytes_max);
  // A body that ends when the peer closes (a response without framing).
  void start_until_close(std::uint64_t body_bytes_max);

  struct Step {
    std::size_t used = 0;   // bytes of the input used, framing and data
    std::string_view data;  // the body bytes among them: a view into the input
    bool done = false;      // the body, and any trailer section, is complete
    std::optional<ParseError> error;
  };
  // Decodes from the front of `input`. Nothing used, not done and no error: it needs more bytes.
  // After done or an error, start again before the next step.
  Step step(std::string_view input);
  // The peer closed the connection: a body that runs to the close is complete; any other is
  // cut short (an error).
  std::optional<ParseError> finish();

  bool done() const { return state_ == State::done; }
  // Bytes of a Content-Length body still to come (0 for any other framing, or when done).
  std::uint64_t length_remaining() const { return state_ == State::length ? remaining_ : 0; }
  // `n` (at most length_remaining()) body bytes the caller received straight into its buffer.
  void take_length(std::uint64_t n);
  std::uint64_t body_bytes() const { return body_bytes_; }

 private:
  enum class State : std::uint8_t {
    idle,         // not started, or failed
    length,       // `remaining_` bytes of a Content-Length body to come
    chunk_line,   // expecting a chunk-size line
    chunk_data,   // `remaining_` bytes of the current chunk to come
    chunk_end,    // expecting the "\r\n" after a chunk's data
    trailers,     // expecting trailer fields or the empty line that ends them
    until_close,  // everything is body until the close
    done,
  };

  Step step_length(std::string_view input);
  Step step_chunk_line(std::string_view input);
  Step step_chunk_data(std::string_view input);
  Step step_chunk_end(std::string_view input);
  Step step_trailers(std::string_view input);
  Step step_until_close(std::string_view input);
  Step fail(int status, const char* reason);

  HttpLimits limits_;
  State state_ = State::idle;
  std::uint64_t remaining_ = 0;
  std::uint64_t body_bytes_ = 0;
  std::uint64_t body_bytes_max_ = 0;
  std::size_t trailer_bytes_ = 0;
  std::size_t trailer_count_ = 0;
};

}  // namespace doppel::http
