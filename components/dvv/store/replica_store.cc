#include "components/dvv/store/replica_store.h"

#include <algorithm>

#include "components/dvv/clock/clock_conversion.h"
#include "components/dvv/store/object_checks.h"
#include "runtime/assert.h"
#include "runtime/sometimes.h"

namespace doppel::dvv {

namespace {

// A boot that lost records: the state in which a forgotten dot could be minted again.
const SometimesSite kIdRenewed{"dvv.store.replica_id_renewed",
                               "a boot lost log records and took a new replica id"};

}  // namespace

ReplicaStore::ReplicaStore(Runtime& rt, const DvvSettings& config, const Membership& membership,
                           NodeIndex self, const PropsTable& props)
    : rt_(rt),
      config_(config),
      membership_(membership),
      ring_(membership.ring()),
      self_(self),
      props_(props),
      locks_(rt) {}

Status ReplicaStore::open() {
  DOPPEL_ASSERT(log_ == nullptr);
  auto log = ObjectLog::open(
      rt_, rt_.fs(), "objects.log",
      [this](const ObjectKey& k) { return ring_.partition_of(k.bucket, k.key); },
      config_.bug_log_truncates_at_damage);
  if (!log) return log.error();
  log_ = std::move(*log);
  self_id_ = log_->replica_id().empty() ? initial_replica_id(self_) : log_->replica_id();
  if (log_->lost_records_at_open()) {
    // Perhaps with the latest dot of some key: never mint under this id again.
    ReplicaId renewed = renewed_replica_id(self_, rt_.random().next());
    if (Status s = log_->set_replica_id(renewed); !s) return s;
    rt_.record(Event("DvvReplicaIdRenewed", Severity::warning)
                   .detail("from", self_id_)
                   .detail("to", renewed));
    reachable(rt_, kIdRenewed);
    self_id_ = std::move(renewed);
  }
  DOPPEL_ASSERT(replica_node_name(self_id_) == initial_replica_id(self_));
  return {};
}

Object ReplicaStore::merge(const ObjectKey& key, const Object& a, const Object& b) {
  if (a.kind() == b.kind()) {
    Object out = sync(a, b);
    // Counters never go backwards when merging: the merge's history holds both.
    DOPPEL_ASSERT(history_covers(out, a));
    DOPPEL_ASSERT(history_covers(out, b));
    return out;
  }
  // The bucket's clock kind changed and one side has not heard yet (or was
  // written before): both become the kind this node's props name.
  const ClockKind want = props_.get(key.bucket).clock;
  rt_.record(Event("DvvClockConverted", Severity::debug)
                 .detail("key", key.key)
                 .detail("to", clock_kind_name(want)));
  Object out = sync(convert(a, want), convert(b, want));
  DOPPEL_ASSERT(out.sibling_count() >= 1 || (a.sibling_count() == 0 && b.sibling_count() == 0));
  return out;
}

Object ReplicaStore::read(const ObjectKey& key, ClockKind kind) const {
  const Object* o = visible(key);
  return o ? convert(*o, kind) : Object::empty(kind);
}

const Object* ReplicaStore::visible(const ObjectKey& key) const {
  auto m = minting_.find(key);
  if (m != minting_.end()) return m->second ? &*m->second : nullptr;
  const StoredObject* s = log_->find(key);
  return s ? &s->object : nullptr;
}

Result<Object> ReplicaStore::update(const ObjectKey& key, const Write& write, const BucketProps& p,
                                    bool durable) {
  if (needs_fresh_id_) {
    // A node whose new id is not yet durable mints nothing (renew_id).
    (void)renew_id("a renewal failed before");
    return make_error(Errc::io_error, "n" + std::to_string(self_) + " is renewing its replica id");
  }
  if (p.clock == ClockKind::dvvset && !config_.bug_dot_per_write &&
      write.coordinator != self_id()) {
    // The id was renewed since the coordinator made the write: the old one mints no more.
    return make_error(Errc::io_error, "n" + std::to_string(self_) + " renewed its replica id");
  }
  const std::uint32_t partition = ring_.partition_of(key.bucket, key.key);
  if (!membership_.serves(self_, partition, p.n_val)) {
    // A PUT forwarded by a node with an older ring: this node dropped the key, or will.
    return make_error(Errc::stale, "n" + std::to_string(self_) + " is no replica of partition " +
                                       std::to_string(partition) + " in ring version " +
                                       std::to_string(membership_.state().version));
  }
  KeyLock lock(locks_, key);
  const StoredObject* local = log_->find(key);
  // An object of the other kind is converted (the bucket's clock kind changed).
  const Object held = local != nullptr ? convert(local->object, p.clock) : Object::empty(p.clock);
  // A key this node holds no dot of starts above the dot floor (see the header).
  const bool own_dot = write.coordinator == self_id();
  const Object base = own_dot ? above_dot_floor(held) : held;
  Object updated = dvv::put(base, write, ClockOptions{p.clock, {}});
  if (!p.allow_mult) updated = last_write_wins(updated);
  if (updated.sibling_count() > config_.siblings_max) {
    return make_error(Errc::too_large, "the key would keep more than " +
                                           std::to_string(config_.siblings_max) + " siblings");
  }
  check_update(key, write, p, base, updated);
  // Never a dot this node minted in an object it dropped since (a reaped
  // tombstone's): those are at most the floor.
  if (own_dot && p.clock == ClockKind::dvvset && dot_counter(held, self_id()) == 0) {
    DOPPEL_ASSERT_MSG(dot_counter(updated, self_id()) > log_->dot_floor(),
                      "a dot of a dropped object minted again");
  }
  // Hidden until durable; undone if it never gets there (see the header).
  std::optional<Object> before;
  if (local != nullptr) before = local->object;
  DOPPEL_ASSERT(minting_.count(key) == 0);  // the key's lock is ours
  minting_.emplace(key, before);
  const Status stored = store(lock, key, updated, durable);
  minting_.erase(key);
  if (!stored) {
    log_->restore(key, std::move(before));
    return stored.error();
  }
  // What the coordinator's store leaves keeps at most siblings_max siblings
  // (a replica's sync_in may keep more: merging two replicas' concurrent
  // siblings is never refused).
  DOPPEL_ASSERT(log_->find(key)->object.sibling_count() <= config_.siblings_max);
  return updated;
}

Object ReplicaStore::above_dot_floor(Object base) const {
  const std::uint64_t floor = log_->dot_floor();
  if (base.kind() != ClockKind::dvvset || floor == 0 || dot_counter(base, self_id()) > 0) {
    return base;
  }
  // This node's dots up to the floor, all obsolete: each was in an object
  // it dropped only once a tombstone superseded everything in it.
  DvvSet seen;
  seen.entries.push_back(DvvEntry{self_id(), floor, {}});
  Object out = sync(base, Object(std::move(seen)));
  DOPPEL_ASSERT(dot_counter(out, self_id()) == floor);
  DOPPEL_ASSERT(out.siblings() == base.siblings());
  return out;
}

Status ReplicaStore::keep_dot_floor(const Object& dropped) {
  const ReplicaId id = self_id();
  const std::string logged_id = log_->replica_id();
  const std::uint64_t own = dot_counter(dropped, id);
  if (own <= log_->dot_floor()) return {};
  if (Status s = log_->raise_dot_floor(own); !s) return s;
  // Unless the node took a new id meanwhile (joining: renew_id_on_join, which the log records
  // before the node uses it): the old one mints nothing any more, the new one's floor is 0.
  DOPPEL_ASSERT(log_->replica_id() != logged_id || log_->dot_floor() >= own);
  return {};
}

// The coordinator's update against what it was based on (`base`: the stored
// object, or an empty one, at least at the dot floor).
void ReplicaStore::check_update(const ObjectKey& key, const Write& write, const BucketProps& p,
                                const Object& base, const Object& updated) const {
  DOPPEL_ASSERT(updated.kind() == p.clock);
  DOPPEL_ASSERT(updated.sibling_count() >= 1);
  // The update adds no clock id but the writer's own: the coordinator's
  // (dvvset) or the client's (vv).
  std::vector<std::string> allowed = clock_ids(base);
  if (write.context) {
    for (std::string& id : clock_ids(*write.context)) allowed.push_back(std::move(id));
  }
  allowed.push_back(p.clock == ClockKind::dvvset ? write.coordinator : write.client_id);
  DOPPEL_ASSERT_MSG(ids_within(clock_ids(updated), allowed), "a PUT added a foreign clock id");
  if (p.clock == ClockKind::vv) {
    // vv::put may prune, but never lowers a counter it keeps.
    DOPPEL_ASSERT(kept_counters_not_behind(updated, base));
    return;
  }
  DOPPEL_ASSERT(history_covers(updated, base));
  // A dot is never reused by this node's coordinator for a key: the new one
  // is above every dot of this id in the stored history (which never goes
  // backwards: history_covers in merge() and sync_in(), and the object is
  // durable before the dot leaves) and in the client's context.
  const std::uint64_t minted = dot_counter(updated, write.coordinator);
  DOPPEL_ASSERT_MSG(minted > dot_counter(base, write.coordinator), "a dot handed out twice");
  if (write.context) DOPPEL_ASSERT(minted > dot_counter(*write.context, write.coordinator));
  // DVVSet's bound: a clock names at most n_val nodes, because only
  // primaries coordinate and each adds only its own id (at most one per node
  // and renewal, replica_id.h). Checked where its premises hold here: this
  // node is a primary under this node's props, and the stored clock and the
  // context name only primaries (a context is a client's bytes; props may
  // change n_val; a planted bug mints other ids).
  const std::vector<ReplicaId> primaries = primary_ids(key, p.n_val);
  const auto names = [](std::vector<ReplicaId> ids) {
    for (ReplicaId& id : ids) id = ReplicaId(replica_node_name(id));
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    return ids;
  };
  const bool premises = ids_within(names({self_id()}), primaries) &&
                        write.coordinator == self_id() &&
                        ids_within(names(clock_ids(base)), primaries) &&
                        (!write.context || ids_within(names(clock_ids(*write.context)), primaries));
  if (premises) DOPPEL_ASSERT(names(clock_ids(updated)).size() <= p.n_val);
}

std::vector<ReplicaId> ReplicaStore::primary_ids(const ObjectKey& key, std::uint32_t n_val) const {
  std::vector<ReplicaId> out;
  for (NodeIndex n : ring_.primaries(ring_.partition_of(key.bucket, key.key), n_val)) {
    out.push_back(initial_replica_id(n));
  }
  DOPPEL_ASSERT(out.size() <= n_val);
  return out;
}

Status ReplicaStore::sync_in(const ObjectKey& key, const Object& incoming, bool durable,
                             std::optional<std::int64_t> prune_at) {
  KeyLock lock(locks_, key);
  const std::uint32_t partition = ring_.partition_of(key.bucket, key.key);
  if (!membership_.serves(self_, partition, props_.get(key.bucket).n_val)) {
    // Its owners moved on (membership.h): a copy taken here would be dropped unsent.
    return make_error(Errc::stale, "n" + std::to_string(self_) + " is no replica of partition " +
                                       std::to_string(partition) + " in ring version " +
                                       std::to_string(membership_.state().version));
  }
  const StoredObject* local = log_->find(key);
  Object merged = local ? merge(key, local->object, incoming) : incoming;
  if (prune_at) merged = prune(merged, *prune_at, ClockOptions{merged.kind(), {}});
  if (local && local->object == merged) {
    // Nothing new, but the caller may count on it being durable, and what the
    // key holds may have come unsynced (read repair, anti-entropy).
    return durable && !config_.bug_dw_before_sync ? log_->sync() : Status{};
  }
  if (local && local->object.kind() == merged.kind()) {
    // Counters never go backwards when a replica syncs an object in (a
    // pruned vv clock drops entries, but lowers none it keeps).
    if (merged.kind() == ClockKind::dvvset) DOPPEL_ASSERT(history_covers(merged, local->object));
    DOPPEL_ASSERT(kept_counters_not_behind(merged, local->object));
  }
  // The vv baseline's bound (object_checks.h); DVVSet needs no pruning.
  if (prune_at) DOPPEL_ASSERT(within_prune_bound(merged, *prune_at, VvPruneOptions{}));
  // Planted: the copy is acknowledged (durable, says the caller) before its fsync.
  return store(lock, key, merged, durable && !config_.bug_dw_before_sync);
}

Status ReplicaStore::store_hint(NodeIndex target, const ObjectKey& key, const Object& incoming) {
  // A fallback holds hints for the primary it stands in for, never for itself.
  DOPPEL_ASSERT(target != self_);
  KeyLock lock(locks_, key);  // a reap drops the key's hints under it
  const auto* held = log_->hints_for(target);
  const StoredObject* prev = nullptr;
  if (held != nullptr) {
    auto it = held->find(key);
    if (it != held->end()) prev = &it->second;
  }
  return log_->put_hint(target, key, prev ? merge(key, prev->object, incoming) : incoming);
}

Result<bool> ReplicaStore::reap(const ObjectKey& key, const Object& tombstone) {
  // Under the key's lock like every change of an object: the removal's
  // append may wait for a compaction, and a sync_in of a newer object must
  // not land in between and be removed with the tombstone.
  KeyLock lock(locks_, key);
  // Hints of the key go first. One the tombstone supersedes would be handed
  // to a primary after the reap and bring the deleted value back, and with it
  // a clock under which the key's next write (its coordinator's counter
  // starting over) looks already seen: an acknowledged write lost (Riak's
  // kv679). So it goes with the tombstone. One the tombstone does not
  // supersede is a newer write: the tombstone stays.
  std::vector<NodeIndex> superseded;
  for (NodeIndex target : log_->hint_targets()) {
    const auto* held = log_->hints_for(target);
    auto it = held->find(key);
    if (it == held->end()) continue;
    if (!(merge(key, tombstone, it->second.object) == tombstone)) return false;
    superseded.push_back(target);
  }
  const StoredObject* s = log_->find(key);
  // A primary holds exactly the tombstone; any other node holds no object.
  if (s != nullptr && (!(s->object == tombstone) || !all_tombstones(s->object))) return false;
  for (NodeIndex target : superseded) {
    if (Status st = log_->remove_hint(target, key); !st) return st.error();
  }
  if (log_->find(key) == nullptr) return true;  // hints only: nothing more to drop
  DOPPEL_ASSERT_MSG(locks_.held(key), "a tombstone reaped without its key's lock");
  // Its dots are never minted again, though the other primaries may still
  // hold the tombstone or send it back (see the header).
  if (Status st = keep_dot_floor(tombstone); !st) return st.error();
  DOPPEL_ASSERT(log_->find(key) != nullptr && log_->find(key)->object == tombstone);
  if (Status st = log_->remove(key, true); !st) return st.error();
  // Nothing wrote the key while the removal waited: the writers hold the lock.
  DOPPEL_ASSERT(log_->find(key) == nullptr);
  return true;
}

Status ReplicaStore::store(const KeyLock& lock, const ObjectKey& key, const Object& object,
                           bool durable) {
  DOPPEL_ASSERT(lock.key() == key);
  DOPPEL_ASSERT_MSG(locks_.held(key), "a read-modify-write of an object without its key's lock");
  // An object converted to the vv kind replaces one with this node's dots
  // (clock_conversion.h): they are not minted again either.
  if (const StoredObject* prev = log_->find(key);
      prev != nullptr && dot_counter(prev->object, self_id()) > dot_counter(object, self_id())) {
    if (Status s = keep_dot_floor(Object(prev->object)); !s) return s;
  }
  if (Status s = log_->put(key, object, durable); !s) return s;
  // The store is what the key holds now: every writer of an object holds its
  // key's lock, so none wrote while the append waited (compaction, disk).
  const StoredObject* stored = log_->find(key);
  DOPPEL_ASSERT(stored != nullptr);
  DOPPEL_ASSERT(stored->object == object);
  // The log took it, so it fits a record (and a reply that carries it, a frame).
  DOPPEL_ASSERT(stored->encoded_bytes < ObjectLog::kRecordBytesMax);
  return {};
}

Result<bool> ReplicaStore::release(const ObjectKey& key, const Object& sent,
                                   const std::vector<NodeIndex>& sent_to) {
  KeyLock lock(locks_, key);
  // The ring may have moved on while the copies travelled: made this node a primary of the
  // key again (it left and rejoined: dvv-membership seed 18, where the join's transfer had
  // brought the key back here and the stale release then dropped it), or named a primary the
  // copies did not go to (seed 49: a join committed meanwhile).
  const std::uint32_t partition = ring_.partition_of(key.bucket, key.key);
  const std::uint32_t n_val = props_.get(key.bucket).n_val;
  if (membership_.serves(self_, partition, n_val)) return false;
  auto sent_there = [&](NodeIndex n) {
    return std::find(sent_to.begin(), sent_to.end(), n) != sent_to.end();
  };
  const std::vector<NodeIndex> primaries = membership_.ring().primaries(partition, n_val);
  const std::vector<NodeIndex> newcomers = membership_.newcomers(partition, n_val);
  if (!std::all_of(primaries.begin(), primaries.end(), sent_there) ||
      !std::all_of(newcomers.begin(), newcomers.end(), sent_there)) {
    return false;
  }
  const StoredObject* s = log_->find(key);
  if (s == nullptr || !(s->object == sent) || minting_.contains(key)) return false;
  // Recorded where the drop is decided, before the removal's sync lets the ring move on: the
  // oracle (handoff-before-release) judges the release against the ring it was decided under.
  rt_.record(Event("DvvReleased", Severity::debug)
                 .detail("node", self_)
                 .detail("key", key.key)
                 .detail("ring", membership_.state().version));
  // No dot floor: the caller renewed the id (see the header), and the object's values live on
  // at its owners, so its dots are not obsolete as a reaped tombstone's are. Not durable: the
  // caller syncs once for a round of releases (one fsync each made a join of 100 000 keys
  // take 16 s), and a key a crash brings back is released again.
  if (Status st = log_->remove(key, false); !st) return st.error();
  return true;
}

Status ReplicaStore::renew_id_on_join() {
  needs_fresh_id_ = false;
  if (!log_->replica_id().empty()) return {};
  // A node that joins may be a new machine under a departed member's index: the dots that
  // member minted as "n<index>" are still in the clocks, and minting them again would
  // hand them out for other values. A fresh epoch never collides.
  return renew_id("joining");
}

Status ReplicaStore::renew_id(std::string_view why) {
  needs_fresh_id_ = true;
  ReplicaId renewed = renewed_replica_id(self_, rt_.random().next());
  if (Status s = log_->set_replica_id(renewed); !s) return s;
  rt_.record(Event("DvvReplicaIdRenewed")
                 .detail("from", self_id_)
                 .detail("to", renewed)
                 .detail("why", why));
  self_id_ = std::move(renewed);
  needs_fresh_id_ = false;
  return {};
}

}  // namespace doppel::dvv
