#include "components/dvv/client/riak_client.h"

#include <charconv>

#include "base/json.h"
#include "components/http/codec.h"

namespace doppel::dvv {
namespace {

// Of a failed write's answer, what is kept as its reason (a node's errors are one line).
constexpr std::size_t kErrorBytesMax = 256;

void add_param(std::string& target, std::string_view name, std::string_view value) {
  if (value.empty()) return;
  target += target.find('?') == std::string::npos ? '?' : '&';
  target += name;
  target += '=';
  target += value;
}

std::size_t clock_entries_of(const http::Response& r) {
  std::size_t n = 0;
  if (auto e = r.headers.get("X-Doppel-Clock-Entries")) {
    std::from_chars(e->data(), e->data() + e->size(), n);
  }
  return n;
}

}  // namespace

std::string object_target(std::string_view bucket, std::string_view key, const Quorum& q) {
  std::string target = "/buckets/" + std::string(bucket) + "/keys/" + std::string(key);
  add_param(target, "r", q.r);
  add_param(target, "pr", q.pr);
  add_param(target, "w", q.w);
  add_param(target, "dw", q.dw);
  add_param(target, "pw", q.pw);
  if (q.returnbody) add_param(target, "returnbody", "true");
  return target;
}

std::string props_json(const BucketPropsUpdate& p) {
  JsonWriter w;
  w.begin_object().key("props").begin_object();
  if (p.n_val) w.field("n_val", *p.n_val);
  if (p.allow_mult) w.field("allow_mult", *p.allow_mult);
  if (p.clock) w.field("clock", std::string_view(*p.clock));
  w.end_object().end_object();
  return w.take();
}

Result<std::vector<std::string>> siblings_of(const http::Response& r) {
  std::vector<std::string> out;
  if (r.status == 200) {
    out.push_back(r.body);
    return out;
  }
  DOPPEL_ASSERT(r.status == 300);
  auto boundary = http::multipart_boundary(r.headers.get("Content-Type").value_or(""));
  if (!boundary) return make_error(Errc::protocol, "300 without a multipart boundary");
  auto parts = http::multipart_parse(r.body, *boundary);
  if (!parts) return make_error(Errc::protocol, "bad multipart body");
  for (auto& p : *parts) out.push_back(std::move(p.body));
  return out;
}

RiakClient::RiakClient(Runtime& rt, Endpoint node, http::ClientOptions options)
    : http_(rt, std::move(node), std::move(options)) {}

Result<RiakObject> RiakClient::get(std::string_view bucket, std::string_view key,
                                   const Quorum& quorum, Instant deadline) {
  auto resp = http_.get(object_target(bucket, key, quorum), deadline);
  if (!resp) return resp.error();
  RiakObject o;
  o.status = resp->status;
  if (auto v = resp->headers.get("X-Riak-Vclock")) o.vclock = std::string(*v);
  o.clock_entries = clock_entries_of(*resp);
  if (o.status == 404) return o;
  if (!o.found()) {
    return make_error(Errc::unreachable,
                      "GET answered " + std::to_string(resp->status) + ": " + resp->body);
  }
  auto siblings = siblings_of(*resp);
  if (!siblings) return siblings.error();
  o.siblings = std::move(*siblings);
  return o;
}

Result<RiakObject> RiakClient::written(Result<http::Response> resp) {
  if (!resp) return resp.error();
  RiakObject o;
  o.status = resp->status;
  if (auto v = resp->headers.get("X-Riak-Vclock")) o.vclock = std::string(*v);
  o.clock_entries = clock_entries_of(*resp);
  if (o.found()) {
    auto siblings = siblings_of(*resp);
    if (!siblings) return siblings.error();
    o.siblings = std::move(*siblings);
  } else if (o.status >= 400) {
    o.error = resp->body.substr(0, kErrorBytesMax);
    while (!o.error.empty() && (o.error.back() == '\n' || o.error.back() == '\r'))
      o.error.pop_back();
  }
  return o;
}

Result<RiakObject> RiakClient::put(std::string_view bucket, std::string_view key, std::string value,
                                   const WriteOptions& options, Instant deadline) {
  http::ClientRequest req;
  req.method = options.once ? "POST" : "PUT";
  req.target = object_target(bucket, key, options.quorum);
  req.body = std::move(value);
  req.headers.set("Content-Type", options.content_type);
  if (!options.vclock.empty()) req.headers.set("X-Riak-Vclock", options.vclock);
  if (!options.client_id.empty()) req.headers.set("X-Riak-ClientId", options.client_id);
  return written(http_.request(req, deadline));
}

Result<RiakObject> RiakClient::remove(std::string_view bucket, std::string_view key,
                                      const WriteOptions& options, Instant deadline) {
  http::ClientRequest req;
  req.method = "DELETE";
  req.once = options.once;
  req.target = object_target(bucket, key, options.quorum);
  if (!options.vclock.empty()) req.headers.set("X-Riak-Vclock", options.vclock);
  if (!options.client_id.empty()) req.headers.set("X-Riak-ClientId", options.client_id);
  return written(http_.request(req, deadline));
}

Result<int> RiakClient::set_props(std::string_view bucket, const BucketPropsUpdate& props,
                                  Instant deadline, std::string_view if_match) {
  http::ClientRequest req;
  req.method = "PUT";
  req.target = "/buckets/" + std::string(bucket) + "/props";
  req.body = props_json(props);
  req.headers.set("Content-Type", "application/json");
  if (!if_match.empty()) req.headers.set("If-Match", if_match);
  auto r = http_.request(req, deadline);
  if (!r) return r.error();
  return r->status;
}

Result<http::Response> RiakClient::props(std::string_view bucket, Instant deadline) {
  return http_.get("/buckets/" + std::string(bucket) + "/props", deadline);
}

Result<http::Response> RiakClient::raw(const http::ClientRequest& request, Instant deadline) {
  return http_.request(request, deadline);
}

namespace {

Result<std::string> admin_text(Result<http::Response> r) {
  if (!r) return r.error();
  if (r->status == 200) return std::move(r->body);
  std::string reason = r->body;
  while (!reason.empty() && reason.back() == '\n') reason.pop_back();
  return make_error(r->status == 422                       ? Errc::invalid_argument
                    : r->status == 401 || r->status == 403 ? Errc::denied
                                                           : Errc::refused,
                    "HTTP " + std::to_string(r->status) + ": " + reason);
}

}  // namespace

Result<std::string> RiakClient::cluster_change(std::string_view op,
                                               std::optional<std::uint32_t> node,
                                               std::optional<std::uint32_t> with,
                                               Instant deadline) {
  http::ClientRequest req;
  req.method = "POST";
  req.target = "/admin/cluster/" + std::string(op);
  if (node) req.target += "?node=" + std::to_string(*node);
  if (with) req.target += std::string(node ? "&" : "?") + "with=" + std::to_string(*with);
  return admin_text(http_.request(req, deadline));
}

Result<std::string> RiakClient::cluster_plan(Instant deadline) {
  return admin_text(http_.get("/admin/cluster/plan", deadline));
}

Result<std::string> RiakClient::cluster_clear(Instant deadline) {
  http::ClientRequest req;
  req.method = "DELETE";
  req.target = "/admin/cluster/staged";
  return admin_text(http_.request(req, deadline));
}

Result<std::string> RiakClient::cluster_status(Instant deadline) {
  return admin_text(http_.get("/admin/cluster", deadline));
}

}  // namespace doppel::dvv
