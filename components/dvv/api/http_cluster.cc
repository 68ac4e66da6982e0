// The membership admin routes of the HTTP API (riak-admin cluster ...):
//   GET    /admin/cluster                    the ring this node holds, as JSON
//   POST   /admin/cluster/join?node=N        stage a change: join, leave, force-remove
//   POST   /admin/cluster/leave?node=N       (node=N), replace (node=N&with=M)
//   POST   /admin/cluster/replace?node=N&with=M
//   POST   /admin/cluster/force-remove?node=N
//   GET    /admin/cluster/plan               what a commit would do
//   POST   /admin/cluster/commit             the staged changes, made
//   DELETE /admin/cluster/staged             the staged changes, dropped
// Any node answers; the claimant makes the changes. A change that cannot be made is 422 with
// the reason; a claimant that does not answer is 503.

#include <charconv>

#include "base/json.h"
#include "components/dvv/api/http_api.h"

namespace doppel::dvv {

using http::Request;
using http::Response;

namespace {

Result<NodeIndex> node_param(const Request& r, std::string_view name) {
  auto v = r.query_param(name);
  if (!v) return make_error(Errc::invalid_argument, std::string(name) + ": missing");
  NodeIndex n = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || end != v->data() + v->size()) {
    return make_error(Errc::invalid_argument, std::string(name) + ": not a node index");
  }
  return n;
}

Response answer(const Result<std::string>& r) {
  if (r) return Response::text(200, *r);
  if (r.code() == Errc::invalid_argument || r.code() == Errc::too_large) {
    return Response::error(422, r.error().message());
  }
  return Response::error(503, r.error().message());
}

}  // namespace

Result<Response> HttpApi::cluster_status(Request&) {
  const Membership& m = node_.membership();
  const RingState& s = m.state();
  JsonWriter w;
  w.begin_object();
  w.field("node", node_.self());
  w.field("version", s.version);
  w.key("claimant");
  if (auto c = s.claimant()) {
    w.value(*c);
  } else {
    w.null();
  }
  w.field("pending", s.pending());
  w.key("members").begin_array();
  for (NodeIndex n = 0; n < s.members.size(); ++n) {
    std::uint32_t owns = 0, will_own = 0;
    for (std::size_t p = 0; p < s.owner.size(); ++p) {
      owns += s.owner[p] == n;
      will_own += (s.pending() ? s.next[p] : s.owner[p]) == n;
    }
    w.begin_object()
        .field("node", n)
        .field("status", member_status_name(s.members[n]))
        .field("partitions", owns)
        .field("next_partitions", will_own)
        .field("handed_off", static_cast<bool>(s.handed_off[n]))
        .end_object();
  }
  w.end_array();
  w.key("owners").begin_array();
  for (NodeIndex o : s.owner) w.value(o);
  w.end_array();
  w.key("awaiting_handoff").begin_array();
  for (NodeIndex n : s.awaiting_handoff()) w.value(n);
  w.end_array();
  w.key("handoff")
      .begin_object()
      .field("objects_sent", node_.handoff_objects())
      .field("bytes_sent", node_.handoff_bytes())
      .end_object();
  w.end_object();
  Response out = Response::text(200, w.take() + "\n");
  out.headers.set("Content-Type", "application/json");
  return out;
}

Result<Response> HttpApi::cluster_stage(Request& r) {
  const std::string_view op = r.param("op");
  MemberChange c;
  if (op == "join") {
    c.kind = MemberChange::Kind::join;
  } else if (op == "leave") {
    c.kind = MemberChange::Kind::leave;
  } else if (op == "replace") {
    c.kind = MemberChange::Kind::replace;
  } else if (op == "force-remove") {
    c.kind = MemberChange::Kind::force_remove;
  } else if (op == "commit") {
    return answer(node_.cluster(ClusterOp::commit));
  } else {
    return Response::error(404, "no cluster change '" + std::string(op) +
                                    "' (join, leave, replace, force-remove, commit)");
  }
  auto node = node_param(r, "node");
  if (!node) return Response::error(422, node.error().message());
  c.node = *node;
  if (c.kind == MemberChange::Kind::replace) {
    auto with = node_param(r, "with");
    if (!with) return Response::error(422, with.error().message());
    c.with = *with;
  }
  return answer(node_.cluster(ClusterOp::stage, c));
}

Result<Response> HttpApi::cluster_plan(Request&) {
  return answer(node_.cluster(ClusterOp::plan));
}

Result<Response> HttpApi::cluster_clear(Request&) {
  return answer(node_.cluster(ClusterOp::clear));
}

}  // namespace doppel::dvv
