#include "components/http/parser.h"

#include <algorithm>
#include <array>

#include "components/http/codec.h"

namespace doppel::http {
namespace {

// A body is read whole; a large Content-Length is not trusted with memory before it arrives.
constexpr std::size_t kBodyReserveBytesMax = 1u << 20;

// Methods we serve (RFC 9110 9.3, and PATCH). CONNECT and unknown methods are 501.
constexpr std::array<std::string_view, 8> kMethods = {"GET",    "HEAD",    "POST",  "PUT",
                                                      "DELETE", "OPTIONS", "PATCH", "TRACE"};

bool target_byte_ok(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte > 0x20 && byte < 0x7f && c != '#';
}

// Splits an origin-form path ("/a/b%2Fc") into decoded segments ({"a", "b/c"}).
std::optional<ParseError> decode_segments(std::string_view path, std::vector<std::string>& out) {
  DOPPEL_ASSERT(!path.empty() && path.front() == '/');
  if (path == "/") return std::nullopt;
  std::string_view rest = path.substr(1);
  for (;;) {
    const std::size_t slash = rest.find('/');
    auto segment = percent_decode(rest.substr(0, slash));
    if (!segment) return ParseError{400, "bad percent-encoding in the path"};
    out.push_back(std::move(*segment));
    if (slash == std::string_view::npos) return std::nullopt;
    rest.remove_prefix(slash + 1);
  }
}

std::optional<ParseError> decode_query(std::string_view query, QueryParams& out) {
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view item = query.substr(0, amp);
    if (!item.empty()) {
      const std::size_t eq = item.find('=');
      auto name = percent_decode(item.substr(0, eq), true);
      auto value = percent_decode(eq == std::string_view::npos ? "" : item.substr(eq + 1), true);
      if (!name || !value) return ParseError{400, "bad percent-encoding in the query"};
      out.emplace_back(std::move(*name), std::move(*value));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

// Fills path, segments and query from the target (origin-form, absolute-form or "*").
std::optional<ParseError> parse_target(Request& r) {
  std::string_view target = r.target;
  if (!std::all_of(target.begin(), target.end(), target_byte_ok)) {
    return ParseError{400, "bad byte in the request target"};
  }
  if (target == "*") {
    if (r.method != "OPTIONS") return ParseError{400, "\"*\" target outside OPTIONS"};
    r.path = "*";
    return std::nullopt;
  }
  for (std::string_view scheme : {"http://", "https://"}) {
    if (target.size() >= scheme.size() && iequals(target.substr(0, scheme.size()), scheme)) {
      const std::size_t path_at = target.find_first_of("/?", scheme.size());
      if (path_at == scheme.size()) return ParseError{400, "absolute target without a host"};
      target = path_at == std::string_view::npos ? std::string_view("/") : target.substr(path_at);
      if (target.front() == '?') return ParseError{400, "absolute target without a path"};
      break;
    }
  }
  if (target.front() != '/') return ParseError{400, "request target is not a path"};
  const std::size_t question = target.find('?');
  r.path = std::string(target.substr(0, question));
  if (auto e = decode_segments(r.path, r.segments)) return e;
  if (question == std::string_view::npos) return std::nullopt;
  return decode_query(target.substr(question + 1), r.query);
}

}  // namespace

// --- RequestParser

RequestParser::RequestParser(HttpLimits limits)
    : limits_(limits), scanner_(limits_), body_(limits_) {}

RequestOutcome RequestParser::parse(std::string_view input, std::size_t* consumed) {
  DOPPEL_ASSERT_MSG(state_ != State::closed, "parse() after an error");
  std::size_t used = 0;
  for (;;) {
    const std::string_view rest = input.substr(used);
    std::size_t step_used = 0;
    std::optional<RequestOutcome> outcome;
    switch (state_) {
      case State::start:
        outcome = step_start(rest, &step_used);
        break;
      case State::head:
        outcome = step_head(rest, &step_used);
        break;
      case State::body:
        outcome = step_body(rest, &step_used);
        break;
      case State::closed:
        DOPPEL_ASSERT(false);
    }
    DOPPEL_ASSERT(step_used <= rest.size());
    used += step_used;
    if (!outcome) continue;
    // After an error the stream cannot be resynced: everything given is used up.
    if (std::holds_alternative<ParseError>(*outcome)) used = input.size();
    *consumed = used;
    DOPPEL_ASSERT(used > 0 || std::holds_alternative<NeedMoreBytes>(*outcome) ||
                  (std::holds_alternative<Request>(*outcome) && filled_directly_));
    filled_directly_ = false;
    return std::move(*outcome);
  }
}

std::optional<RequestOutcome> RequestParser::step_start(std::string_view rest, std::size_t* used) {
  while (!rest.empty()) {
    std::size_t n = 0;
    if (rest.front() == '\n') n = 1;
    if (rest.starts_with("\r\n")) n = 2;
    if (rest == "\r") return NeedMoreBytes{};
    if (n == 0) {
      state_ = State::head;
      scanner_.reset();
      return std::nullopt;
    }
    if (++empty_lines_ > limits_.empty_lines_before_request_max) {
      return fail(ParseError{400, "too many empty lines before the request"});
    }
    *used += n;
    rest.remove_prefix(n);
  }
  return NeedMoreBytes{};
}

std::optional<RequestOutcome> RequestParser::step_head(std::string_view rest, std::size_t* used) {
  const HeadScanner::Scan scan = scanner_.scan(rest);
  if (scan.error) return fail(*scan.error);
  if (scan.head_bytes == 0) return NeedMoreBytes{};
  *used = scan.head_bytes;
  pending_ = Request{};
  body_has_room_ = false;
  if (auto e = parse_head(rest.substr(0, scan.head_bytes))) return fail(std::move(*e));
  return start_body();
}

std::optional<RequestOutcome> RequestParser::start_body() {
  auto framing = request_framing(pending_.headers, pending_.version_minor, limits_);
  if (auto* e = std::get_if<ParseError>(&framing)) return fail(std::move(*e));
  const Framing f = std::get<Framing>(framing);
  // RFC 9110 10.1.1: only 100-continue is defined; an HTTP/1.0 client's Expect is ignored.
  bool expect_continue = false;
  if (auto expect = pending_.headers.get("Expect"); expect && pending_.version_minor == 1) {
    if (!iequals(*expect, "100-continue")) return fail(ParseError{417, "unsupported expectation"});
    expect_continue = true;
  }
  if (f.kind == Framing::Kind::none) return finish_request();
  if (f.kind == Framing::Kind::length) {
    body_.start_length(f.length, limits_.body_bytes_max);
    body_length_ = f.length;
    pending_.body.reserve(
        static_cast<std::size_t>(std::min<std::uint64_t>(f.length, kBodyReserveBytesMax)));
  } else {
    DOPPEL_ASSERT(f.kind == Framing::Kind::chunked);
    body_.start_chunked(limits_.body_bytes_max);
  }
  state_ = State::body;
  if (expect_continue) return ContinueNeeded{};
  return std::nullopt;
}

std::optional<RequestOutcome> RequestParser::step_body(std::string_view rest, std::size_t* used) {
  for (;;) {
    const BodyDecoder::Step s = body_.step(rest.substr(*used));
    *used += s.used;
    if (s.error) return fail(*s.error);
    trim_body_room();
    make_body_room(s.data.size());
    pending_.body.append(s.data);
    if (s.done) return finish_request();
    if (s.used == 0) return NeedMoreBytes{};
  }
}

// Room for n more body bytes. A Content-Length body gets its whole length once its first
// kBodyReserveBytesMax have arrived: one move of what came so far, not one per doubling.
void RequestParser::make_body_room(std::size_t n) {
  std::string& body = pending_.body;
  if (body.capacity() - body.size() >= n) return;
  if (body_length_ > 0 && body.size() + n <= body_length_) {
    body.reserve(static_cast<std::size_t>(body_length_));
  }
}

std::span<char> RequestParser::body_space(std::size_t max) {
  DOPPEL_ASSERT(space_given_ == 0);
  const std::uint64_t remaining = state_ == State::body ? body_.length_remaining() : 0;
  const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, max));
  if (n == 0) return {};
  std::string& body = pending_.body;
  const std::size_t at = body_has_room_ ? body_size_ : body.size();
  if (body.size() < at + n) {
    trim_body_room();
    make_body_room(n);
    // All the room there is (the whole rest of the body once make_body_room reserved it).
    body.resize(std::max(at + n, static_cast<std::size_t>(
                                     std::min<std::uint64_t>(body.capacity(), at + remaining))));
  }
  body_size_ = at;
  body_has_room_ = true;
  space_given_ = n;
  return {body.data() + at, n};
}

void RequestParser::body_filled(std::size_t n) {
  DOPPEL_ASSERT(n <= space_given_);
  DOPPEL_ASSERT(body_has_room_);
  body_size_ += n;
  space_given_ = 0;
  body_.take_length(n);
  filled_directly_ = body_.done();
  if (filled_directly_) trim_body_room();
}

void RequestParser::trim_body_room() {
  if (!body_has_room_) return;
  pending_.body.resize(body_size_);
  body_has_room_ = false;
}

RequestOutcome RequestParser::finish_request() {
  trim_body_room();
  state_ = State::start;
  empty_lines_ = 0;
  body_length_ = 0;
  Request done = std::move(pending_);
  pending_ = Request{};
  return done;
}

RequestOutcome RequestParser::fail(ParseError error) {
  DOPPEL_ASSERT(error.status >= 400 && error.status <= 599);
  body_has_room_ = false;
  state_ = State::closed;
  pending_ = Request{};
  return error;
}

std::optional<ParseError> RequestParser::parse_head(std::string_view head) {
  Line line = next_line(head, head.size());
  DOPPEL_ASSERT(line.status == Line::Status::complete);
  if (auto e = parse_request_line(line.text)) return e;
  head.remove_prefix(line.bytes);
  for (;;) {
    line = next_line(head, head.size());
    DOPPEL_ASSERT(line.status == Line::Status::complete);
    if (line.text.empty()) break;
    if (auto e = parse_field_line(line.text, pending_.headers)) return e;
    head.remove_prefix(line.bytes);
  }
  const std::size_t hosts = pending_.headers.get_all("Host").size();
  if (pending_.version_minor == 1 && hosts == 0) return ParseError{400, "no Host field"};
  if (hosts > 1) return ParseError{400, "more than one Host field"};
  if (pending_.version_minor == 1) {
    pending_.keep_alive = !pending_.headers.has_token("Connection", "close");
  } else {
    pending_.keep_alive = pending_.headers.has_token("Connection", "keep-alive");
  }
  return std::nullopt;
}

std::optional<ParseError> RequestParser::parse_request_line(std::string_view line) {
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return ParseError{400, "malformed request line"};
  }
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  auto version = parse_version(line.substr(sp2 + 1));
  if (auto* e = std::get_if<ParseError>(&version)) return *e;
  pending_.version_minor = std::get<int>(version);
  if (!is_token(method)) return ParseError{400, "bad method"};
  if (std::find(kMethods.begin(), kMethods.end(), method) == kMethods.end()) {
    return ParseError{501, "method not implemented: " + std::string(method)};
  }
  if (target.empty()) return ParseError{400, "empty request target"};
  pending_.method = std::string(method);
  pending_.target = std::string(target);
  return parse_target(pending_);
}

