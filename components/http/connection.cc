#include "components/http/connection.h"

#include <exception>
#include <optional>
#include <vector>

#include "components/http/body_sinks.h"
#include "components/http/codec.h"
#include "components/http/head.h"

namespace doppel::http {

using namespace std::chrono_literals;

namespace {

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::size_t kLingerReadBytes = 16u << 10;

// BUGGIFY sites of a server connection (runtime/buggify.h): what a network
// and a busy server do to a client, never a malformed answer.
const BuggifySite kShortRead{"http.server.short_read",
                             "a read from a connection returns at most 13 bytes"};
const BuggifySite kTinyWrites{"http.server.tiny_writes",
                              "a response goes out 1 to 64 bytes per write, some a moment apart"};
const BuggifySite kSlowHandler{"http.server.slow_handler",
                               "a request waits up to 300 ms before its handler runs"};
const BuggifySite kCloseAfterResponse{
    "http.server.close_after_response",
    "a kept-alive connection is closed right after a response (keep-alive timeout)"};

constexpr std::int64_t kShortReadBytesMax = 13;
constexpr std::int64_t kTinyWriteBytesMax = 64;
constexpr Duration kSlowHandlerMax = 300ms;

bool is_framing_field(std::string_view name) {
  return iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding") ||
         iequals(name, "Connection");
}

// Names are tokens; values hold no CR, LF or NUL (they could end the head early).
bool fields_ok(const Headers& headers) {
  for (const auto& [name, value] : headers) {
    if (!is_token(name)) return false;
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) return false;
  }
  return true;
}

void add_common_fields(Runtime& rt, const ServerOptions& options, Headers& headers) {
  if (options.send_date && !headers.has("Date")) {
    headers.add("Date", format_http_date(rt.wall_now()));
  }
  if (!options.server_name.empty() && !headers.has("Server")) {
    headers.add("Server", options.server_name);
  }
}

}  // namespace

std::string one_line(std::string_view text, std::size_t bytes_max) {
  std::string line(text.substr(0, bytes_max));
  for (char& c : line) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) c = ' ';
  }
  return line;
}

std::string format_error_response(Runtime& rt, const ServerOptions& options, int status,
                                  std::string_view reason) {
  DOPPEL_ASSERT(status >= 400 && status <= 599);
  const std::string body = one_line(reason, ServerConnection::kReasonBytesMax) + "\n";
  Headers headers;
  headers.add("Content-Type", "text/plain");
  headers.add("Content-Length", std::to_string(body.size()));
  headers.add("Connection", "close");
  add_common_fields(rt, options, headers);
  std::string out;
  append_response_head(out, status, reason_phrase(status), headers);
  out += body;
  return out;
}

void linger_and_close(Runtime& rt, const ServerOptions& options, Stream& stream) {
  const Instant deadline = deadline_after(rt.now(), options.linger_timeout);
  std::vector<char> buffer(kLingerReadBytes);
  std::uint64_t dropped = 0;
  while (dropped < options.linger_bytes_max) {
    auto n = stream.read(buffer, deadline);
    if (!n || *n == 0) break;
    dropped += *n;
  }
  stream.close();
}

ServerConnection::ServerConnection(Runtime& rt, const ServerOptions& options,
                                   const Handler& handler, Stream& stream, const bool& stopping,
                                   metrics::MetricSet& metrics)
    : rt_(rt),
      options_(options),
      handler_(handler),
      stream_(stream),
      stopping_(stopping),
      metrics_(metrics),
      parser_(options.limits),
      read_buffer_(new char[options.read_bytes]) {
  DOPPEL_ASSERT(options.read_bytes > 0);
}

void ServerConnection::run() {
  for (;;) {
    std::size_t used = 0;
    RequestOutcome outcome = parser_.parse(in_, &used);
    DOPPEL_ASSERT(used <= in_.size());
    in_.erase(0, used);
    if (std::holds_alternative<NeedMoreBytes>(outcome)) {
      if (!read_more()) break;
    } else if (std::holds_alternative<ContinueNeeded>(outcome)) {
      out_ += kContinue;
      if (!flush()) break;
    } else if (const auto* error = std::get_if<ParseError>(&outcome)) {
      answer_error(error->status, error->reason);
      break;
    } else if (!answer(std::get<Request>(outcome))) {
      break;
    } else {
      // The next request (pipelined bytes may hold its start already) begins now.
      request_started_ = rt_.now();
      body_started_ = kNever;
    }
  }
  stream_.close();
}

// One read straight into a request's body: more than read_bytes, fewer system calls.
constexpr std::size_t kBodyReadBytes = 256u << 10;

