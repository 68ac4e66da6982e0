// The server, router and client end to end in the simulator: keep-alive GET and PUT, a streamed
// 10 MiB download read back byte-exact, ranges, chunked bodies both ways, 404/405/400/413/500
// answers, pipelined requests answered in order, limits, timeouts and a graceful stop while a
// request is in flight -- and the same with split reads and latency on.

#include <catch2/catch.hpp>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "components/http/client.h"
#include "components/http/codec.h"
#include "components/http/parser.h"
#include "components/http/router.h"
#include "components/http/scrape.h"
#include "components/http/server.h"
#include "sim/world.h"

using namespace doppel;
using namespace doppel::http;
using namespace doppel::sim;
using namespace std::chrono_literals;

namespace {

constexpr std::uint16_t kPort = 80;
constexpr std::size_t kPieceBytes = 64u << 10;
constexpr std::uint64_t kBigBytes = 10u << 20;

// Any offset's byte is known without the others.
char pattern_byte(std::uint64_t i) {
  return static_cast<char>((i * 131 + (i >> 13)) & 0xff);
}

struct Checks {
  std::vector<std::string> failures;
  void expect(bool ok, const std::string& what) {
    if (!ok) failures.push_back(what);
  }
};

// Writes bytes [first, first + length) of the pattern in pieces.
BodyWriter pattern_writer(std::uint64_t first, std::uint64_t length) {
  return [first, length](BodySink& sink) -> Status {
    std::string piece;
    for (std::uint64_t at = first; at < first + length;) {
      const auto n =
          static_cast<std::size_t>(std::min<std::uint64_t>(kPieceBytes, first + length - at));
      piece.resize(n);
      for (std::size_t i = 0; i < n; ++i) piece[i] = pattern_byte(at + i);
      if (Status s = sink.write(piece); !s) return s;
      at += n;
    }
    return {};
  };
}

Response blob(const Request& r, std::uint64_t size) {
  const RangeRequest range = parse_range(r.headers.get("Range").value_or(""), size);
  if (range.kind == RangeRequest::Kind::unsatisfiable) {
    Response refused = Response::error(416, "range not satisfiable");
    refused.headers.add("Content-Range", content_range_unsatisfiable(size));
    return refused;
  }
  if (range.kind == RangeRequest::Kind::whole) {
    return Response::streamed(200, size, pattern_writer(0, size));
  }
  Response partial = Response::streamed(206, range.range.length(),
                                        pattern_writer(range.range.first, range.range.length()));
  partial.headers.add("Content-Range", content_range(range.range, size));
  return partial;
}

// A small key-value API over the router, with routes that misbehave on purpose.
class TestService final : public Service {
 public:
  TestService(Runtime& rt, const ServerOptions& options)
      : rt_(rt), server_(rt, Endpoint{"", kPort}, router_.handler(), options) {
    add_routes();
  }
  Status start() { return server_.start(); }
  void stop() override { server_.stop(); }
  Instant after_work_done = kNever;  // by /after's after_sent

 private:
  void add_routes() {
    router_.add("GET", "/metrics", [this](Request&) -> Result<Response> {
      return scrape(server_, metrics::MetricSet());
    });
    router_.add("GET", "/keys/{key}", [this](Request& r) -> Result<Response> {
      auto it = store_.find(std::string(r.param("key")));
      if (it == store_.end()) return Response::error(404, "no such key");
      Response found = Response::text(200, it->second);
      found.headers.add("X-Riak-Vclock", base64_encode(it->first));
      return found;
    });
    router_.add("PUT", "/keys/{key}", [this](Request& r) -> Result<Response> {
      store_[std::string(r.param("key"))] = r.body;
      Response stored;
      stored.status = 204;
      return stored;
    });
    router_.add("GET", "/blob/{size}", [](Request& r) -> Result<Response> {
      return blob(r, std::stoull(std::string(r.param("size"))));
    });
    router_.add("GET", "/chunked/{pieces}", [](Request& r) -> Result<Response> {
      const int pieces = std::stoi(std::string(r.param("pieces")));
      return Response::chunked(200, [pieces](BodySink& sink) -> Status {
        for (int i = 0; i < pieces; ++i) {
          if (Status s = sink.write("piece " + std::to_string(i) + "\n"); !s) return s;
        }
        return {};
      });
    });
    router_.add("POST", "/echo",
                [](Request& r) -> Result<Response> { return Response::text(200, r.body); });
    router_.add("GET", "/slow", [this](Request&) -> Result<Response> {
      rt_.sleep(200ms);
      return Response::text(200, "slow");
    });
    router_.add("GET", "/after", [this](Request&) -> Result<Response> {
      Response r = Response::text(200, "answered");
      r.after_sent = [this] {
        rt_.sleep(300ms);
        after_work_done = rt_.now();
      };
      return r;
    });
    router_.add("GET", "/throw", [](Request&) -> Result<Response> {
      forget_fiber_stack();  // see sim/scheduler.h: before throwing on a fiber's stack
      throw std::runtime_error("boom");
    });
    router_.add("GET", "/fail", [](Request&) -> Result<Response> {
      return make_error(Errc::io_error, "disk on fire");
    });
    router_.add("GET", "/short", [](Request&) -> Result<Response> {
      return Response::streamed(200, 100, pattern_writer(0, 50));
    });
  }

