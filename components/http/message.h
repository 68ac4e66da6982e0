#pragma once
// HTTP/1.1 messages as values: Headers, Request, Response, and their wire forms.
//
// A Request is what the server's parser hands a handler (and what the client formats). A
// Response is what a handler returns: a whole body, or a BodyWriter that streams the body in
// pieces -- with a known length (Content-Length, for multi-GiB downloads) or without one
// (chunked). The client hands back the same Response type with the whole body read, or with the
// body passed piecewise to a callback.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/result.h"

namespace doppel::http {

// ASCII case-insensitive equality, for header names and tokens.
bool iequals(std::string_view a, std::string_view b);

// Header fields in the order they came. Lookup ignores case; repeated fields are all kept.
class Headers {
 public:
  using Field = std::pair<std::string, std::string>;

  // Adds a field after the others (a repeat keeps the earlier ones).
  void add(std::string_view name, std::string_view value);
  // Replaces every field of that name by one.
  void set(std::string_view name, std::string_view value);
  void remove(std::string_view name);

  // The first field of that name.
  std::optional<std::string_view> get(std::string_view name) const;
  // Every field of that name, in order.
  std::vector<std::string_view> get_all(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }
  // True if a comma-separated list field (Connection, Transfer-Encoding...) of that name holds
  // `token`, ignoring case.
  bool has_token(std::string_view name, std::string_view token) const;

  std::size_t size() const { return fields_.size(); }
  bool empty() const { return fields_.empty(); }
  const std::vector<Field>& fields() const { return fields_; }
  auto begin() const { return fields_.begin(); }
  auto end() const { return fields_.end(); }

  bool operator==(const Headers&) const = default;

 private:
  std::vector<Field> fields_;
};

// Query parameters, percent-decoded, in the order they came ("a=1&a=2" keeps both).
using QueryParams = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;  // "GET", "PUT"... as sent (methods are case-sensitive)
  // The request-target as sent: "/buckets/b%20c/keys?returnbody=true".
  std::string target;
  // The path of the target, still percent-encoded: "/buckets/b%20c/keys".
  std::string path;
  // The path split at "/" and each segment percent-decoded: {"buckets", "b c", "keys"}. "/" has
  // none; "/a/" has {"a", ""}. A decoded segment may hold "/" (sent as %2F).
  std::vector<std::string> segments;
  QueryParams query;      // "+" decodes to a space, as in forms
  int version_minor = 1;  // HTTP/1.<minor>: 0 or 1
  Headers headers;
  std::string body;
  // Whether the connection stays open after the answer (HTTP/1.1 unless "Connection: close";
  // HTTP/1.0 only with "Connection: keep-alive").
  bool keep_alive = true;
  // Filled by the Router: the pattern's captures ("{bucket}" -> "b c"), decoded.
  std::map<std::string, std::string, std::less<>> params;
  // Filled by the Router: the pattern that matched ("/buckets/{bucket}/keys/{key}"), for
  // metrics; empty when none did. Points into the router, which outlives its server.
  std::string_view route;
  // Filled by an access gate (components/access/gate.h): the user the credentials proved; ""
  // when the service has no users.
  std::string user;

  // The first query parameter of that name.
  std::optional<std::string_view> query_param(std::string_view name) const;
  // A captured route parameter. Asking for one the route's pattern does not name is a bug.
  std::string_view param(std::string_view name) const;

  bool operator==(const Request&) const = default;
};

// Where a streamed body goes. write() sends the bytes on (as a chunk when the length is not
// known); an error means the peer is gone or slow past its deadline: stop and return it.
class BodySink {
 public:
  virtual ~BodySink() = default;
  virtual Status write(std::string_view bytes) = 0;
};

// Produces a body by writing it into the sink in pieces; returns an error to abandon it (the
// connection is then closed, so the peer sees a short body rather than a wrong one).
using BodyWriter = std::function<Status(BodySink&)>;

struct Response {
  int status = 200;
  std::string reason;  // "" is the standard phrase for `status`
  Headers headers;
  std::string body;
  // Set: the body is streamed by it and `body` stays empty. With body_length, the writer must
  // write exactly that many bytes (Content-Length); without, the body goes chunked.
  BodyWriter body_writer;
  std::optional<std::uint64_t> body_length;
  // Client side: whether the server keeps the connection open after this response.
  bool keep_alive = true;
  // Server side: work the handler leaves for once the response is sent, so that the client
  // does not wait for it. The connection runs it before it reads its next request.
  std::function<void()> after_sent;

  // A whole text body with Content-Type text/plain.
  static Response text(int status, std::string body);
  // A body of `length` bytes streamed by `writer`.
  static Response streamed(int status, std::uint64_t length, BodyWriter writer);
  // A body of unknown length streamed by `writer`, sent chunked.
  static Response chunked(int status, BodyWriter writer);
  // An error answer: `status` with the one-line reason as its text body.
  static Response error(int status, std::string_view reason);

  bool streaming() const { return static_cast<bool>(body_writer); }
};

// What serves a request: the server's handler and each Router route. An error is answered 500
// with its message as the reason; so is a std::exception thrown out of it.
using Handler = std::function<Result<Response>(Request&)>;

// The standard reason phrase of a status code ("Not Found"), or "Unknown".
std::string_view reason_phrase(int status);

// Statuses whose responses never carry a body (1xx, 204, 304).
bool status_has_no_body(int status);

// The request line and header section of `request`, ending with the empty line. Host and the
// framing fields are whatever `request.headers` holds (the caller adds them).
void append_request_head(std::string& out, const Request& request);
// The head and the body of `request`, whose headers must frame the body (a Content-Length
// field equal to its size when it has one): the parser reads it back to an equal Request.
std::string format_request(const Request& request);
// "HTTP/1.1 <status> <reason>\r\n", the header fields, and the empty line.
void append_response_head(std::string& out, int status, std::string_view reason,
                          const Headers& headers);

}  // namespace doppel::http