bool ServerConnection::read_more() {
  if (!flush()) return false;
  const bool idle = parser_.at_message_start() && in_.empty();
  if (idle && stopping_) return false;  // stopping: no new requests
  idle_ = idle;
  // The bytes of a large body go straight into the request (see RequestParser::body_space).
  const std::span<char> body = in_.empty() ? parser_.body_space(kBodyReadBytes) : std::span<char>();
  std::span<char> into =
      body.empty() ? std::span<char>(read_buffer_.get(), options_.read_bytes) : body;
  if (buggify(rt_, kShortRead)) {
    into = into.first(std::min(
        into.size(), static_cast<std::size_t>(rt_.random().between(1, kShortReadBytesMax))));
  }
  std::string_view why;
  const Instant deadline = read_deadline(rt_.now(), idle, &why);
  auto n = stream_.read(into, deadline);
  idle_ = false;
  if (!body.empty()) parser_.body_filled(n ? *n : 0);
  if (!n) {
    if (n.code() == Errc::timed_out && !idle) answer_error(408, why);
    return false;
  }
  if (*n == 0) return false;  // the client closed (dropping any partial request)
  if (body.empty()) in_.append(read_buffer_.get(), *n);
  if (idle) {
    request_started_ = rt_.now();
    body_started_ = kNever;
  }
  if (parser_.in_body()) body_read_ += *n;
  return true;
}

Instant ServerConnection::read_deadline(Instant now, bool idle, std::string_view* why) {
  Instant deadline = deadline_after(now, options_.idle_timeout);
  *why = "request timed out";
  if (idle) return deadline;
  if (request_started_ == kNever) request_started_ = now;
  if (!parser_.in_body()) {
    const Instant head_due = deadline_after(request_started_, options_.header_timeout);
    if (head_due < deadline) {
      deadline = head_due;
      *why = "request header section too slow";
    }
    return deadline;
  }
  if (body_started_ == kNever) {
    body_started_ = now;
    body_read_ = 0;
  }
  // The time by which the bytes so far and one more are due at body_rate_min, after the grace.
  const auto due_ns = static_cast<std::int64_t>(std::min<long double>(
      (static_cast<long double>(body_read_) + 1) * 1e9L /
          static_cast<long double>(std::max<std::uint64_t>(1, options_.body_rate_min)),
      9e18L));
  const Instant body_due =
      deadline_after(deadline_after(body_started_, options_.body_grace), Duration(due_ns));
  if (body_due < deadline) {
    deadline = std::max(body_due, now);
    *why = "request body too slow";
  }
  return deadline;
}

bool ServerConnection::flush() {
  if (out_.empty()) return true;
  Status s =
      buggify(rt_, kTinyWrites) ? write_in_pieces(out_) : stream_.write(out_, write_deadline());
  out_.clear();
  return s.ok();
}