// --- ResponseParser

ResponseParser::ResponseParser(HttpLimits limits)
    : limits_(limits), scanner_(limits_), body_(limits_) {}

void ResponseParser::expect(bool to_head_request, std::uint64_t body_bytes_max) {
  DOPPEL_ASSERT_MSG(state_ == State::idle, "expect() while a response is being parsed");
  to_head_request_ = to_head_request;
  body_bytes_max_ = body_bytes_max;
  state_ = State::head;
  scanner_.reset();
}

ResponseOutcome ResponseParser::parse(std::string_view input, std::size_t* consumed) {
  *consumed = 0;
  switch (state_) {
    case State::head:
    case State::body: {
      ResponseOutcome outcome =
          state_ == State::head ? step_head(input, consumed) : step_body(input, consumed);
      // After an error the stream cannot be resynced: everything given is used up.
      if (std::holds_alternative<ParseError>(outcome)) *consumed = input.size();
      return outcome;
    }
    case State::ending:
      state_ = State::idle;
      return MessageEnd{};
    case State::idle:
    case State::closed:
      break;
  }
  DOPPEL_ASSERT_MSG(false, "parse() with no response expected");
  return NeedMoreBytes{};
}

ResponseOutcome ResponseParser::finish() {
  if (state_ == State::ending) {
    state_ = State::idle;
    return MessageEnd{};
  }
  if (state_ != State::body) return fail(ParseError{400, "connection closed before the response"});
  if (auto e = body_.finish()) return fail(*e);
  state_ = State::idle;
  return MessageEnd{};
}

