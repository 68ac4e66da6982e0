#include "components/http/client.h"

#include <algorithm>
#include <exception>
#include <limits>

#include "components/http/body_sinks.h"
#include "components/http/head.h"

namespace doppel::http {
namespace {

// A whole body this small goes out in the same write as the head.
constexpr std::size_t kInlineBodyBytesMax = 64u << 10;
constexpr std::size_t kWritePieceBytes = 1u << 20;
constexpr std::uint64_t kUnbounded = std::numeric_limits<std::uint64_t>::max();

// BUGGIFY sites of the client (runtime/buggify.h): a slow or choppy network,
// and a caller whose patience runs out early; never a request or answer changed.
const BuggifySite kShortRead{"http.client.short_read",
                             "a read of the response returns at most 11 bytes"};
const BuggifySite kSplitRequest{"http.client.split_request",
                                "a request goes out in two writes, up to 20 ms apart"};
const BuggifySite kEarlyTimeout{"http.client.early_timeout",
                                "a request's deadline comes 1 to 100 ms after it is sent"};

constexpr std::int64_t kShortReadBytesMax = 11;

Error to_error(const ParseError& e) {
  if (e.status == 413) return make_error(Errc::too_large, "response: " + e.reason);
  return make_error(Errc::protocol, "malformed response: " + e.reason);
}

bool replayable(const ClientRequest& r) {
  if (r.body_writer || r.once) return false;  // a writer may not run twice
  for (std::string_view m : {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"}) {
    if (r.method == m) return true;
  }
  return false;
}

Status check_request(const ClientRequest& r) {
  if (!is_token(r.method)) return make_error(Errc::invalid_argument, "bad method");
  const bool target_ok =
      !r.target.empty() && std::all_of(r.target.begin(), r.target.end(), [](char c) {
        return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f;
      });
  if (!target_ok) return make_error(Errc::invalid_argument, "bad request target: " + r.target);
  for (const auto& [name, value] : r.headers) {
    if (!is_token(name) ||
        value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      return make_error(Errc::invalid_argument, "bad header field: " + name);
    }
  }
  if (r.body_writer && !r.body.empty()) {
    return make_error(Errc::invalid_argument, "both a body and a body writer");
  }
  return {};
}

}  // namespace

struct HttpClient::Connection {
  Connection(std::unique_ptr<Stream> s, const HttpLimits& limits)
      : stream(std::move(s)), parser(limits) {}
  std::unique_ptr<Stream> stream;
  ResponseParser parser;
  std::string in;  // received, not yet parsed
  bool reused = false;
};

// One request and its response on one connection.
class HttpClient::Exchange {
 public:
  Exchange(HttpClient& client, Connection& connection, const ClientRequest& request,
           Instant deadline, const BodyCallback* on_body)
      : client_(client),
        c_(connection),
        request_(request),
        deadline_(deadline),
        on_body_(on_body),
        buffer_(client.options_.read_bytes) {}

  Result<Response> run();
  // Some of the answer came: the request reached the server and must not be sent again.
  bool answer_started() const { return started_; }
  // The exchange's own deadline (the caller's, or earlier under BUGGIFY).
  Instant deadline() const { return deadline_; }
  bool reusable() const { return reusable_; }

 private:
  std::string format_head(bool expect_continue) const;
  Status write_head(std::string_view out);
  Status send_body();
  Result<bool> read_more(Instant deadline);  // false: the server closed
  // Each read and write must also make progress within io_timeout.
  Instant op_deadline(Instant limit) const {
    return std::min(limit, deadline_after(client_.rt_.now(), client_.options_.io_timeout));
  }
  Result<ResponseHead> next_head(Instant deadline);
  Result<Response> read_rest(std::optional<ResponseHead> head);

