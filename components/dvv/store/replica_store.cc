#include "components/dvv/store/replica_store.h"

#include "runtime/assert.h"

namespace doppel::dvv {

ReplicaStore::ReplicaStore(Runtime& rt, const DvvConfig& config, const Ring& ring, NodeIndex self,
                           const PropsTable& props)
    : rt_(rt), config_(config), ring_(ring), self_(self), props_(props), locks_(rt) {}

Status ReplicaStore::open() {
  DOPPEL_ASSERT(log_ == nullptr);
  auto log = ObjectLog::open(rt_, rt_.fs(), "objects.log", [this](const ObjectKey& k) {
    return ring_.partition_of(k.bucket, k.key);
  });
  if (!log) return log.error();
  log_ = std::move(*log);
  return {};
}

Object ReplicaStore::merge(const ObjectKey& key, const Object& a, const Object& b) {
  if (a.kind() == b.kind()) return sync(a, b);
  const ClockKind want = props_.get(key.bucket).clock;
  rt_.record(
      Event("DvvClockKindMismatch").detail("key", key.key).detail("want", clock_kind_name(want)));
  return a.kind() == want ? a : b;
}

Object ReplicaStore::read(const ObjectKey& key, ClockKind kind) const {
  const StoredObject* s = log_->find(key);
  return s && s->object.kind() == kind ? s->object : Object::empty(kind);
}

Result<Object> ReplicaStore::update(const ObjectKey& key, const Write& write, const BucketProps& p,
                                    bool durable) {
  KeyLock lock(locks_, key);
  const StoredObject* local = log_->find(key);
  const bool usable = local != nullptr && local->object.kind() == p.clock;
  Object updated =
      dvv::put(usable ? local->object : Object::empty(p.clock), write, ClockOptions{p.clock, {}});
  if (!p.allow_mult) updated = last_write_wins(updated);
  if (updated.sibling_count() > config_.siblings_max) {
    return make_error(Errc::too_large, "the key would keep more than " +
                                           std::to_string(config_.siblings_max) + " siblings");
  }
  if (Status s = store(lock, key, updated, durable); !s) return s.error();
  return updated;
}

Status ReplicaStore::sync_in(const ObjectKey& key, const Object& incoming, bool durable,
                             std::optional<std::int64_t> prune_at) {
  KeyLock lock(locks_, key);
  const StoredObject* local = log_->find(key);
  Object merged = local ? merge(key, local->object, incoming) : incoming;
  if (prune_at) merged = prune(merged, *prune_at, ClockOptions{merged.kind(), {}});
  if (local && local->object == merged) return {};
  return store(lock, key, merged, durable);
}

Status ReplicaStore::store_hint(NodeIndex target, const ObjectKey& key, const Object& incoming) {
  const auto* held = log_->hints_for(target);
  const StoredObject* prev = nullptr;
  if (held != nullptr) {
    auto it = held->find(key);
    if (it != held->end()) prev = &it->second;
  }
  return log_->put_hint(target, key, prev ? merge(key, prev->object, incoming) : incoming);
}

Result<bool> ReplicaStore::reap(const ObjectKey& key, const Object& tombstone) {
  const StoredObject* s = log_->find(key);
  if (s == nullptr || !(s->object == tombstone) || !all_tombstones(s->object)) return false;
  if (Status st = log_->remove(key, true); !st) return st.error();
  return true;
}

Status ReplicaStore::store(const KeyLock& lock, const ObjectKey& key, const Object& object,
                           bool durable) {
  DOPPEL_ASSERT(lock.key() == key);
  DOPPEL_ASSERT_MSG(locks_.held(key), "a read-modify-write of an object without its key's lock");
  return log_->put(key, object, durable);
}

}  // namespace doppel::dvv