ResponseOutcome ResponseParser::fail(ParseError error) {
  state_ = State::closed;
  return error;
}

ResponseOutcome ResponseParser::step_head(std::string_view input, std::size_t* consumed) {
  const HeadScanner::Scan scan = scanner_.scan(input);
  if (scan.error) return fail(*scan.error);
  if (scan.head_bytes == 0) return NeedMoreBytes{};
  *consumed = scan.head_bytes;
  ResponseHead head;
  if (auto e = parse_head(input.substr(0, scan.head_bytes), head)) return fail(std::move(*e));
  if (head.status < 200) {  // interim: the final response follows
    scanner_.reset();
    return head;
  }
  auto framing = response_framing(head.headers, head.status, to_head_request_);
  if (auto* e = std::get_if<ParseError>(&framing)) return fail(std::move(*e));
  const Framing f = std::get<Framing>(framing);
  switch (f.kind) {
    case Framing::Kind::none:
      state_ = State::ending;
      return head;
    case Framing::Kind::length:
      if (f.length > body_bytes_max_) return fail(ParseError{413, "body too large"});
      body_.start_length(f.length, body_bytes_max_);
      break;
    case Framing::Kind::chunked:
      body_.start_chunked(body_bytes_max_);
      break;
    case Framing::Kind::until_close:
      body_.start_until_close(body_bytes_max_);
      head.keep_alive = false;
      break;
  }
  state_ = State::body;
  return head;
}

