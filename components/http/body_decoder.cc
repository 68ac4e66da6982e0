#include "components/http/body_decoder.h"

#include <algorithm>

#include "components/http/head.h"

namespace doppel::http {
namespace {

constexpr std::size_t kChunkSizeHexDigitsMax = 16;  // 64 bits

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// chunk-size [ chunk-ext ]: the size, or nothing if the line is malformed. Extensions are
// ignored (RFC 9112 7.1.1) but may hold no control bytes.
std::optional<std::uint64_t> parse_chunk_size(std::string_view line) {
  std::size_t digits = 0;
  std::uint64_t size = 0;
  while (digits < line.size() && hex_value(line[digits]) >= 0) {
    if (digits == kChunkSizeHexDigitsMax) return std::nullopt;
    size = size * 16 + static_cast<std::uint64_t>(hex_value(line[digits]));
    ++digits;
  }
  if (digits == 0) return std::nullopt;
  std::string_view rest = line.substr(digits);
  while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
  if (!rest.empty() && rest.front() != ';') return std::nullopt;
  for (char c : rest) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t') || byte == 0x7f) return std::nullopt;
  }
  return size;
}

}  // namespace

void BodyDecoder::start_length(std::uint64_t length, std::uint64_t body_bytes_max) {
  DOPPEL_ASSERT(length <= body_bytes_max);
  *this = BodyDecoder(limits_);
  body_bytes_max_ = body_bytes_max;
  remaining_ = length;
  state_ = length == 0 ? State::done : State::length;
}

void BodyDecoder::start_chunked(std::uint64_t body_bytes_max) {
  *this = BodyDecoder(limits_);
  body_bytes_max_ = body_bytes_max;
  state_ = State::chunk_line;
}

void BodyDecoder::start_until_close(std::uint64_t body_bytes_max) {
  *this = BodyDecoder(limits_);
  body_bytes_max_ = body_bytes_max;
  state_ = State::until_close;
}

BodyDecoder::Step BodyDecoder::step(std::string_view input) {
  switch (state_) {
    case State::length:
      return step_length(input);
    case State::chunk_line:
      return step_chunk_line(input);
    case State::chunk_data:
      return step_chunk_data(input);
    case State::chunk_end:
      return step_chunk_end(input);
    case State::trailers:
      return step_trailers(input);
    case State::until_close:
      return step_until_close(input);
    case State::done:
      return Step{0, {}, true, std::nullopt};
    case State::idle:
      break;
  }
  DOPPEL_ASSERT_MSG(false, "BodyDecoder::step before start");
  return {};
}

std::optional<ParseError> BodyDecoder::finish() {
  if (state_ == State::until_close) {
    state_ = State::done;
    return std::nullopt;
  }
  if (state_ == State::done) return std::nullopt;
  state_ = State::idle;
  return ParseError{400, "body cut short by the close"};
}

BodyDecoder::Step BodyDecoder::fail(int status, const char* reason) {
  state_ = State::idle;
  return Step{0, {}, false, ParseError{status, reason}};
}

void BodyDecoder::take_length(std::uint64_t n) {
  DOPPEL_ASSERT(n <= length_remaining());
  remaining_ -= n;
  body_bytes_ += n;
  if (remaining_ == 0) state_ = State::done;
}

BodyDecoder::Step BodyDecoder::step_length(std::string_view input) {
  const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, input.size()));
  remaining_ -= n;
  body_bytes_ += n;
  if (remaining_ == 0) state_ = State::done;
  return Step{n, input.substr(0, n), state_ == State::done, std::nullopt};
}

BodyDecoder::Step BodyDecoder::step_chunk_line(std::string_view input) {
  const Line line = next_line(input, limits_.chunk_line_bytes_max);
  if (line.status == Line::Status::too_long) return fail(400, "chunk size line too long");
  if (line.status == Line::Status::need_more) return {};
  const std::optional<std::uint64_t> size = parse_chunk_size(line.text);
  if (!size) return fail(400, "bad chunk size line");
  if (*size > limits_.chunk_bytes_max) return fail(413, "chunk too large");
  if (*size > body_bytes_max_ - body_bytes_) return fail(413, "body too large");
  if (*size == 0) {
    state_ = State::trailers;
  } else {
    state_ = State::chunk_data;
    remaining_ = *size;
  }
  return Step{line.bytes, {}, false, std::nullopt};
}

BodyDecoder::Step BodyDecoder::step_chunk_data(std::string_view input) {
  const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, input.size()));
  remaining_ -= n;
  body_bytes_ += n;
  if (remaining_ == 0) state_ = State::chunk_end;
  return Step{n, input.substr(0, n), false, std::nullopt};
}

BodyDecoder::Step BodyDecoder::step_chunk_end(std::string_view input) {
  if (input.empty()) return {};
  std::size_t used = 0;
  if (input[0] == '\n') {
    used = 1;
  } else if (input[0] == '\r') {
    if (input.size() < 2) return {};
    if (input[1] != '\n') return fail(400, "chunk data not followed by CRLF");
    used = 2;
  } else {
    return fail(400, "chunk data not followed by CRLF");
  }
  state_ = State::chunk_line;
  return Step{used, {}, false, std::nullopt};
}

BodyDecoder::Step BodyDecoder::step_trailers(std::string_view input) {
  // The section may not outgrow header_bytes_max, however it is split into lines.
  const std::size_t room = limits_.header_bytes_max - trailer_bytes_;
  if (room == 0) return fail(431, "trailer section too large");
  const Line line = next_line(input, room);
  if (line.status == Line::Status::too_long) return fail(431, "trailer section too large");
  if (line.status == Line::Status::need_more) return {};
  trailer_bytes_ += line.bytes;
  if (line.text.empty()) {
    state_ = State::done;
    return Step{line.bytes, {}, true, std::nullopt};
  }
  if (++trailer_count_ > limits_.header_count_max) return fail(431, "too many trailer fields");
  Headers ignored;  // trailer fields are checked, then dropped (RFC 9110 6.5.1 allows it)
  if (auto e = parse_field_line(line.text, ignored)) {
    state_ = State::idle;
    return Step{0, {}, false, std::move(e)};
  }
  return Step{line.bytes, {}, false, std::nullopt};
}

BodyDecoder::Step BodyDecoder::step_until_close(std::string_view input) {
  if (input.size() > body_bytes_max_ - body_bytes_) return fail(413, "body too large");
  body_bytes_ += input.size();
  return Step{input.size(), input, false, std::nullopt};
}

}  // namespace doppel::http
