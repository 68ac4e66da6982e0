#pragma once
// This node's replicas: the objects of the keys it is a replica of, and the
// hints it holds for primaries that were down, all in its object log
// (object_log.h). The changes of an object:
//
//   update()   the coordinator's PUT: the next dot of this node on the stored
//              object, durable (unless a planted bug says otherwise) before
//              it returns, so the dot is never handed out again, even after
//              a crash. Until it is durable nobody sees it (visible() gives
//              what the key held before), and if the write fails it is
//              undone: a dot that leaves this node is durable first, or a
//              crash (or a disk that lost the write) would let the node mint
//              it again for another value, and a replica holding both would
//              keep one of them (Riak's KV679);
//   sync_in()  a replica taking another's object: sync(local, incoming), for
//              a coordinator's copy pruned as Riak 0.13 did (vv only);
//   release()  dropping a key this node no longer serves, once its owners
//              have it (ownership_handoff.h); update() and sync_in() refuse
//              such keys;
//   reap()     dropping a tombstone that is still exactly the one reaped, and
//              the key's hints it supersedes (on every node: a hint handed
//              off after the reap would resurrect the value, KV679 again).
//              The primaries drop it one after another, and copies of the
//              tombstone may still be on their way (read repair,
//              anti-entropy), so a node that dropped it must not mint its
//              dots again: first the log's dot floor (object_log.h) rises to
//              this node's counter in it, and update() starts a key this node
//              holds no dot of above the floor (KV679 once more).
//
// Each is a read-modify-write under the key's lock (key_locks.h); store()
// checks that the lock is held and that what it stored is what the key
// holds when the append returns. (Hints are not under key locks: see
// store_hint.)
//
// merge() is sync() plus what to do when a bucket's clock kind changed under
// its objects: the object of the bucket's current kind wins.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "components/dvv/clock/object_clock.h"
#include "components/dvv/settings.h"
#include "components/dvv/store/bucket_props.h"
#include "components/dvv/store/key_locks.h"
#include "components/dvv/store/membership.h"
#include "components/dvv/store/object_log.h"
#include "components/dvv/store/props_table.h"
#include "components/dvv/store/replica_id.h"
#include "components/dvv/store/ring.h"
#include "components/dvv/store/sibling.h"
#include "runtime/runtime.h"

namespace doppel::dvv {

class ReplicaStore {
 public:
  ReplicaStore(Runtime& rt, const DvvSettings& config, const Membership& membership, NodeIndex self,
               const PropsTable& props);
  ReplicaStore(const ReplicaStore&) = delete;
  ReplicaStore& operator=(const ReplicaStore&) = delete;

  // Opens the log and replays it; takes a new replica id if the replay lost
  // records (replica_id.h).
  Status open();
  // The id this node's dots carry; set by open().
  const ReplicaId& self_id() const { return self_id_; }
  const ObjectLog& log() const { return *log_; }
  ObjectLog& log() { return *log_; }

  Object merge(const ObjectKey& key, const Object& a, const Object& b);
  // This node's replica of `key` as an object of `kind`: empty when there is
  // none, or when it is of the other kind (the bucket's clock kind changed).
  Object read(const ObjectKey& key, ClockKind kind) const;
  // What this node may show others of `key` (nullptr: nothing): the stored
  // object, or, while a coordinator's update of it is not yet durable, the
  // one it replaces.
  const Object* visible(const ObjectKey& key) const;

  // The coordinator's read-modify-write: put(stored, write) under bucket
  // props `p`, last write wins unless allow_mult; refused (too_large) if it
  // would keep more than siblings_max siblings. Returns the stored object.
  Result<Object> update(const ObjectKey& key, const Write& write, const BucketProps& p,
                        bool durable);
  Status sync_in(const ObjectKey& key, const Object& incoming, bool durable,
                 std::optional<std::int64_t> prune_at);
  // Merges `incoming` into the hint held for `target` (a primary that was down).
  // Not under a key lock, as before the split: a merge read before the
  // append's compaction gate may be stale by the time the hint is applied.
  Status store_hint(NodeIndex target, const ObjectKey& key, const Object& incoming);
  // Drops the object of `key` if it is exactly `tombstone` and only
  // tombstones; false (and nothing done) otherwise.
  Result<bool> reap(const ObjectKey& key, const Object& tombstone);
  // Drops the object of a key this node no longer serves if, in the ring as it is now, it still
  // does not and `sent_to` (where the object went) names every primary and newcomer of the
  // key, and the object is still exactly `sent`; false (and nothing done) otherwise. The
  // removal is not synced: the caller syncs the log once it released a round of keys. The caller
  // renewed the id first: should the key come back to this node, it mints on under a name whose
  // dots of the key it still knows (none), never from a counter it forgot -- and a floor would not
  // do, since the dropped object's values live on at the owners and dots up to a floor count as
  // obsolete.
  Result<bool> release(const ObjectKey& key, const Object& sent,
                       const std::vector<NodeIndex>& sent_to);
  // A new replica id (replica_id.h), durable when it returns; until one is (a failed write),
  // update() mints nothing.
  Status renew_id(std::string_view why);
  // A node joining the cluster with a log that never named its replica id takes a fresh one:
  // its index may have been a departed member's.
  Status renew_id_on_join();

 private:
  Status store(const KeyLock& lock, const ObjectKey& key, const Object& object, bool durable);
  // The names of the key's primaries ("n<index>", replica_node_name) under n_val.
  std::vector<ReplicaId> primary_ids(const ObjectKey& key, std::uint32_t n_val) const;
  void check_update(const ObjectKey& key, const Write& write, const BucketProps& p,
                    const Object& base, const Object& updated) const;
  // `base` with this node's entry at the dot floor if it has none (dvvset).
  Object above_dot_floor(Object base) const;
  // Raises the dot floor to this node's counter in `dropped`, an object it
  // is about to stop holding (or to hold with a lower counter).
  Status keep_dot_floor(const Object& dropped);

  Runtime& rt_;
  const DvvSettings& config_;
  const Membership& membership_;
  const Ring& ring_;
  NodeIndex self_;
  ReplicaId self_id_;
  bool needs_fresh_id_ = false;  // a renewal failed: no new id is durable yet
  const PropsTable& props_;
  std::unique_ptr<ObjectLog> log_;
  KeyLocks locks_;
  // Keys whose update is being made durable, and what they held before it.
  std::map<ObjectKey, std::optional<Object>> minting_;
};

}  // namespace doppel::dvv