ResponseOutcome ResponseParser::step_body(std::string_view input, std::size_t* consumed) {
  for (;;) {
    const BodyDecoder::Step s = body_.step(input.substr(*consumed));
    *consumed += s.used;
    if (s.error) return fail(*s.error);
    if (s.done) state_ = State::ending;
    if (!s.data.empty()) return BodyPiece{s.data};
    if (s.done) {
      state_ = State::idle;
      return MessageEnd{};
    }
    if (s.used == 0) return NeedMoreBytes{};
  }
}

std::optional<ParseError> ResponseParser::parse_head(std::string_view head,
                                                     ResponseHead& out) const {
  Line line = next_line(head, head.size());
  // "HTTP/1.1 200 OK"; the reason may be empty, and its space missing.
  const std::string_view status_line = line.text;
  if (status_line.size() < 12 || status_line[8] != ' ') return ParseError{400, "bad status line"};
  auto version = parse_version(status_line.substr(0, 8));
  if (auto* e = std::get_if<ParseError>(&version)) return *e;
  out.version_minor = std::get<int>(version);
  const std::string_view code = status_line.substr(9, 3);
  if (!std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      code[0] < '1' || code[0] > '5') {
    return ParseError{400, "bad status code"};
  }
  out.status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
  if (status_line.size() > 12 && status_line[12] != ' ') return ParseError{400, "bad status line"};
  if (status_line.size() > 13) out.reason = std::string(status_line.substr(13));
  head.remove_prefix(line.bytes);
  for (;;) {
    line = next_line(head, head.size());
    if (line.text.empty()) break;
    if (auto e = parse_field_line(line.text, out.headers)) return e;
    head.remove_prefix(line.bytes);
  }
  out.keep_alive = out.version_minor == 1 ? !out.headers.has_token("Connection", "close")
                                          : out.headers.has_token("Connection", "keep-alive");
  return std::nullopt;
}

}  // namespace doppel::http
