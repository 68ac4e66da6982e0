#include "components/dvv/api/http_api.h"

#include <charconv>

#include "components/dvv/dvv.h"
#include "components/http/codec.h"
#include "components/http/scrape.h"
#include "runtime/future.h"

namespace doppel::dvv {

using http::Request;
using http::Response;

namespace {

std::string vtag(const Sibling& s) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx",
                static_cast<unsigned long long>(hash64(encode_sibling(s))));
  return buf;
}

// r=2, r=quorum, r=one, r=all; nothing when absent.
Result<std::optional<std::uint32_t>> quorum_param(const Request& r, std::string_view name,
                                                  std::uint32_t n_val) {
  auto v = r.query_param(name);
  if (!v) return std::optional<std::uint32_t>();
  if (*v == "quorum" || *v == "default") return std::optional<std::uint32_t>(BucketProps::kQuorum);
  if (*v == "all") return std::optional<std::uint32_t>(n_val);
  if (*v == "one") return std::optional<std::uint32_t>(1u);
  std::uint32_t q = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), q);
  if (ec != std::errc() || p != v->data() + v->size() || q > n_val) {
    return make_error(Errc::invalid_argument, std::string(name) + "=" + std::string(*v) +
                                                  ": expected 0 to n_val (" +
                                                  std::to_string(n_val) + "), quorum, one or all");
  }
  return std::optional<std::uint32_t>(q);
}

Result<RequestOptions> options_of(const Request& r, const BucketProps& p) {
  RequestOptions o;
  for (auto [name, field] : {std::pair{"r", &o.r}, std::pair{"w", &o.w}, std::pair{"dw", &o.dw},
                             std::pair{"pr", &o.pr}, std::pair{"pw", &o.pw}}) {
    auto q = quorum_param(r, name, p.n_val);
    if (!q) return q.error();
    *field = *q;
  }
  if (auto id = r.headers.get("X-Riak-ClientId")) o.client_id = std::string(*id);
  return o;
}

// The causal context a client hands back, if any: X-Riak-Vclock, base64.
Result<std::optional<std::string>> context_of(const Request& r) {
  auto vclock = r.headers.get("X-Riak-Vclock");
  if (!vclock) return std::optional<std::string>();
  auto bytes = http::base64_decode(*vclock);
  if (!bytes) return make_error(Errc::invalid_argument, "X-Riak-Vclock: not base64");
  return std::optional<std::string>(std::move(*bytes));
}

Response status_of(const Error& e) {
  switch (e.code) {
    case Errc::invalid_argument:
      return Response::error(400, e.what);
    case Errc::too_large:
      return Response::error(413, e.what);
    case Errc::timed_out:
    case Errc::unreachable:
    case Errc::refused:
    case Errc::reset:
    case Errc::stale:
      return Response::error(503, e.message());
    default:
      return Response::error(500, e.message());
  }
}

Response sibling_response(int status, const Sibling& s, const std::string& context,
                          std::size_t entries) {
  Response out = Response::text(status, s.body);
  out.headers.set("Content-Type", s.content_type);
  out.headers.set("X-Riak-Vclock", http::base64_encode(context));
  out.headers.set("ETag", vtag(s));
  out.headers.set("X-Doppel-Clock-Entries", std::to_string(entries));
  return out;
}

}  // namespace

HttpApi::HttpApi(DvvNode& node, metrics::EventCountingRuntime& rt) : node_(node), rt_(rt) {
  routes();
}

Result<Response> HttpApi::on_core0(Request& request, Result<Response> (HttpApi::*fn)(Request&)) {
  // The node's logic lives on core 0; requests accepted elsewhere go there.
  if (rt_.this_core() == 0) return (this->*fn)(request);
  auto got = run_on(rt_, 0, [this, &request, fn] { return (this->*fn)(request); }).get();
  if (!got) return Response::error(503, "the node is stopping");
  return std::move(*got);
}

