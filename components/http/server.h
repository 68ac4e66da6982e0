#pragma once
// An HTTP/1.1 server over the runtime: per-core listeners on one port (reuse_port, one accept
// loop per core, as the KV server), one fiber per connection, keep-alive, pipelined requests
// answered in order, Expect: 100-continue, a read deadline, a connection limit and a graceful
// stop.
//
// The handler gets each parsed request (body read whole, up to limits.body_bytes_max) and
// returns a Response: a whole body, or a BodyWriter streaming a body of known length
// (Response::streamed: Content-Length, for multi-GiB downloads) or unknown length
// (Response::chunked). Answers to HEAD carry the head only (the writer is not called).
//
//   HttpServer server(rt, Endpoint{"", 8098}, [](Request& r) -> Result<Response> {
//     return Response::streamed(200, size, [&](BodySink& sink) -> Status {
//       for (...) if (Status s = sink.write(piece); !s) return s;
//       return {};
//     });
//   });
//   if (Status s = server.start(); !s) ...
//
// Errors never crash it: a handler that returns an error or throws a std::exception is answered
// 500 with the reason (other exception types pass through: the runtime's Cancelled must unwind
// the fiber); a request the parser refuses is answered its 4xx/5xx with a one-line reason in the
// body, then the connection closes.
//
// The server's fibers share its state, so a fiber still running after stop() (a handler that
// outlasted the grace period) never touches freed memory. Call stop() before destroying a
// started server (unless its node crashed: then its fibers are gone already), since the accept
// loops call the handler, which usually points into its owner.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "components/http/limits.h"
#include "components/http/message.h"
#include "components/metrics/metric_set.h"
#include "runtime/runtime.h"

namespace doppel::http {

struct ServerOptions {
  HttpLimits limits;
  // Open connections over all cores (each core takes its share). More: 503, then close.
  std::size_t connections_max = 1024;
  int backlog = 1024;
  // How long a connection may wait for the bytes of a request (each read): the idle timeout
  // between keep-alive requests too. A request cut off by it is answered 408.
  Duration idle_timeout = std::chrono::seconds(30);
  // A request's head must arrive whole within this from its first byte, however the bytes
  // trickle in (each within idle_timeout of the last): past it, 408 and close. A slowloris
  // client otherwise holds a connection forever at a byte per idle_timeout.
  Duration header_timeout = std::chrono::seconds(20);
  // A body must keep up an average of body_rate_min bytes per second once body_grace has
  // passed since it began (as Apache's mod_reqtimeout: body=20,MinRate=500): past that, 408.
  Duration body_grace = std::chrono::seconds(20);
  std::uint64_t body_rate_min = 500;
  // How long one write to a slow reader may take.
  Duration write_timeout = std::chrono::seconds(30);
  // stop(): how long requests in flight may take to finish before their connections are closed.
  Duration stop_grace = std::chrono::seconds(10);
  // Before closing after an answer, the server reads (and drops) what the client still sends, so
  // that closing does not reset the connection and destroy the answer in flight (RFC 9112 9.6).
  Duration linger_timeout = std::chrono::seconds(2);
  std::uint64_t linger_bytes_max = 4u << 20;
  std::size_t read_bytes = 64u << 10;  // one read from a connection
  bool send_date = true;               // a Date field, from the runtime's wall clock
  std::string server_name = "doppel";  // the Server field; "" for none
  std::optional<TlsServerKeys> tls;    // HTTPS (the real runtime; runtime/net.h)
};

class HttpServer {
 public:
  HttpServer(Runtime& rt, Endpoint at, Handler handler, ServerOptions options = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Listens on every core and starts accepting. Call from a fiber of the node.
  Status start();
  // Stops accepting, closes idle connections, lets requests in flight finish (each then closes
  // its connection) within options.stop_grace, then closes whatever is left. Call from a fiber.
  void stop();

  // Where it listens (with the port chosen when `at` asked for port 0). After start().
  Endpoint local() const;

  // The server's metrics summed over its cores: doppel_http_requests_total{method,route,code},
  // doppel_http_request_duration_seconds{route}, doppel_http_request_body_bytes_total{route},
  // doppel_http_refused_total{code},
  // doppel_http_connections (open now), doppel_http_connections_total{outcome}. Call from a
  // fiber of the node, after start().
  metrics::MetricSet metrics() const;

 private:
  struct Shared;
  struct CoreState;
  static void accept_loop(const std::shared_ptr<Shared>& shared, CoreId core);
  static void reject(const std::shared_ptr<Shared>& shared, CoreId core,
                     std::unique_ptr<Stream> stream);

  Runtime& rt_;
  Endpoint at_;
  std::shared_ptr<Shared> shared_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace doppel::http