// As a congested or slow link may deliver a response: a few bytes at a time.
Status ServerConnection::write_in_pieces(std::string_view bytes) {
  while (!bytes.empty()) {
    const auto piece = std::min<std::size_t>(
        bytes.size(), static_cast<std::size_t>(rt_.random().between(1, kTinyWriteBytesMax)));
    if (Status s = stream_.write(bytes.substr(0, piece), write_deadline()); !s) return s;
    bytes.remove_prefix(piece);
    if (rt_.random().chance(1, 8)) rt_.sleep(Duration(rt_.random().between(1'000, 2'000'000)));
  }
  return {};
}

bool ServerConnection::answer(Request& request) {
  const Instant started = rt_.now();
  Response response = invoke(request);
  // A body of unknown length goes chunked to HTTP/1.1 clients; to HTTP/1.0 ones, the close
  // ends it.
  const bool unknown_length = response.streaming() && !response.body_length;
  const bool chunked = unknown_length && request.version_minor == 1;
  const bool until_close = unknown_length && !chunked && request.method != "HEAD";
  const bool close = !request.keep_alive || stopping_ || until_close ||
                     response.headers.has_token("Connection", "close");
  // Work left for after the answer: the answer goes out first, not with the next ones.
  const bool sent = send(request, response, chunked, close) && (!response.after_sent || flush());
  count(request, response.status, started);
  if (response.after_sent) response.after_sent();
  if (!sent) return false;
  if (!close && buggify(rt_, kCloseAfterResponse)) {
    // The server's side of a keep-alive timeout racing the client's next request: the
    // answer is out, the connection closes without a word (no "Connection: close").
    if (!flush()) return false;
    stream_.close();
    return false;
  }
  if (!close) return true;
  if (!flush()) return false;
  linger_and_close(rt_, options_, stream_);
  return false;
}

Response ServerConnection::invoke(Request& request) {
  // A busy server: the request waits its turn (and the client's deadline may pass meanwhile).
  (void)buggify_sleep(rt_, kSlowHandler, kSlowHandlerMax);
  std::optional<Result<Response>> result;
  std::string failure;
  try {
    result.emplace(handler_(request));
  } catch (const std::exception& e) {
    failure = std::string("handler threw: ") + e.what();
  }
  if (result && !*result) failure = "handler failed: " + result->error().message();
  if (failure.empty()) {
    const Response& r = result->value();
    if (r.status < 200 || r.status > 599) {
      failure = "handler answered status " + std::to_string(r.status);
    } else if (status_has_no_body(r.status) && (!r.body.empty() || r.streaming())) {
      failure = "handler gave a body to a " + std::to_string(r.status);
    } else if (r.streaming() && !r.body.empty()) {
      failure = "handler gave both a body and a body writer";
    } else if (!fields_ok(r.headers)) {
      failure = "handler gave a malformed header field";
    }
  }
  if (failure.empty()) return std::move(result->value());
  failure = one_line(failure, kReasonBytesMax);
  rt_.record(Event("HttpHandlerFailed", Severity::warning)
                 .detail("target", request.target)
                 .detail("reason", failure));
  return Response::error(500, failure);
}

Headers ServerConnection::response_headers(const Response& response, bool chunked,
                                           bool close) const {
  Headers headers;
  for (const auto& [name, value] : response.headers) {
    if (!is_framing_field(name)) headers.add(name, value);
  }
  add_common_fields(rt_, options_, headers);
  if (response.streaming() && response.body_length) {
    headers.add("Content-Length", std::to_string(*response.body_length));
  } else if (chunked) {
    headers.add("Transfer-Encoding", "chunked");
  } else if (!response.streaming() && !status_has_no_body(response.status)) {
    headers.add("Content-Length", std::to_string(response.body.size()));
  }
  if (close) headers.add("Connection", "close");
  return headers;
}

bool ServerConnection::send(const Request& request, Response& response, bool chunked, bool close) {
  const Headers headers = response_headers(response, chunked, close);
  append_response_head(out_, response.status, one_line(response.reason, kReasonBytesMax), headers);
  if (request.method == "HEAD" || status_has_no_body(response.status)) {
    return out_.size() < kOutBytesMax || flush();
  }
  if (response.streaming()) return flush() && send_streamed(response, chunked);
  if (response.body.size() <= kOutBytesMax) {
    out_ += response.body;
    return out_.size() < kOutBytesMax || flush();
  }
  return flush() && stream_.write(response.body, write_deadline()).ok();
}

bool ServerConnection::send_streamed(Response& response, bool chunked) {
  Status status;
  bool complete = false;
  try {
    if (response.body_length) {
      LengthSink sink(stream_, WriteDeadline{rt_, options_.write_timeout}, *response.body_length);
      status = response.body_writer(sink);
      complete = status.ok() && sink.remaining() == 0;
    } else if (chunked) {
      ChunkedSink sink(stream_, WriteDeadline{rt_, options_.write_timeout});
      status = response.body_writer(sink);
      if (status.ok()) status = sink.finish();
      complete = status.ok();
    } else {
      RawSink sink(stream_, WriteDeadline{rt_, options_.write_timeout});
      status = response.body_writer(sink);
      complete = status.ok();
    }
  } catch (const std::exception& e) {
    status = make_error(Errc::io_error, std::string("body writer threw: ") + e.what());
  }
  if (!complete) {
    const std::string why = status.ok() ? "body writer wrote less than its length"
                                        : one_line(status.error().message(), kReasonBytesMax);
    rt_.record(Event("HttpBodyAbandoned", Severity::debug).detail("reason", why));
  }
  return complete;
}

void ServerConnection::count(const Request& request, int status, Instant started) {
  // The method is the client's: any token. Only the ones a route can have become a label, so
  // that a client cannot grow the series without bound.
  static constexpr std::string_view kMethods[] = {"GET", "HEAD", "PUT", "POST", "DELETE"};
  std::string_view method = "other";
  for (std::string_view m : kMethods) {
    if (request.method == m) method = m;
  }
  const std::string_view route = request.route.empty() ? "unrouted" : request.route;
  const std::string code = std::to_string(status);
  metrics_.add("doppel_http_requests_total", "HTTP requests answered, by route and status.", 1,
               {{"method", method}, {"route", route}, {"code", code}});
  metrics_.add("doppel_http_request_body_bytes_total", "Request body bytes received, by route.",
               static_cast<double>(request.body.size()), {{"route", route}});
  // Until the answer (a streamed body: all of it) was handed to the connection.
  metrics_.observe("doppel_http_request_duration_seconds",
                   "Time from a request's parse to its answer written, by route.",
                   metrics::kLatencyBuckets, static_cast<double>(to_ns(rt_.now() - started)) / 1e9,
                   {{"route", route}});
}

void ServerConnection::answer_error(int status, std::string_view reason) {
  metrics_.add("doppel_http_refused_total",
               "Requests refused before routing (malformed, too large, timed out), by status.", 1,
               {{"code", std::to_string(status)}});
  out_ += format_error_response(rt_, options_, status, reason);
  if (!flush()) return;
  linger_and_close(rt_, options_, stream_);
}

}  // namespace doppel::http