void HttpApi::routes() {
  auto bind = [this](Result<Response> (HttpApi::*fn)(Request&)) {
    return [this, fn](Request& r) { return on_core0(r, fn); };
  };
  router_.add("GET", "/buckets/{bucket}/keys/{key}", bind(&HttpApi::get));
  router_.add("PUT", "/buckets/{bucket}/keys/{key}", bind(&HttpApi::put));
  router_.add("POST", "/buckets/{bucket}/keys/{key}", bind(&HttpApi::put));
  router_.add("DELETE", "/buckets/{bucket}/keys/{key}", bind(&HttpApi::remove));
  router_.add("GET", "/buckets/{bucket}/props", bind(&HttpApi::get_props));
  router_.add("PUT", "/buckets/{bucket}/props", bind(&HttpApi::put_props));
  router_.add("GET", "/stats", bind(&HttpApi::stats));
  router_.add("GET", "/debug/local/buckets/{bucket}/keys/{key}", bind(&HttpApi::debug_local));
  router_.add("GET", "/admin/cluster", bind(&HttpApi::cluster_status));
  router_.add("GET", "/admin/cluster/plan", bind(&HttpApi::cluster_plan));
  router_.add("POST", "/admin/cluster/{op}", bind(&HttpApi::cluster_stage));
  router_.add("DELETE", "/admin/cluster/staged", bind(&HttpApi::cluster_clear));
  // Answered on the core it arrives at: the server's and events' parts gather from every core.
  router_.add("GET", "/metrics", [this](Request& r) { return metrics(r); });
  router_.add("GET", "/ping",
              [](Request&) -> Result<Response> { return Response::text(200, "OK"); });
}

Status HttpApi::start(const Endpoint& at) {
  gate_ = std::make_unique<access::Gate>(rt_, node_.config().access.users, "doppel-dvv");
  http::ServerOptions options;
  options.tls = node_.config().access.tls;
  server_ = std::make_unique<http::HttpServer>(rt_, at, gate_->guard(router_.handler()), options);
  return server_->start();
}

void HttpApi::stop() {
  if (server_) server_->stop();
}

Result<Response> HttpApi::get(Request& r) {
  const ObjectKey key{std::string(r.param("bucket")), std::string(r.param("key"))};
  const BucketProps p = node_.props(key.bucket);
  auto o = options_of(r, p);
  if (!o) return status_of(o.error());
  auto got = node_.get(key, *o);
  if (!got) return status_of(got.error());
  if (!got->found) {
    Response out = Response::error(404, "not found");
    if (!got->context.empty()) out.headers.set("X-Riak-Vclock", http::base64_encode(got->context));
    return out;
  }
  if (auto want = r.query_param("vtag")) {
    for (const Sibling& s : got->siblings) {
      if (vtag(s) == *want) return sibling_response(200, s, got->context, got->clock_entries);
    }
    return Response::error(404, "no sibling with vtag " + std::string(*want));
  }
  if (got->siblings.size() == 1)
    return sibling_response(200, got->siblings[0], got->context, got->clock_entries);
  std::vector<http::Part> parts;
  for (const Sibling& s : got->siblings) {
    http::Part part;
    part.headers.set("Content-Type", s.content_type);
    part.headers.set("ETag", vtag(s));
    part.body = s.body;
    parts.push_back(std::move(part));
  }
  const std::string boundary = http::make_boundary(rt_.random());
  auto body = http::multipart_write(parts, boundary);
  if (!body) return status_of(body.error());
  Response out = Response::text(300, std::move(*body));
  out.headers.set("Content-Type", http::multipart_content_type(boundary));
  out.headers.set("X-Riak-Vclock", http::base64_encode(got->context));
  out.headers.set("X-Doppel-Clock-Entries", std::to_string(got->clock_entries));
  return out;
}

Result<Response> HttpApi::put(Request& r) {
  const ObjectKey key{std::string(r.param("bucket")), std::string(r.param("key"))};
  if (key.bucket.empty() || key.key.empty()) return Response::error(400, "empty bucket or key");
  const BucketProps p = node_.props(key.bucket);
  auto o = options_of(r, p);
  if (!o) return status_of(o.error());
  auto context = context_of(r);
  if (!context) return Response::error(400, context.error().what);
  Sibling value;
  value.body = std::move(r.body);
  if (auto ct = r.headers.get("Content-Type")) value.content_type = std::string(*ct);
  auto put = node_.put(key, std::move(value), std::move(*context), *o);
  if (!put) return status_of(put.error());
  if (r.query_param("returnbody") == std::optional<std::string_view>("true") &&
      put->siblings.size() == 1) {
    return sibling_response(200, put->siblings[0], put->context, put->clock_entries);
  }
  Response out = Response::text(204, "");
  out.headers.set("X-Riak-Vclock", http::base64_encode(put->context));
  out.headers.set("X-Doppel-Clock-Entries", std::to_string(put->clock_entries));
  return out;
}

