#include "components/http/server.h"

#include <algorithm>
#include <map>
#include <optional>
#include <vector>

#include "components/http/connection.h"
#include "runtime/future.h"
#include "runtime/sync.h"

namespace doppel::http {
namespace {

using namespace std::chrono_literals;

constexpr Duration kAcceptBackoff = 10ms;  // after EMFILE and friends, rather than spin

// BUGGIFY (runtime/buggify.h): a server at its limit turns a connection away with a 503.
const BuggifySite kBusyReject{"http.server.busy_reject",
                              "a new connection gets 503 as if at the connection limit"};
// Connections being turned away (503) at once, per core; more are closed without a word.
constexpr std::size_t kRejectingMax = 64;

constexpr std::string_view kConnectionsTotal = "doppel_http_connections_total";
constexpr std::string_view kConnectionsTotalHelp =
    "Connections accepted, or rejected at the connection limit (503).";

}  // namespace

struct HttpServer::CoreState {
  explicit CoreState(Runtime& rt) : drained(rt) {}
  std::unique_ptr<Listener> listener;
  // By id, so that stop() closes them in an order that never depends on an address.
  std::map<std::uint64_t, ServerConnection*> connections;
  std::uint64_t next_id = 0;
  std::size_t live = 0;       // connection fibers
  std::size_t rejecting = 0;  // fibers answering 503
  bool stopping = false;
  Condition drained;  // a fiber ended
  metrics::MetricSet metrics;
};

struct HttpServer::Shared {
  Shared(Runtime& rt, Handler handler, ServerOptions options)
      : rt(rt), handler(std::move(handler)), options(std::move(options)) {}
  Runtime& rt;
  const Handler handler;
  const ServerOptions options;
  Endpoint local;
  std::vector<std::unique_ptr<CoreState>> cores;  // each touched only on its own core
};

namespace {

// Leaves a core's books when a fiber ends, however it ends (a crash unwinds it).
class FiberExit {
 public:
  FiberExit(std::size_t& count, Condition& drained) : count_(count), drained_(drained) { ++count_; }
  ~FiberExit() {
    --count_;
    drained_.notify_all();
  }
  FiberExit(const FiberExit&) = delete;
  FiberExit& operator=(const FiberExit&) = delete;