  Runtime& rt_;
  Router router_;
  std::map<std::string, std::string> store_;
  HttpServer server_;
};

ServerOptions test_options() {
  ServerOptions o;
  o.limits.body_bytes_max = 1u << 20;
  return o;
}

// A two-core server node and a client node.
struct Cluster {
  explicit Cluster(std::uint64_t seed, AmbientFaults ambient = {},
                   ServerOptions options = test_options())
      : world(WorldOptions{seed, ambient}) {
    server = world.add_node(NodeSpec{
        "server", 2, false, [this, options](Runtime& rt) -> Result<std::unique_ptr<Service>> {
          auto svc = std::make_unique<TestService>(rt, options);
          if (Status s = svc->start(); !s) return s.error();
          service = svc.get();
          return std::unique_ptr<Service>(std::move(svc));
        }});
    client = world.add_node(NodeSpec{"client", 1, false, {}});
  }

  // Runs `body` in a fiber on the client node, once the server is up, until it returns.
  Checks run(const std::function<void(Runtime&, Checks&)>& body) {
    Checks checks;
    bool done = false;
    world.spawn(client, 0, "test-client", [&] {
      Runtime& rt = world.runtime(client);
      while (service == nullptr) rt.sleep(1ms);
      body(rt, checks);
      done = true;
    });
    world.run_until(instant_ns(3600'000'000'000), [&] { return done; });
    checks.expect(done, "the client did not finish in one simulated hour");
    // End with a graceful stop, so that no fiber is left for the world to cancel. (Under
    // AddressSanitizer, an exception unwinding several frames of a fiber trips over stale
    // use-after-scope poison on the fiber's stack: see forget_fiber_stack in sim/scheduler.h.)
    bool stopped = false;
    world.spawn(server, 0, "test-stop", [&] {
      if (service != nullptr) service->stop();
      stopped = true;
    });
    world.run_until(instant_ns(7200'000'000'000), [&] { return stopped; });
    checks.expect(stopped, "the server did not stop in one simulated hour");
    checks.expect(!world.failed(),
                  "the run failed: " + world.failure().property + ": " + world.failure().detail);
    return checks;
  }

  World world;
  NodeId server = 0;
  NodeId client = 0;
  TestService* service = nullptr;
};

void require_clean(const Checks& c) {
  for (const auto& f : c.failures) UNSCOPED_INFO(f);
  REQUIRE(c.failures.empty());
}

struct RawReply {
  ResponseHead head;
  std::string body;
};

// Writes `bytes` on a fresh connection and reads `expected` responses (fewer if it closes).
std::vector<RawReply> raw(Runtime& rt, std::string_view bytes, std::size_t expected) {
  std::vector<RawReply> replies;
  auto stream = rt.net().connect(Endpoint{"server", kPort}, 5s);
  if (!stream || !(*stream)->write(bytes, rt.now() + 30s)) return replies;
  ResponseParser parser;
  std::string in;
  std::vector<char> buffer(4096);
  parser.expect(false, 1u << 30);
  std::size_t complete = 0;
  while (complete < expected) {
    std::size_t used = 0;
    ResponseOutcome o = parser.parse(in, &used);
    if (auto* head = std::get_if<ResponseHead>(&o); head && head->status >= 200) {
      replies.push_back(RawReply{*head, {}});
    } else if (auto* piece = std::get_if<BodyPiece>(&o)) {
      replies.back().body.append(piece->bytes);
    } else if (std::holds_alternative<MessageEnd>(o)) {
      if (++complete < expected) parser.expect(false, 1u << 30);
    } else if (std::holds_alternative<ParseError>(o)) {
      break;
    }
    in.erase(0, used);
    if (!std::holds_alternative<NeedMoreBytes>(o)) continue;
    auto n = (*stream)->read(buffer, rt.now() + 30s);
    if (!n || *n == 0) break;
    in.append(buffer.data(), *n);
  }
  return replies;
}

std::string get_request(std::string_view target, std::string_view extra = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: server\r\n" + std::string(extra) +
         "\r\n";
}

void keep_alive_get_and_put(Runtime& rt, HttpClient& client, Checks& c) {
  auto soon = [&rt] { return rt.now() + 60s; };
  auto missing = client.get("/keys/nothing", soon());
  c.expect(missing.ok() && missing->status == 404, "GET of a missing key is not 404");
  c.expect(missing.ok() && missing->body == "no such key\n", "the 404 has no one-line reason");
  auto put = client.put("/keys/k%201", "value one", "text/plain", soon());
  c.expect(put.ok() && put->status == 204, "PUT is not 204");
  auto got = client.get("/keys/k%201", soon());
  c.expect(got.ok() && got->status == 200 && got->body == "value one", "GET after PUT");
  c.expect(got.ok() && got->headers.get("X-Riak-Vclock") == base64_encode("k 1"), "vclock");
  c.expect(got.ok() && got->headers.has("Date"), "no Date field");
  c.expect(client.idle_connections() == 1, "the connection was not kept alive");
}

void streamed_download(Runtime& rt, HttpClient& client, Checks& c) {
  std::uint64_t offset = 0;
  bool exact = true;
  ClientRequest request;
  request.target = "/blob/" + std::to_string(kBigBytes);
  auto big = client.request_streamed(request, rt.now() + 600s, [&](std::string_view piece) {
    for (char ch : piece) exact = exact && ch == pattern_byte(offset++);
    return Status{};
  });
  c.expect(big.ok() && big->status == 200, "the 10 MiB download failed");
  c.expect(offset == kBigBytes && exact, "the 10 MiB download came back different");
  c.expect(big.ok() && big->headers.get("Content-Length") == std::to_string(kBigBytes),
           "the download had no Content-Length");
  auto whole = client.get("/blob/300000", rt.now() + 60s);
  bool same = whole.ok() && whole->body.size() == 300000;
  for (std::size_t i = 0; same && i < whole->body.size(); ++i) {
    same = whole->body[i] == pattern_byte(i);
  }
  c.expect(same, "a whole 300000-byte body came back different");
}

void ranges_and_head(Runtime& rt, HttpClient& client, Checks& c) {
  ClientRequest ranged;
  ranged.target = "/blob/1000";
  ranged.headers.add("Range", "bytes=10-19");
  auto part = client.request(ranged, rt.now() + 60s);
  std::string expected;
  for (int i = 10; i < 20; ++i) expected += pattern_byte(static_cast<std::uint64_t>(i));
  c.expect(part.ok() && part->status == 206 && part->body == expected, "Range: bytes=10-19");
  c.expect(part.ok() && part->headers.get("Content-Range") == "bytes 10-19/1000",
           "no Content-Range on a 206");
  ranged.headers.set("Range", "bytes=5000-");
  auto refused = client.request(ranged, rt.now() + 60s);
  c.expect(refused.ok() && refused->status == 416, "a range past the end is not 416");
  c.expect(refused.ok() && refused->headers.get("Content-Range") == "bytes */1000",
           "a 416 without Content-Range");
  ClientRequest head;
  head.method = "HEAD";
  head.target = "/blob/100";
  auto h = client.request(head, rt.now() + 60s);
  c.expect(h.ok() && h->status == 200 && h->body.empty(), "HEAD");
  c.expect(h.ok() && h->headers.get("Content-Length") == "100", "HEAD without Content-Length");
}

void chunked_both_ways(Runtime& rt, HttpClient& client, Checks& c) {
  auto down = client.get("/chunked/30", rt.now() + 60s);
  std::string expected;
  for (int i = 0; i < 30; ++i) expected += "piece " + std::to_string(i) + "\n";
  c.expect(down.ok() && down->body == expected, "a chunked download came back different");
  c.expect(down.ok() && down->headers.has_token("Transfer-Encoding", "chunked"), "not chunked");
  ClientRequest up;
  up.method = "POST";
  up.target = "/echo";
  std::string sent;
  up.body_writer = [&sent](BodySink& sink) -> Status {
    for (int i = 0; i < 50; ++i) {
      const std::string piece = "upload " + std::to_string(i) + ";";
      sent += piece;
      if (Status s = sink.write(piece); !s) return s;
    }
    return {};
  };
  const Instant started = rt.now();
  auto echoed = client.request(up, rt.now() + 600s);
  c.expect(echoed.ok() && echoed->status == 200 && echoed->body == sent, "a chunked upload");
  // The client waits up to a minute for "100 Continue" (see exercise()): it came at once.
  c.expect(rt.now() - started < 10s, "the server did not answer Expect: 100-continue");
  ClientRequest sized;
  sized.method = "PUT";
  sized.target = "/keys/streamed";
  sized.body_writer = pattern_writer(0, 3000);
  sized.body_length = 3000;
  auto stored = client.request(sized, rt.now() + 60s);
  auto back = client.get("/keys/streamed", rt.now() + 60s);
  c.expect(stored.ok() && stored->status == 204 && back.ok() && back->body.size() == 3000 &&
               back->body[2999] == pattern_byte(2999),
           "a streamed upload of known length");
}

void error_answers(Runtime& rt, HttpClient& client, Checks& c) {
  auto wrong = client.remove("/blob/5", rt.now() + 60s);
  c.expect(wrong.ok() && wrong->status == 405 && wrong->headers.get("Allow") == "GET, HEAD",
           "a wrong method is not 405 with Allow");
  auto thrown = client.get("/throw", rt.now() + 60s);
  c.expect(thrown.ok() && thrown->status == 500 && thrown->body == "handler threw: boom\n",
           "a handler that throws is not 500");
  auto failed = client.get("/fail", rt.now() + 60s);
  c.expect(failed.ok() && failed->status == 500 &&
               failed->body.find("disk on fire") != std::string::npos,
           "a handler that fails is not 500");
  auto large = client.put("/keys/big", std::string(2u << 20, 'b'), "", rt.now() + 60s);
  c.expect(large.ok() && large->status == 413 && large->body == "body too large\n",
           "a body over the limit is not 413");
  auto cut = client.get("/short", rt.now() + 60s);
  c.expect(!cut.ok() && cut.code() == Errc::protocol, "a short streamed body is not an error");
  auto after = client.get("/keys/k%201", rt.now() + 60s);
  c.expect(after.ok() && after->status == 200, "the client did not recover after errors");
  HttpClient bounded(rt, Endpoint{"server", kPort},
                     ClientOptions{.limits = {.body_bytes_max = 1000}});
  auto too_big = bounded.get("/blob/5000", rt.now() + 60s);
  c.expect(!too_big.ok() && too_big.code() == Errc::too_large, "the client's body limit");
}

void raw_answers(Runtime& rt, Checks& c) {
  auto no_host = raw(rt, "GET / HTTP/1.1\r\n\r\n", 1);
  c.expect(no_host.size() == 1 && no_host[0].head.status == 400 &&
               no_host[0].body == "no Host field\n" && !no_host[0].head.keep_alive,
           "a request without Host is not 400 with a reason, closed: " +
               (no_host.empty() ? std::string("no answer")
                                : std::to_string(no_host[0].head.status) + " " + no_host[0].body));
  auto huge = raw(rt, "PUT /keys/x HTTP/1.1\r\nHost: s\r\nContent-Length: 99999999\r\n\r\nabc", 1);
  c.expect(huge.size() == 1 && huge[0].head.status == 413, "a huge Content-Length is not 413");
  const std::string pipelined = get_request("/keys/k%201") + get_request("/keys/none") +
                                "PUT /keys/p HTTP/1.1\r\nHost: s\r\nContent-Length: 2\r\n\r\nhi" +
                                get_request("/keys/p") + get_request("/chunked/2") +
                                get_request("/keys/k%201", "Connection: close\r\n");
  auto old = raw(rt, "GET /chunked/2 HTTP/1.0\r\n\r\n", 1);
  c.expect(old.size() == 1 && old[0].body == "piece 0\npiece 1\n" &&
               !old[0].head.headers.has("Transfer-Encoding"),
           "a body of unknown length to an HTTP/1.0 client is not ended by the close");
  auto answers = raw(rt, pipelined, 6);
  const std::vector<int> statuses = {200, 404, 204, 200, 200, 200};
  bool in_order = answers.size() == statuses.size();
  for (std::size_t i = 0; in_order && i < answers.size(); ++i) {
    in_order = answers[i].head.status == statuses[i];
  }
  c.expect(in_order, "pipelined requests were not answered in order");
  c.expect(in_order && answers[0].body == "value one" && answers[3].body == "hi" &&
               answers[4].body == "piece 0\npiece 1\n" && !answers[5].head.keep_alive,
           "pipelined answers have the wrong bodies");
}

void exercise(Runtime& rt, Checks& c) {
  HttpClient client(rt, Endpoint{"server", kPort}, ClientOptions{.expect_continue_timeout = 60s});
  keep_alive_get_and_put(rt, client, c);
  streamed_download(rt, client, c);
  ranges_and_head(rt, client, c);
  chunked_both_ways(rt, client, c);
  error_answers(rt, client, c);
  raw_answers(rt, c);
}

void keep_alive_get_and_put_and_raw(Runtime& rt, Checks& c) {
  HttpClient client(rt, Endpoint{"server", kPort});
  keep_alive_get_and_put(rt, client, c);
  raw_answers(rt, c);
}

}  // namespace

TEST_CASE("http server: clients get and put and stream and pipeline and get errors end to end",
          "[sim]") {
  Cluster cluster(1);
  require_clean(cluster.run(exercise));
}

TEST_CASE("http server: the same end to end with split reads and latency", "[sim]") {
  AmbientFaults faults;
  faults.split_reads = true;
  faults.latency = true;
  for (std::uint64_t seed = 10; seed < 13; ++seed) {
    INFO("seed " << seed);
    Cluster cluster(seed, faults);
    require_clean(cluster.run(exercise));
  }
}

TEST_CASE("http server: the same seed runs the same trace", "[sim]") {
  AmbientFaults faults;
  faults.split_reads = true;
  faults.latency = true;
  auto hash = [&](std::uint64_t seed) {
    Cluster cluster(seed, faults);
    require_clean(cluster.run(keep_alive_get_and_put_and_raw));
    return cluster.world.trace().hash();
  };
  REQUIRE(hash(5) == hash(5));
}

TEST_CASE("http server: a graceful stop lets the request in flight finish", "[sim]") {
  Cluster cluster(2);
  Instant stopped_at = kNever;
  Instant answered_at = kNever;
  cluster.world.spawn(cluster.server, 0, "stopper", [&] {
    Runtime& rt = cluster.world.runtime(cluster.server);
    while (cluster.service == nullptr) rt.sleep(1ms);
    rt.sleep(100ms);
    cluster.service->stop();
    stopped_at = rt.now();
  });
  require_clean(cluster.run([&](Runtime& rt, Checks& c) {
    HttpClient idle(rt, Endpoint{"server", kPort});
    c.expect(idle.get("/keys/x", rt.now() + 10s).ok(), "the idle client's first request");
    rt.sleep(50ms);  // the stop comes during the slow request
    HttpClient busy(rt, Endpoint{"server", kPort});
    auto slow = busy.get("/slow", rt.now() + 10s);
    answered_at = rt.now();
    c.expect(slow.ok() && slow->status == 200 && slow->body == "slow", "the slow request failed");
    c.expect(slow.ok() && !slow->keep_alive, "the answer during a stop did not close");
    while (stopped_at == kNever) rt.sleep(10ms);
    c.expect(stopped_at >= answered_at - 10ms, "stop() returned before the request finished");
    auto again = idle.get("/keys/x", rt.now() + 10s);
    c.expect(!again.ok() && again.code() == Errc::refused, "the server still answers");
  }));
}

TEST_CASE(
    "http server: a response's after_sent work runs once the client has the response, "
    "before the connection's next request",
    "[sim]") {
  Cluster cluster(6);
  require_clean(cluster.run([&](Runtime& rt, Checks& c) {
    HttpClient client(rt, Endpoint{"server", kPort});
    const Instant asked = rt.now();
    auto first = client.get("/after", rt.now() + 10s);
    c.expect(first.ok() && first->body == "answered", "the first answer");
    c.expect(rt.now() - asked < 300ms, "the client waited for the work left for after");
    c.expect(cluster.service->after_work_done == kNever, "the work ran before the answer");
    auto next = client.get("/keys/x", rt.now() + 10s);  // the same connection
    c.expect(next.ok(), "the next request");
    c.expect(
        cluster.service->after_work_done != kNever && rt.now() >= cluster.service->after_work_done,
        "the next request was answered before the work was done");
  }));
}

TEST_CASE("http server: connections over the limit get 503 and stalled requests 408", "[sim]") {
  ServerOptions options = test_options();
  options.connections_max = 2;  // one per core
  options.idle_timeout = 1s;
  Cluster cluster(3, {}, options);
  require_clean(cluster.run([&](Runtime& rt, Checks& c) {
    std::vector<std::unique_ptr<Stream>> held;
    for (int i = 0; i < 4; ++i) {
      auto s = rt.net().connect(Endpoint{"server", kPort}, 5s);
      if (s) held.push_back(std::move(*s));
    }
    rt.sleep(10ms);
    int ok = 0, refused = 0;
    for (auto& s : held) {
      if (!s->write(get_request("/keys/none"), rt.now() + 5s)) continue;
      ResponseParser parser;
      parser.expect(false, 1 << 20);
      std::string in;
      char buffer[4096];
      for (;;) {
        std::size_t used = 0;
        ResponseOutcome o = parser.parse(in, &used);
        if (auto* head = std::get_if<ResponseHead>(&o)) {
          ok += head->status == 404;
          refused += head->status == 503;
          break;
        }
        auto n = s->read(buffer, rt.now() + 5s);
        if (!n || *n == 0) break;
        in.append(buffer, *n);
      }
    }
    c.expect(ok >= 1 && ok <= 2 && ok + refused == 4, "the connection limit was not kept");
    held.clear();
    rt.sleep(100ms);  // the server sees the closes
    auto stalled = raw(rt, "GET /keys/x HTTP/1.1\r\n", 1);
    c.expect(stalled.size() == 1 && stalled[0].head.status == 408, "a stalled request got no 408");
  }));
}

TEST_CASE(
    "http server: /metrics counts answers by method, route and status, body bytes and time per "
    "route, and connections, summed over the server's cores",
    "[sim]") {
  Cluster cluster(7);
  require_clean(cluster.run([&](Runtime& rt, Checks& c) {
    // Two clients: the server's two cores likely each take one; the scrape sums them.
    HttpClient a(rt, Endpoint{"server", kPort});
    HttpClient b(rt, Endpoint{"server", kPort});
    for (int i = 0; i < 3; ++i) c.expect(a.get("/keys/missing", rt.now() + 10s).ok(), "get");
    c.expect(b.put("/keys/k", "abcd", "text/plain", rt.now() + 10s).ok(), "put");
    c.expect(a.put("/keys/k", "ef", "text/plain", rt.now() + 10s).ok(), "put");
    c.expect(b.get("/no/such/route", rt.now() + 10s).ok(), "unrouted get");
    auto m = a.get("/metrics", rt.now() + 10s);
    c.expect(m.ok() && m->status == 200, "the scrape");
    if (!m.ok()) return;
    c.expect(
        m->headers.get("Content-Type").value_or("") == "text/plain; version=0.0.4; charset=utf-8",
        "the exposition format's content type");
    const std::string& text = m->body;
    auto has = [&](const std::string& line) {
      c.expect(text.find("\n" + line + "\n") != std::string::npos, "no line: " + line);
    };
    has("# TYPE doppel_http_requests_total counter");
    has(R"(doppel_http_requests_total{method="GET",route="/keys/{key}",code="404"} 3)");
    has(R"(doppel_http_requests_total{method="PUT",route="/keys/{key}",code="204"} 2)");
    has(R"(doppel_http_requests_total{method="GET",route="unrouted",code="404"} 1)");
    has(R"(doppel_http_request_body_bytes_total{route="/keys/{key}"} 6)");
    has(R"(doppel_http_request_duration_seconds_count{route="/keys/{key}"} 5)");
    has(R"(doppel_http_request_duration_seconds_bucket{route="/keys/{key}",le="+Inf"} 5)");
    has(R"(doppel_http_connections_total{outcome="accepted"} 2)");
    has("doppel_http_connections 2");
  }));
}

// Sends `head` a piece at a time, a piece every `gap`, then `body` likewise (if any), reading
// between pieces; returns what came back and when (from the first byte sent).
struct Trickled {
  std::string answer;
  Duration after{};
};
Trickled trickle(Runtime& rt, const std::string& head, std::size_t head_piece,
                 const std::string& body, std::size_t body_piece, Duration gap) {
  Trickled t;
  auto s = rt.net().connect(Endpoint{"server", kPort}, 5s);
  if (!s) return t;
  const Instant start = rt.now();
  char buffer[4096];
  auto send_all = [&](const std::string& bytes, std::size_t piece) {
    for (std::size_t at = 0; at < bytes.size(); at += piece) {
      if (!(*s)->write(bytes.substr(at, piece), rt.now() + 5s)) return false;
      auto n = (*s)->read(buffer, rt.now() + gap);  // the gap, unless the server answers
      if (n && *n > 0) {
        t.answer.append(buffer, *n);
        t.after = rt.now() - start;
        return false;
      }
      if (!n && n.code() != Errc::timed_out) return false;
    }
    return true;
  };
  if (send_all(head, head_piece)) send_all(body, body_piece);
  return t;
}

TEST_CASE(
    "http server: a head or a body that trickles in is cut off with 408 by its own deadline, "
    "though each piece comes well within the idle timeout",
    "[sim]") {
  ServerOptions options = test_options();  // idle_timeout 30 s; header 20 s; body 500 B/s
  Cluster cluster(8, {}, options);
  require_clean(cluster.run([&](Runtime& rt, Checks& c) {
    const std::string head =
        "GET /keys/x HTTP/1.1\r\nHost: h\r\nX-Padding: " + std::string(40, 'p') + "\r\n\r\n";
    Trickled slow_head = trickle(rt, head, 1, "", 1, 5s);  // a byte every 5 s
    c.expect(slow_head.answer.starts_with("HTTP/1.1 408"),
             "a slow head was answered: " + slow_head.answer.substr(0, 40));
    c.expect(slow_head.answer.find("request header section too slow") != std::string::npos,
             "a slow head's reason: " + slow_head.answer);
    c.expect(slow_head.after >= 19s && slow_head.after <= 26s,
             "a slow head was cut off after " + std::to_string(to_ns(slow_head.after) / 1000000) +
                 " ms, not about 20 s");

    // 100 bytes a second: under 500 B/s, cut off once the bytes so far are due (about 25 s).
    const std::string put = "PUT /keys/k HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\n";
    Trickled slow_body = trickle(rt, put, put.size(), std::string(100000, 'b'), 100, 1s);
    c.expect(slow_body.answer.starts_with("HTTP/1.1 408"),
             "a slow body was answered: " + slow_body.answer.substr(0, 40));
    c.expect(slow_body.answer.find("request body too slow") != std::string::npos,
             "a slow body's reason: " + slow_body.answer);
    c.expect(slow_body.after >= 20s && slow_body.after <= 30s,
             "a slow body was cut off after " + std::to_string(to_ns(slow_body.after) / 1000000) +
                 " ms, not about 25 s");

    // A body at 1000 B/s (twice the minimum) is read whole and stored.
    Trickled fine = trickle(rt, put.substr(0, put.find("100000")) + "30000\r\n\r\n", 64,
                            std::string(30000, 'f'), 1000, 1s);
    c.expect(fine.answer.starts_with("HTTP/1.1 204"),
             "a body at twice the minimum rate: " + fine.answer.substr(0, 40));
  }));
}
