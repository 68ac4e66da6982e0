#pragma once
// A node of the replicated store, Dynamo/Riak style (the DVV paper's setting):
//
//  - a ring of partitions over the nodes (ring.h); each key has n_val
//    primaries, and fallbacks stand in for primaries that are down;
//  - GET: ask the preference list, answer once r replies (pr from primaries)
//    are in, merged with the clock's sync; then repair the replicas that were
//    behind (read repair);
//  - PUT: the coordinator is a primary (a node that is not forwards the PUT to
//    one, as the paper describes); it updates the clock with the client's
//    context -- durably, before anyone sees the new dot -- and sends the result
//    to the other replicas; w acks, dw of them durable, pw from primaries;
//  - DELETE: a tombstone written like a PUT, reaped once every primary holds
//    exactly it;
//  - hinted handoff: a fallback hands its hints to the primary when it is back;
//  - active anti-entropy: primaries compare per-partition hash trees in the
//    background and sync the keys that differ;
//  - objects persist in a log (object_log.h); a restarted node recovers them.
// Liveness comes from pings; bucket properties spread by push and gossip.
//
// All of a node's logic runs on its core 0 (the KV component is the
// thread-per-core showcase; this one is about distribution).

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "components/dvv/clock/object_clock.h"
#include "components/dvv/store/bucket_props.h"
#include "components/dvv/store/object_log.h"
#include "components/dvv/store/ring.h"
#include "components/dvv/store/rpc.h"
#include "components/dvv/store/settings.h"
#include "components/dvv/store/sibling.h"
#include "runtime/node.h"
#include "runtime/sync.h"

namespace doppel::dvv {

// Anti-entropy hashes each partition's keys into this many segments.
inline constexpr std::uint64_t kAaeSegments = 256;

struct RequestOptions {
  std::optional<std::uint32_t> r, w, dw, pr, pw;  // unset: the bucket's
  std::string client_id;                          // vv: X-Riak-ClientId
  Duration timeout{std::chrono::seconds(2)};
};

struct GetReply {
  bool found = false;           // some sibling that is not a tombstone
  std::vector<Sibling> siblings;  // tombstones left out
  std::string context;          // encoded causal context (X-Riak-Vclock, before base64)
  std::size_t clock_entries = 0;
  std::size_t clock_bytes = 0;
};

struct PutReply {
  std::string context;
  std::vector<Sibling> siblings;  // for returnbody
  std::size_t clock_entries = 0;
};

class DvvNode final : public Service {
 public:
  DvvNode(Runtime& rt, const NodeConfig& node, const DvvConfig& config);
  ~DvvNode() override;
  Status start();
  void stop() override;

  // --- the client API (the HTTP layer maps onto these)
  Result<GetReply> get(const ObjectKey& key, const RequestOptions& o);
  Result<PutReply> put(const ObjectKey& key, Sibling value, std::optional<std::string> context,
                       const RequestOptions& o);
  Result<PutReply> remove(const ObjectKey& key, std::optional<std::string> context,
                          const RequestOptions& o);
  BucketProps props(const std::string& bucket) const;
  Status set_props(const std::string& bucket, BucketProps props);

  // --- introspection, for the simulator's checks and stats
  const ObjectLog& log() const { return *log_; }
  const Ring& ring() const { return ring_; }
  NodeIndex self() const { return self_; }
  bool peer_up(NodeIndex n) const;
  Runtime& runtime() { return rt_; }

 private:
  friend class Maintenance;
  Result<std::string> handle(RpcKind kind, std::string_view payload);
  Result<PutReply> coordinate(const ObjectKey& key, Sibling value, std::optional<std::string> context,
                              const RequestOptions& o);
  Result<Object> read_replica(NodeIndex node, const ObjectKey& key, Duration timeout);
  Status store_replica(const Replica& r, const ObjectKey& key, const Object& object, bool* durable,
                       Duration timeout);
  Object merge(const ObjectKey& key, const Object& a, const Object& b);
  Status sync_in(const ObjectKey& key, const Object& incoming, bool durable, std::optional<std::int64_t> prune_at);
  void read_repair(const ObjectKey& key, const Object& merged, std::vector<std::pair<NodeIndex, Object>> seen);
  void schedule_reap(const ObjectKey& key, const Object& tombstone);
  // Serializes the read-modify-write of one key's object across fibers.
  class KeyLock {
   public:
    KeyLock(DvvNode& node, const ObjectKey& key);
    ~KeyLock();
    KeyLock(const KeyLock&) = delete;
    KeyLock& operator=(const KeyLock&) = delete;

   private:
    void release();
    DvvNode& node_;
    const ObjectKey& key_;
    std::optional<LockGuard> guard_;
  };
  RpcClient& peer(NodeIndex n);
  std::int64_t now_ms();
  void ping_loop();
  void handoff_loop();
  void aae_loop();
  void gossip_loop();
  Status exchange(std::uint32_t partition, NodeIndex other);
  std::vector<std::uint64_t> segment_hashes(std::uint32_t partition) const;
  Status save_props();
  Status load_props();

  Runtime& rt_;
  NodeConfig node_;
  DvvConfig config_;
  Ring ring_;
  NodeIndex self_;
  std::string self_id_;  // the DVV replica id: the node's name
  std::unique_ptr<ObjectLog> log_;
  std::unique_ptr<RpcServer> rpc_;
  std::vector<std::unique_ptr<RpcClient>> peers_;
  std::vector<Instant> last_seen_;
  std::map<std::string, BucketProps> props_;
  std::map<ObjectKey, std::pair<std::unique_ptr<Mutex>, int>> key_locks_;
  std::uint64_t dots_ = 0;  // bug_dot_per_write
  bool stopping_ = false;
  int background_ = 0;      // fibers of the loops still running
  std::unique_ptr<Condition> background_done_;
};

Result<std::unique_ptr<Service>> boot_dvv(Runtime& rt, const NodeConfig& node);

}  // namespace doppel::dvv
