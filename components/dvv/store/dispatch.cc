#include "components/dvv/store/dispatch.h"

#include "components/dvv/store/anti_entropy.h"
#include "components/dvv/store/cluster_changes.h"
#include "components/dvv/store/coordinator.h"
#include "components/dvv/store/messages.h"
#include "components/dvv/store/props_table.h"
#include "components/dvv/store/replica_store.h"
#include "components/dvv/store/send_window.h"
#include "runtime/assert.h"

namespace doppel::dvv {

using namespace std::chrono_literals;

namespace {
constexpr std::size_t kVarintBytesMax = 10;   // a 64-bit LEB128 varint
constexpr std::size_t kRepairsInFlight = 16;  // of one repairs message, taken at once

// BUGGIFY sites of a replica's answers (runtime/buggify.h).
const BuggifySite kReplicaBusy{"dvv.replica.busy",
                               "a replica refuses a write as too busy (an error, not an ack)"};
const BuggifySite kSlowRead{
    "dvv.replica.slow_read",
    "a replica answers a read up to 1.5 s late (after the quorum's deadline)"};
}  // namespace

// A log record fits a frame, so a reply that carries a stored object (and is
// smaller than the object's record) can travel.
static_assert(ObjectLog::kRecordBytesMax <= RpcServer::kFrameBytesMax);

RpcDispatch::RpcDispatch(Runtime& rt, const Ring& ring, ReplicaStore& store,
                         Coordinator& coordinator, AntiEntropy& anti_entropy, PropsTable& props,
                         ClusterChanges& changes)
    : rt_(rt),
      ring_(ring),
      store_(store),
      coordinator_(coordinator),
      anti_entropy_(anti_entropy),
      props_(props),
      changes_(changes) {}

Result<std::string> RpcDispatch::handle(RpcKind kind, std::string_view payload) {
  switch (kind) {
    case RpcKind::ping:
      return std::string();
    case RpcKind::get:
      return get(payload);
    case RpcKind::put:
      return put(payload);
    case RpcKind::coordinate:
      return coordinate(payload);
    case RpcKind::repair:
      return repair(payload);
    case RpcKind::repairs:
      return repairs(payload);
    case RpcKind::reap:
      return reap(payload);
    case RpcKind::aae_segments:
      return aae_segments(payload);
    case RpcKind::aae_keys:
      return aae_keys(payload);
    case RpcKind::props:
      return props(payload);
    case RpcKind::ring:
      return changes_.serve_exchange(payload);
    case RpcKind::cluster:
      return changes_.serve_request(payload);
    case RpcKind::handed_off:
      return changes_.serve_handed_off(payload);
    case RpcKind::sync:
      if (!payload.empty()) return make_error(Errc::protocol, "sync");
      if (Status s = store_.log().sync(); !s) return s.error();
      return std::string();
    case RpcKind::hello:
      break;  // the handshake's, done before any request (rpc.cc): never one
  }
  return make_error(Errc::protocol, "unknown request");
}

Result<std::string> RpcDispatch::get(std::string_view payload) {
  WireReader r(payload);
  const ObjectKey key = read_key(r);
  if (!r.done()) return make_error(Errc::protocol, "get");
  // What it answers is what it holds when it answers, not when it was asked.
  (void)buggify_sleep(rt_, kSlowRead, 1500ms);
  std::string reply = encode_get_reply(store_.visible(key));
  // An object the log holds fits a log record with its key around it, so
  // the reply that carries it is smaller than a record.
  DOPPEL_ASSERT(reply.size() < ObjectLog::kRecordBytesMax);
  return reply;
}

Result<std::string> RpcDispatch::put(std::string_view payload) {
  // Too busy to take the write: the coordinator must count a missing ack, not a success.
  if (buggify(rt_, kReplicaBusy)) return make_error(Errc::io_error, "replica busy");
  auto q = decode_store_request(payload);
  if (!q) return q.error();
  Status s;
  if (q->hinted) {
    s = store_.store_hint(q->target, q->key, *q->object);
  } else {
    s = store_.sync_in(
        q->key, *q->object, true,
        q->prune_at_s > 0 ? std::optional<std::int64_t>(q->prune_at_s) : std::nullopt);
  }
  if (!s) return s.error();
  return std::string(1, '\1');  // durable
}

Result<std::string> RpcDispatch::coordinate(std::string_view payload) {
  auto q = decode_coordinate_request(payload);
  if (!q) return q.error();
  auto reply =
      coordinator_.coordinate(q->key, std::move(q->value), std::move(q->context), q->options);
  if (!reply) return reply.error();
  return encode_put_reply(*reply);
}

Result<std::string> RpcDispatch::repair(std::string_view payload) {
  auto q = decode_keyed_object(payload, "repair");
  if (!q) return q.error();
  if (Status s = store_.sync_in(q->key, *q->object, false, std::nullopt); !s) return s.error();
  return std::string();
}

Result<std::string> RpcDispatch::repairs(std::string_view payload) {
  auto items = decode_repairs(payload);
  if (!items) return items.error();
  // Taken concurrently: each may wait on its key's lock or the disk, and one after another
  // they would outlast the sender's timeout. Shared: a crash may unwind this first.
  auto taken = std::make_shared<std::vector<bool>>(items->size(), false);
  auto shared = std::make_shared<std::vector<KeyedObject>>(std::move(*items));
  SendWindow window(rt_, kRepairsInFlight);
  for (std::size_t i = 0; i < shared->size(); ++i) {
    window.start([this, taken, shared, i] {
      const KeyedObject& q = (*shared)[i];
      (*taken)[i] = store_.sync_in(q.key, *q.object, false, std::nullopt).ok();
      return true;
    });
  }
  (void)window.wait();
  // Durable before the answer: a sender drops its copy on it (ownership_handoff.h).
  if (Status s = store_.log().sync(); !s) return s.error();
  return encode_repairs_reply(*taken);
}

Result<std::string> RpcDispatch::reap(std::string_view payload) {
  auto q = decode_keyed_object(payload, "reap");
  if (!q) return q.error();
  auto reaped = store_.reap(q->key, *q->object);
  if (!reaped) return reaped.error();
  return std::string(1, *reaped ? '\1' : '\0');
}

Result<std::string> RpcDispatch::aae_segments(std::string_view payload) {
  WireReader r(payload);
  const auto partition = static_cast<std::uint32_t>(r.varint());
  if (!r.done() || partition >= ring_.partitions())
    return make_error(Errc::protocol, "aae_segments");
  const std::vector<std::uint64_t> hashes = anti_entropy_.segment_hashes(partition);
  DOPPEL_ASSERT(hashes.size() == kAaeSegments);
  WireWriter w;
  for (std::uint64_t h : hashes) w.varint(h);
  DOPPEL_ASSERT(w.str().size() <= kAaeSegments * kVarintBytesMax);
  return w.take();
}

Result<std::string> RpcDispatch::aae_keys(std::string_view payload) {
  WireReader r(payload);
  const auto partition = static_cast<std::uint32_t>(r.varint());
  const auto segment = r.varint();
  if (!r.done() || segment >= kAaeSegments) return make_error(Errc::protocol, "aae_keys");
  return anti_entropy_.segment_keys(partition, segment);
}

Result<std::string> RpcDispatch::props(std::string_view payload) {
  auto theirs = decode_props(payload);
  if (!theirs) return theirs.error();
  props_.merge(*theirs);
  return props_.encoded();
}

}  // namespace doppel::dvv
