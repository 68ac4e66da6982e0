#include "components/dvv/store/replica_client.h"

#include "components/dvv/clock/clock_conversion.h"
#include "components/dvv/store/dispatch.h"
#include "components/dvv/store/messages.h"
#include "runtime/assert.h"

namespace doppel::dvv {

std::int64_t wall_now_ms(Runtime& rt) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(rt.wall_now().time_since_epoch())
      .count();
}

ReplicaClient::ReplicaClient(Runtime& rt, NodeIndex self, Peers& peers, const PropsTable& props,
                             ReplicaStore& store, RpcDispatch& local)
    : rt_(rt), self_(self), peers_(peers), props_(props), store_(store), local_(local) {}

Result<Object> ReplicaClient::read(NodeIndex node, const ObjectKey& key, Duration timeout) {
  const ClockKind kind = props_.get(key.bucket).clock;
  if (node == self_) return store_.read(key, kind);
  auto reply = peers_.at(node).call(RpcKind::get, encode_key(key), timeout);
  if (!reply) {
    rt_.record(Event("DvvReplicaUnanswered", Severity::debug)
                   .detail("node", node)
                   .detail("why", reply.error().message()));
    return reply.error();
  }
  WireReader r(*reply);
  if (r.u8() == 0) return Object::empty(kind);
  auto o = decode_object(r.bytes());
  if (!o || !r.done()) {
    // A peer that answers garbage is a bug (or another version): say so loudly.
    rt_.record(Event("DvvCorruptReply", Severity::error).detail("node", node));
    return make_error(Errc::corrupt, "a corrupt object from n" + std::to_string(node));
  }
  return convert(*o, kind);  // of the other kind if the bucket's clock kind changed
}

Status ReplicaClient::store(const Replica& rep, const ObjectKey& key, const Object& object,
                            bool* durable, Duration timeout) {
  const std::int64_t prune_at = wall_now_ms(rt_) / 1000;
  if (rep.node == self_ && rep.primary) {
    *durable = true;
    return store_.sync_in(key, object, true, prune_at);
  }
  std::string request = encode_store_request(rep, key, object, prune_at);
  if (rep.node == self_) {
    // This node as a fallback: the same path as a peer's request (its buggify included).
    auto r = local_.handle(RpcKind::put, request);
    if (!r) return r.error();
    *durable = true;
    return {};
  }
  auto reply = peers_.at(rep.node).call(RpcKind::put, std::move(request), timeout);
  if (!reply) return reply.error();
  *durable = !reply->empty() && (*reply)[0] == '\1';
  return {};
}

Status ReplicaClient::repair(NodeIndex node, const ObjectKey& key, const Object& object,
                             Duration timeout) {
  if (node == self_) return store_.sync_in(key, object, false, std::nullopt);
  auto reply = peers_.at(node).call(RpcKind::repair, encode_keyed_object(key, object), timeout);
  if (!reply) return reply.error();
  return {};
}

Result<std::vector<bool>> ReplicaClient::repairs(NodeIndex node,
                                                 const std::vector<std::string>& keyed_objects,
                                                 Duration timeout) {
  DOPPEL_ASSERT(node != self_);  // a node hands off to others
  auto reply = peers_.at(node).call(RpcKind::repairs, encode_repairs(keyed_objects), timeout);
  if (!reply) return reply.error();
  return decode_repairs_reply(*reply, keyed_objects.size());
}

Status ReplicaClient::sync(NodeIndex node, Duration timeout) {
  if (node == self_) return store_.log().sync();
  auto reply = peers_.at(node).call(RpcKind::sync, std::string(), timeout);
  if (!reply) return reply.error();
  return {};
}

Result<bool> ReplicaClient::reap(NodeIndex node, const ObjectKey& key, const Object& tombstone,
                                 Duration timeout) {
  std::string request = encode_keyed_object(key, tombstone);
  auto reply = node == self_ ? local_.handle(RpcKind::reap, request)
                             : peers_.at(node).call(RpcKind::reap, std::move(request), timeout);
  if (!reply) return reply.error();
  return !reply->empty() && (*reply)[0] == '\1';
}

}  // namespace doppel::dvv