Result<Response> HttpApi::remove(Request& r) {
  const ObjectKey key{std::string(r.param("bucket")), std::string(r.param("key"))};
  const BucketProps p = node_.props(key.bucket);
  auto o = options_of(r, p);
  if (!o) return status_of(o.error());
  auto context = context_of(r);
  if (!context) return Response::error(400, context.error().what);
  auto done = node_.remove(key, std::move(*context), *o);
  if (!done) return status_of(done.error());
  return Response::text(204, "");
}

Result<Response> HttpApi::get_props(Request& r) {
  const BucketProps p = node_.props(std::string(r.param("bucket")));
  Response out = Response::text(200, props_to_json(p));
  out.headers.set("Content-Type", "application/json");
  out.headers.set("ETag", props_etag(p.version));
  return out;
}

Result<Response> HttpApi::put_props(Request& r) {
  const std::string bucket(r.param("bucket"));
  std::optional<std::uint64_t> if_version;
  if (auto tag = r.headers.get("If-Match"); tag && *tag != "*") {
    if_version = props_etag_version(*tag);
    if (!if_version) return Response::error(400, "If-Match: expected an ETag of GET props");
  }
  auto p = props_from_json(r.body, node_.props(bucket));
  if (!p) return Response::error(400, p.error().what);
  auto applied = node_.set_props(bucket, *p, if_version);
  if (!applied) return status_of(applied.error());
  if (!*applied) return Response::error(412, "the bucket's props changed since that ETag");
  return Response::text(204, "");
}

Result<Response> HttpApi::stats(Request&) {
  const ObjectLog& log = node_.log();
  std::string up;
  for (NodeIndex n = 0; n < node_.nodes(); ++n)
    up += (up.empty() ? "" : ",") + std::string(node_.peer_up(n) ? "true" : "false");
  Response out = Response::text(
      200, "{\"node\":" + std::to_string(node_.self()) +
               ",\"objects\":" + std::to_string(log.objects()) +
               ",\"unserved\":" + std::to_string(node_.unserved_objects()) +
               ",\"live_bytes\":" + std::to_string(log.live_bytes()) +
               ",\"log_bytes\":" + std::to_string(log.log_bytes()) + ",\"peers_up\":[" + up + "]}");
  out.headers.set("Content-Type", "application/json");
  return out;
}

Result<Response> HttpApi::metrics(Request&) {
  auto node = run_on(rt_, 0, [this] { return node_.metrics(); }).get();
  if (!node) return Response::error(503, "the node is stopping");
  node->merge(rt_.metrics());
  return http::scrape(*server_, std::move(*node));
}

Result<Response> HttpApi::debug_local(Request& r) {
  const ObjectKey key{std::string(r.param("bucket")), std::string(r.param("key"))};
  const StoredObject* s = node_.log().find(key);
  if (s == nullptr) return Response::error(404, "no local replica");
  // One line per sibling: its vtag and body length; then the clock size.
  std::vector<std::string> lines;
  for (const Value& v : s->object.siblings()) {
    auto sib = decode_sibling(v);
    if (sib)
      lines.push_back((sib->tombstone ? "tombstone " : "value ") + vtag(*sib) + " " + sib->body);
  }
  std::sort(lines.begin(), lines.end());
  std::string body = "entries " + std::to_string(s->object.clock_entry_count()) + "\n";
  for (const auto& l : lines) body += l + "\n";
  // The clock itself, as a GET hands it out: an oracle measures it from these bytes.
  Response out = Response::text(200, std::move(body));
  out.headers.set("X-Riak-Vclock", http::base64_encode(encode_context(s->object.context())));
  return out;
}

Result<std::unique_ptr<Service>> boot(Runtime& rt, const NodeConfig& config,
                                      const DvvSettings& settings) {
  if (Status s = check_cluster(config, settings); !s) return s.error();
  auto counted = std::make_unique<metrics::EventCountingRuntime>(rt);
  auto node = std::make_unique<DvvNode>(*counted, config, settings);
  if (Status s = node->start(); !s) return s.error();
  auto api = std::make_unique<HttpApi>(*node, *counted);
  if (Status s = api->start(config.listen); !s) {
    node->stop();
    return make_error(s.code(),
                      "listen on " + config.listen.to_string() + ": " + s.error().message());
  }
  return std::unique_ptr<Service>(
      new DvvService(std::move(counted), std::move(node), std::move(api)));
}

}  // namespace doppel::dvv
