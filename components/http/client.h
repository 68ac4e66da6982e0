#pragma once
// An HTTP/1.1 client to one server over the runtime, for command-line tools and for components
// that call each other's APIs.
//
// Every request has a deadline. Connections are kept alive and reused (up to
// idle_connections_max of them wait between requests); a request that fails on a reused
// connection before any answer came -- the server had closed it meanwhile -- is sent again once
// on a fresh one if it can be (idempotent method, whole body). The response body is read whole
// (at most limits.body_bytes_max) or passed piece by piece to a callback (any size). Content-Length
// and chunked responses, and bodies that run to the close, are understood. Bodies of at least
// expect_continue_bytes_min go out after "Expect: 100-continue", so a server that refuses them
// (413, say) answers before they are sent.
//
// A status of 4xx or 5xx is an answer, not an error: errors are the operating ones (refused,
// reset, timed_out, closed before the answer), Errc::protocol for a malformed response and
// Errc::too_large for a body over the limit.
//
// One client belongs to one core: use it from fibers of the core that made it.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "components/http/limits.h"
#include "components/http/message.h"
#include "components/http/parser.h"
#include "runtime/runtime.h"

namespace doppel::http {

struct ClientOptions {
  // Response heads are held to these; body_bytes_max bounds a body read whole.
  HttpLimits limits;
  Duration connect_timeout = std::chrono::seconds(5);
  // Every read and write must make progress within this, whatever the request's deadline (which
  // may be far off for a multi-GiB transfer).
  Duration io_timeout = std::chrono::seconds(60);
  std::size_t idle_connections_max = 4;
  // Bodies this large (and streamed bodies of unknown length) ask "Expect: 100-continue" first,
  // and go out on "100 Continue" or after expect_continue_timeout without an answer.
  std::uint64_t expect_continue_bytes_min = 1u << 20;
  Duration expect_continue_timeout = std::chrono::seconds(1);
  std::size_t read_bytes = 64u << 10;
  std::string user_agent = "doppel";  // "" for no User-Agent field
  // Sent as the Authorization field of every request that has none (e.g. HTTP Basic
  // credentials, components/access/gate.h); "" for none.
  std::string authorization;
  std::optional<TlsClientTrust> tls;  // HTTPS, the server's certificate verified (runtime/net.h)
};

struct ClientRequest {
  std::string method = "GET";
  std::string target = "/";  // path and query, percent-encoded (see make_target in codec.h)
  Headers headers;  // Host and User-Agent are added if missing; framing and Expect are ours
  std::string body;
  // Or a streamed body (then `body` stays empty): body_length bytes, or chunked without one.
  BodyWriter body_writer;
  std::optional<std::uint64_t> body_length;
  // Never sent a second time, whatever the method: a request whose effect depends on when it
  // runs (a DELETE without a context deletes what is there then) must not have a first copy
  // that runs after the answer to a resent one.
  bool once = false;
};

// Receives the pieces of a streamed response body; an error stops the transfer.
using BodyCallback = std::function<Status(std::string_view piece)>;

class HttpClient {
 public:
  HttpClient(Runtime& rt, Endpoint server, ClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends the request and reads the whole response.
  Result<Response> request(const ClientRequest& request, Instant deadline);
  // Sends the request and passes the response body to `on_body` as it arrives; the Response
  // comes back with its head and an empty body.
  Result<Response> request_streamed(const ClientRequest& request, Instant deadline,
                                    const BodyCallback& on_body);

  Result<Response> get(std::string_view target, Instant deadline);
  Result<Response> put(std::string_view target, std::string body, std::string_view content_type,
                       Instant deadline);
  Result<Response> post(std::string_view target, std::string body, std::string_view content_type,
                        Instant deadline);
  Result<Response> remove(std::string_view target, Instant deadline);  // DELETE

  // Closes the connections kept for reuse.
  void close_idle();
  std::size_t idle_connections() const { return idle_.size(); }
  const Endpoint& server() const { return server_; }

 private:
  struct Connection;
  class Exchange;

  Result<Response> perform(const ClientRequest& request, Instant deadline,
                           const BodyCallback* on_body);
  Result<std::unique_ptr<Connection>> acquire(Instant deadline);
  void release(std::unique_ptr<Connection> connection);

  Runtime& rt_;
  Endpoint server_;
  ClientOptions options_;
  std::vector<std::unique_ptr<Connection>> idle_;  // most recently used last
};

}  // namespace doppel::http
