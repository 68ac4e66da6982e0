#pragma once
// The request paths, as the node that a client asked runs them:
//
//  - GET: ask the key's preference list (primaries that are up, a fallback
//    for each that is down); answer once r replies (pr of them from
//    primaries) are in, merged with the clock's sync; then, once the others
//    answered or the deadline passed, repair the replicas that were behind
//    (read repair);
//  - PUT: the coordinator is a primary (a node that is not forwards the PUT
//    to the first primary that is up, as the paper describes); it updates
//    the clock with the client's context -- durably, before anyone sees the
//    new dot -- and sends the result to the rest of the preference list;
//    the client is answered after w acks, dw of them durable, pw from
//    primaries (the coordinator's own write counts as one of each);
//    while ownership moves (membership.h: a pending transition), the copies
//    go to the next ring's preference list too, and the quorums must be met
//    in both rings, as Raft's joint consensus: the owners that settle the
//    transition hold w copies of every write acked during it, before any
//    release or handoff runs;
//  - a coordinator whose ring is older than a replica's learns it: a
//    replica that refuses a copy, or a forwarded PUT, because it serves the
//    key no more in a newer ring (Errc::stale) is asked for that ring
//    (gossip on demand), and the copies go out again to the owners of the
//    rings held then (at most kRingRounds rounds, within the PUT's timeout);
//    Riak forwards from the old vnode instead, which we do not have;
//  - DELETE: a tombstone written like a PUT (without a context: with what a
//    GET finds now, as Riak), handed to the reaper once every replica has it.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "components/dvv/clock/object_clock.h"
#include "components/dvv/settings.h"
#include "components/dvv/store/cluster_changes.h"
#include "components/dvv/store/object_log.h"
#include "components/dvv/store/peers.h"
#include "components/dvv/store/props_table.h"
#include "components/dvv/store/reaper.h"
#include "components/dvv/store/replica_client.h"
#include "components/dvv/store/replica_store.h"
#include "components/dvv/store/requests.h"
#include "components/dvv/store/ring.h"
#include "components/dvv/store/sibling.h"
#include "runtime/channel.h"
#include "runtime/runtime.h"

namespace doppel::dvv {

class Coordinator {
 public:
  // Rounds of a PUT's copies, each with the rings held after the last refusal (see above).
  static constexpr int kRingRounds = 3;

  // `ring` serves now; `next_ring` once the pending transition settles (the same ring when
  // none is pending). Both live as long as the node and change in place.
  Coordinator(Runtime& rt, const DvvSettings& config, const Ring& ring, const Ring& next_ring,
              NodeIndex self, Peers& peers, const PropsTable& props, ReplicaStore& store,
              ReplicaClient& replicas, Reaper& reaper, ClusterChanges& changes);
  Coordinator(const Coordinator&) = delete;
  Coordinator& operator=(const Coordinator&) = delete;

  Result<GetReply> get(const ObjectKey& key, const RequestOptions& o);
  Result<PutReply> put(const ObjectKey& key, Sibling value, std::optional<std::string> context,
                       const RequestOptions& o);
  Result<PutReply> remove(const ObjectKey& key, std::optional<std::string> context,
                          const RequestOptions& o);
  // A PUT this node coordinates (a primary of the key): from put(), or
  // forwarded by a node that is not a primary.
  Result<PutReply> coordinate(const ObjectKey& key, Sibling value,
                              std::optional<std::string> context, const RequestOptions& o);

 private:
  using Seen = std::vector<std::pair<NodeIndex, Object>>;  // replicas' objects as read
  struct ReadReply {
    NodeIndex node;
    bool primary;
    Result<Object> object;
  };
  // Where a copy goes: the replica it is in the ring's preference list and,
  // while ownership moves, in the next ring's.
  struct Target {
    Replica replica;
    bool in_ring = false, in_next = false, primary_next = false;
  };
  struct Ack {
    const Target* target;
    bool ok, durable;
    bool stale;  // refused: the replica holds a ring in which it serves the key no more
  };
  // What a node answered to a copy of the write, over every round.
  struct Answer {
    bool ok, durable;
  };
  // Acks counted against one ring's preference list.
  struct Tally {
    std::uint32_t ok = 0, durable = 0, primaries = 0;
    void count(bool ok_, bool durable_, bool primary) {
      ok += ok_;
      durable += ok_ && durable_;
      primaries += ok_ && primary;
    }
    bool met(std::uint32_t w, std::uint32_t dw, std::uint32_t pw) const {
      return ok >= w && durable >= dw && primaries >= pw;
    }
  };

  Result<PutReply> forward(const ObjectKey& key, const Sibling& value,
                           const std::optional<std::string>& context, const RequestOptions& o,
                           const std::vector<NodeIndex>& primaries, NodeIndex* to);
  Result<Write> make_write(const Sibling& value, const std::optional<std::string>& context_bytes,
                           const RequestOptions& o, const BucketProps& p);
  Result<PutReply> replicate(const ObjectKey& key, const Object& updated, bool tombstone,
                             const BucketProps& p, const RequestOptions& o, PutReply out);
  // One round of replicate(): the copy to each target of the rings held now that has not
  // taken it yet, counted with the answers of earlier rounds until both rings' quorums are met
  // or `deadline`. Unavailable if too few replicas are up.
  struct Round {
    Tally now, next;
    bool joint = false;              // the rings differ: a transition is pending
    std::optional<NodeIndex> stale;  // a replica that refused with a newer ring
  };
  struct Quorums {
    std::uint32_t w, dw, pw;
  };
  Result<Round> replicate_round(const ObjectKey& key, const Object& updated, std::uint32_t n_val,
                                Quorums q, Duration timeout, Instant deadline,
                                std::map<NodeIndex, Answer>& answers);
  void repair_when_answered(const ObjectKey& key, ClockKind kind, Object merged, Seen seen,
                            std::shared_ptr<Channel<ReadReply>> replies, std::size_t expected,
                            Instant deadline, std::size_t answered);
  void read_repair(const ObjectKey& key, const Object& merged, const Seen& seen, bool one_kind);
  std::vector<Replica> preference_list(const ObjectKey& key, std::uint32_t n_val) const;
  // The preference lists of both rings, merged by node (the ring's role first).
  std::vector<Target> write_targets(const ObjectKey& key, std::uint32_t n_val) const;

  Runtime& rt_;
  const DvvSettings& config_;
  const Ring& ring_;
  const Ring& next_;
  NodeIndex self_;
  Peers& peers_;
  const PropsTable& props_;
  ReplicaStore& store_;
  ReplicaClient& replicas_;
  Reaper& reaper_;
  ClusterChanges& changes_;
  std::uint64_t dots_ = 0;  // bug_dot_per_write
};

}  // namespace doppel::dvv