 private:
  std::size_t& count_;
  Condition& drained_;
};

}  // namespace

HttpServer::HttpServer(Runtime& rt, Endpoint at, Handler handler, ServerOptions options)
    : rt_(rt),
      at_(std::move(at)),
      shared_(std::make_shared<Shared>(rt, std::move(handler), std::move(options))) {
  DOPPEL_ASSERT(shared_->handler);
  DOPPEL_ASSERT(shared_->options.connections_max > 0);
}

HttpServer::~HttpServer() = default;

Status HttpServer::start() {
  DOPPEL_ASSERT_MSG(!started_, "start() twice");
  const CoreId cores = rt_.core_count();
  shared_->cores.resize(cores);
  Endpoint at = at_;
  for (CoreId c = 0; c < cores; ++c) {
    auto made = run_on(rt_, c, [shared = shared_, c, at]() -> std::optional<Error> {
                  auto state = std::make_unique<CoreState>(shared->rt);
                  auto l = shared->rt.net().listen(
                      at, ListenOptions{true, shared->options.backlog, shared->options.tls});
                  if (!l) return l.error();
                  if (c == 0) shared->local = (*l)->local();
                  state->listener = std::move(*l);
                  shared->cores[c] = std::move(state);
                  return std::nullopt;
                }).get();
    if (!made) return make_error(Errc::cancelled, "core " + std::to_string(c) + " did not start");
    if (*made) {
      return make_error((*made)->code, "listen on " + at.to_string() + ": " + (*made)->message());
    }
    at.port = shared_->local.port;  // the other cores share the port core 0 got
  }
  for (CoreId c = 0; c < cores; ++c) {
    rt_.spawn_on(c, "http-accept", [shared = shared_, c] { accept_loop(shared, c); });
  }
  started_ = true;
  rt_.record(Event("HttpServerStarted").detail("port", shared_->local.port).detail("cores", cores));
  return {};
}

void HttpServer::accept_loop(const std::shared_ptr<Shared>& shared, CoreId core) {
  CoreState& cs = *shared->cores[core];
  Runtime& rt = shared->rt;
  const std::size_t per_core_max =
      std::max<std::size_t>(1, shared->options.connections_max / rt.core_count());
  for (;;) {
    auto accepted = cs.listener->accept();
    if (!accepted) {
      const Errc code = accepted.code();
      if (code == Errc::closed || code == Errc::cancelled || cs.stopping) return;
      rt.sleep(kAcceptBackoff);
      continue;
    }
    if (cs.live >= per_core_max || buggify(rt, kBusyReject)) {
      cs.metrics.add(kConnectionsTotal, kConnectionsTotalHelp, 1, {{"outcome", "rejected"}});
      reject(shared, core, std::move(*accepted));
      continue;
    }
    cs.metrics.add(kConnectionsTotal, kConnectionsTotalHelp, 1, {{"outcome", "accepted"}});
    rt.spawn("http-conn", [shared, core, stream = std::move(*accepted)]() mutable {
      CoreState& state = *shared->cores[core];
      FiberExit exit(state.live, state.drained);
      const std::uint64_t id = state.next_id++;
      ServerConnection connection(shared->rt, shared->options, shared->handler, *stream,
                                  state.stopping, state.metrics);
      state.connections.emplace(id, &connection);
      struct Unlist {
        CoreState& state;
        std::uint64_t id;
        ~Unlist() { state.connections.erase(id); }
      } unlist{state, id};
      connection.run();
    });
  }
}

void HttpServer::reject(const std::shared_ptr<Shared>& shared, CoreId core,
                        std::unique_ptr<Stream> stream) {
  CoreState& cs = *shared->cores[core];
  shared->rt.record(Event("HttpConnectionRejected", Severity::warning)
                        .detail("core", core)
                        .detail("live", cs.live));
  if (cs.rejecting >= kRejectingMax) return;  // the stream closes as it goes
  shared->rt.spawn("http-reject", [shared, core, stream = std::move(stream)]() mutable {
    CoreState& state = *shared->cores[core];
    FiberExit exit(state.rejecting, state.drained);
    Runtime& rt = shared->rt;
    const std::string answer =
        format_error_response(rt, shared->options, 503, "too many connections");
    if (stream->write(answer, deadline_after(rt.now(), shared->options.write_timeout))) {
      linger_and_close(rt, shared->options, *stream);
    }
  });
}

void HttpServer::stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  const Instant deadline = deadline_after(rt_.now(), shared_->options.stop_grace);
  // Stop accepting and close idle connections everywhere first, then wait for the busy ones.
  for (CoreId c = 0; c < rt_.core_count(); ++c) {
    (void)run_on(rt_, c, [shared = shared_, c] {
      CoreState& cs = *shared->cores[c];
      cs.stopping = true;
      cs.listener->close();
      for (auto& [id, connection] : cs.connections) {
        if (connection->idle()) connection->close();
      }
    }).get();
  }
  std::size_t forced = 0;
  for (CoreId c = 0; c < rt_.core_count(); ++c) {
    auto left = run_on(rt_, c, [shared = shared_, c, deadline] {
                  CoreState& cs = *shared->cores[c];
                  while (cs.live + cs.rejecting > 0 && shared->rt.now() < deadline)
                    cs.drained.wait(deadline);
                  for (auto& [id, connection] : cs.connections) connection->close();
                  return cs.connections.size();
                }).get();
    forced += left.value_or(0);
  }
  rt_.record(
      Event("HttpServerStopped").detail("port", shared_->local.port).detail("forced", forced));
}

metrics::MetricSet HttpServer::metrics() const {
  DOPPEL_ASSERT_MSG(started_, "metrics() before start()");
  metrics::MetricSet all;
  for (CoreId c = 0; c < rt_.core_count(); ++c) {
    auto one = run_on(rt_, c, [shared = shared_, c] {
                 const CoreState& cs = *shared->cores[c];
                 metrics::MetricSet copy = cs.metrics;
                 copy.set("doppel_http_connections", "Connections open now.",
                          static_cast<double>(cs.live));
                 return copy;
               }).get();
    if (one) all.merge(*one);
  }
  return all;
}

Endpoint HttpServer::local() const {
  DOPPEL_ASSERT_MSG(started_, "local() before start()");
  return shared_->local;
}

}  // namespace doppel::http