  HttpClient& client_;
  Connection& c_;
  const ClientRequest& request_;
  Instant deadline_;
  const BodyCallback* on_body_;
  std::vector<char> buffer_;
  bool started_ = false;
  bool reusable_ = false;
};

Result<Response> HttpClient::Exchange::run() {
  const ClientOptions& options = client_.options_;
  const bool streamed = static_cast<bool>(request_.body_writer);
  const bool has_body = streamed || !request_.body.empty();
  const std::uint64_t body_bytes =
      streamed ? request_.body_length.value_or(kUnbounded) : request_.body.size();
  const bool expect = has_body && body_bytes >= options.expect_continue_bytes_min;
  const bool inline_body = !expect && !streamed && request_.body.size() <= kInlineBodyBytesMax;
  std::string out = format_head(expect);
  if (inline_body) out += request_.body;
  if (Status s = write_head(out); !s) return s.error();
  // A caller that gives up early: whatever the server does with the request, we stop waiting.
  if (buggify(client_.rt_, kEarlyTimeout)) {
    deadline_ = std::min(deadline_, client_.rt_.now() + Duration(client_.rt_.random().between(
                                                            1'000'000, 100'000'000)));
  }
  c_.parser.expect(request_.method == "HEAD",
                   on_body_ != nullptr ? kUnbounded : options.limits.body_bytes_max);
  std::optional<ResponseHead> early;
  if (expect) {
    const Instant wait =
        std::min(deadline_, deadline_after(client_.rt_.now(), options.expect_continue_timeout));
    auto head = next_head(wait);
    if (!head && head.code() != Errc::timed_out) return head.error();
    if (head && head->status >= 200) early = std::move(*head);  // refused before the body
  }
  if (has_body && !inline_body && !early) {
    if (Status s = send_body(); !s) return s.error();
  }
  const bool body_withheld = early.has_value();
  Result<Response> response = read_rest(std::move(early));
  if (body_withheld) reusable_ = false;  // the server expected a body that never came
  return response;
}

std::string HttpClient::Exchange::format_head(bool expect_continue) const {
  Request head;
  head.method = request_.method;
  head.target = request_.target;
  if (!request_.headers.has("Host")) {
    const Endpoint& at = client_.server_;
    head.headers.add("Host", at.port == 80 ? at.host : at.to_string());
  }
  const std::string& agent = client_.options_.user_agent;
  if (!agent.empty() && !request_.headers.has("User-Agent")) head.headers.add("User-Agent", agent);
  const std::string& authorization = client_.options_.authorization;
  if (!authorization.empty() && !request_.headers.has("Authorization")) {
    head.headers.add("Authorization", authorization);
  }
  for (const auto& [name, value] : request_.headers) {
    const bool ours = iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding") ||
                      iequals(name, "Expect");
    if (!ours) {
      head.headers.add(name, value);
    }
  }
  const bool body_method =
      request_.method == "POST" || request_.method == "PUT" || request_.method == "PATCH";
  if (request_.body_writer && !request_.body_length) {
    head.headers.add("Transfer-Encoding", "chunked");
  } else if (request_.body_writer) {
    head.headers.add("Content-Length", std::to_string(*request_.body_length));
  } else if (!request_.body.empty() || body_method) {
    head.headers.add("Content-Length", std::to_string(request_.body.size()));
  }
  if (expect_continue) head.headers.add("Expect", "100-continue");
  std::string out;
  append_request_head(out, head);
  return out;
}

Status HttpClient::Exchange::send_body() {
  if (!request_.body_writer) {
    // In pieces, so that each has io_timeout to go out, however large the body.
    const std::string_view body = request_.body;
    for (std::size_t at = 0; at < body.size(); at += kWritePieceBytes) {
      Status s = c_.stream->write(body.substr(at, kWritePieceBytes), op_deadline(deadline_));
      if (!s) return s;
    }
    return {};
  }
  const WriteDeadline deadline{client_.rt_, client_.options_.io_timeout, deadline_};
  try {
    if (request_.body_length) {
      LengthSink sink(*c_.stream, deadline, *request_.body_length);
      if (Status s = request_.body_writer(sink); !s) return s;
      if (sink.remaining() == 0) return {};
      return make_error(Errc::invalid_argument, "body writer wrote less than its length");
    }
    ChunkedSink sink(*c_.stream, deadline);
    if (Status s = request_.body_writer(sink); !s) return s;
    return sink.finish();
  } catch (const std::exception& e) {
    return make_error(Errc::io_error, std::string("body writer threw: ") + e.what());
  }
}

// The head (and a small body): in one write, or two a moment apart, cut anywhere.
Status HttpClient::Exchange::write_head(std::string_view out) {
  Runtime& rt = client_.rt_;
  if (out.size() > 1 && buggify(rt, kSplitRequest)) {
    const auto cut =
        static_cast<std::size_t>(rt.random().between(1, static_cast<std::int64_t>(out.size()) - 1));
    if (Status s = c_.stream->write(out.substr(0, cut), op_deadline(deadline_)); !s) return s;
    rt.sleep(Duration(rt.random().between(1'000, 20'000'000)));
    out.remove_prefix(cut);
  }
  return c_.stream->write(out, op_deadline(deadline_));
}

Result<bool> HttpClient::Exchange::read_more(Instant deadline) {
  std::span<char> into(buffer_);
  if (buggify(client_.rt_, kShortRead)) {
    into = into.first(std::min(into.size(), static_cast<std::size_t>(client_.rt_.random().between(
                                                1, kShortReadBytesMax))));
  }
  auto n = c_.stream->read(into, op_deadline(deadline));
  if (!n) return n.error();
  if (*n == 0) return false;
  c_.in.append(buffer_.data(), *n);
  return true;
}

Result<ResponseHead> HttpClient::Exchange::next_head(Instant deadline) {
  for (;;) {
    std::size_t used = 0;
    ResponseOutcome outcome = c_.parser.parse(c_.in, &used);
    DOPPEL_ASSERT(used <= c_.in.size());
    if (auto* head = std::get_if<ResponseHead>(&outcome)) {
      c_.in.erase(0, used);
      started_ = true;
      return std::move(*head);
    }
    if (auto* e = std::get_if<ParseError>(&outcome)) return to_error(*e);
    DOPPEL_ASSERT(std::holds_alternative<NeedMoreBytes>(outcome));
    c_.in.erase(0, used);
    auto more = read_more(deadline);
    if (!more) return more.error();
    if (!*more) return make_error(Errc::closed, "the server closed before answering");
  }
}

Result<Response> HttpClient::Exchange::read_rest(std::optional<ResponseHead> head) {
  while (!head || head->status < 200) {  // interim answers: the final one follows
    auto next = next_head(deadline_);
    if (!next) return next.error();
    head = std::move(*next);
  }
  Response response;
  response.status = head->status;
  response.reason = std::move(head->reason);
  response.headers = std::move(head->headers);
  response.keep_alive = head->keep_alive;
  for (;;) {
    std::size_t used = 0;
    ResponseOutcome outcome = c_.parser.parse(c_.in, &used);
    if (auto* piece = std::get_if<BodyPiece>(&outcome)) {
      Status s = on_body_ != nullptr ? (*on_body_)(piece->bytes) : Status{};
      if (on_body_ == nullptr) response.body.append(piece->bytes);
      c_.in.erase(0, used);
      if (!s) return s.error();
      continue;
    }
    c_.in.erase(0, used);
    if (std::holds_alternative<MessageEnd>(outcome)) break;
    if (auto* e = std::get_if<ParseError>(&outcome)) return to_error(*e);
    auto more = read_more(deadline_);
    if (!more) return more.error();
    if (*more) continue;
    ResponseOutcome end = c_.parser.finish();  // the close ends a body without framing
    if (auto* e = std::get_if<ParseError>(&end)) return to_error(*e);
    response.keep_alive = false;
    break;
  }
  reusable_ = response.keep_alive && c_.in.empty() && c_.parser.idle();
  return response;
}

HttpClient::HttpClient(Runtime& rt, Endpoint server, ClientOptions options)
    : rt_(rt), server_(std::move(server)), options_(std::move(options)) {
  DOPPEL_ASSERT(options_.read_bytes > 0);
}

HttpClient::~HttpClient() = default;

Result<Response> HttpClient::request(const ClientRequest& request, Instant deadline) {
  return perform(request, deadline, nullptr);
}

Result<Response> HttpClient::request_streamed(const ClientRequest& request, Instant deadline,
                                              const BodyCallback& on_body) {
  DOPPEL_ASSERT(on_body);
  return perform(request, deadline, &on_body);
}

Result<Response> HttpClient::get(std::string_view target, Instant deadline) {
  ClientRequest r;
  r.target = std::string(target);
  return request(r, deadline);
}

Result<Response> HttpClient::put(std::string_view target, std::string body,
                                 std::string_view content_type, Instant deadline) {
  ClientRequest r{"PUT", std::string(target), {}, std::move(body), {}, {}};
  if (!content_type.empty()) r.headers.add("Content-Type", content_type);
  return request(r, deadline);
}

Result<Response> HttpClient::post(std::string_view target, std::string body,
                                  std::string_view content_type, Instant deadline) {
  ClientRequest r{"POST", std::string(target), {}, std::move(body), {}, {}};
  if (!content_type.empty()) r.headers.add("Content-Type", content_type);
  return request(r, deadline);
}

Result<Response> HttpClient::remove(std::string_view target, Instant deadline) {
  ClientRequest r;
  r.method = "DELETE";
  r.target = std::string(target);
  return request(r, deadline);
}

void HttpClient::close_idle() {
  idle_.clear();
}

Result<Response> HttpClient::perform(const ClientRequest& request, Instant deadline,
                                     const BodyCallback* on_body) {
  if (Status s = check_request(request); !s) return s.error();
  for (int attempt = 0;; ++attempt) {
    auto connection = acquire(deadline);
    if (!connection) return connection.error();
    Exchange exchange(*this, **connection, request, deadline, on_body);
    Result<Response> response = exchange.run();
    if (response.ok()) {
      if (exchange.reusable()) release(std::move(*connection));
      return response;
    }
    // A kept connection the server had closed, or that died while idle (ETIMEDOUT from the
    // TCP timeout, before the exchange's own deadline: not a slow answer): nothing reached
    // the server, so send once more.
    const bool died = response.code() == Errc::closed || response.code() == Errc::reset ||
                      (response.code() == Errc::timed_out && rt_.now() < exchange.deadline());
    const bool stale = (*connection)->reused && !exchange.answer_started() && died;
    if (attempt > 0 || !stale || !replayable(request)) return response;
  }
}

Result<std::unique_ptr<HttpClient::Connection>> HttpClient::acquire(Instant deadline) {
  if (!idle_.empty()) {
    std::unique_ptr<Connection> c = std::move(idle_.back());
    idle_.pop_back();
    c->reused = true;
    return c;
  }
  const Instant now = rt_.now();
  if (deadline <= now) return make_error(Errc::timed_out, "deadline passed before connecting");
  const Duration timeout = std::min<Duration>(options_.connect_timeout, deadline - now);
  auto stream = rt_.net().connect_with(server_, timeout, ConnectOptions{options_.tls});
  if (!stream) return stream.error();
  return std::make_unique<Connection>(std::move(*stream), options_.limits);
}

void HttpClient::release(std::unique_ptr<Connection> connection) {
  DOPPEL_ASSERT(connection->parser.idle());
  if (idle_.size() >= options_.idle_connections_max) return;
  idle_.push_back(std::move(connection));
}

}  // namespace doppel::http
