#include "components/dvv/store/node.h"

#include "runtime/assert.h"

namespace doppel::dvv {

using namespace std::chrono_literals;

DvvNode::DvvNode(Runtime& rt, const NodeConfig& node, const DvvSettings& config)
    : rt_(rt),
      node_(node),
      config_(config),
      membership_(rt, config_, node.node_id, static_cast<NodeIndex>(node.peers.size())),
      self_(node.node_id),
      store_(rt, config_, membership_, self_, props_),
      peers_(rt, config_, node.peers, self_),
      props_(rt, config_, peers_),
      changes_(rt, config_, membership_, peers_),
      replicas_(rt, self_, peers_, props_, store_, dispatch_),
      reaper_(rt, config_, membership_.ring(), props_, replicas_),
      coordinator_(rt, config_, membership_.ring(), membership_.next_ring(), self_, peers_, props_,
                   store_, replicas_, reaper_, changes_),
      handoff_(rt, config_, self_, peers_, store_, replicas_, membership_, props_),
      anti_entropy_(rt, config_, membership_.ring(), self_, peers_, store_, replicas_),
      ownership_(rt, config_, membership_, changes_, peers_, props_, store_, replicas_),
      dispatch_(rt, membership_.ring(), store_, coordinator_, anti_entropy_, props_, changes_) {
  background_done_ = std::make_unique<Condition>(rt);
}

Result<std::string> DvvNode::cluster(ClusterOp op, std::optional<MemberChange> change) {
  return changes_.request(op, change);
}

DvvNode::~DvvNode() = default;

Status DvvNode::start() {
  if (Status s = membership_.load(); !s) return s;
  if (Status s = store_.open(); !s) return s;
  const auto joining = [this] {
    return membership_.state().members[self_] == MemberStatus::joining;
  };
  if (joining()) {
    if (Status s = store_.renew_id_on_join(); !s) return s;
  }
  membership_.on_change([this, joining] {
    // Until it is saved the node mints nothing (ReplicaStore::update).
    if (joining() && !store_.renew_id_on_join().ok()) {
      rt_.record(Event("DvvReplicaIdNotRenewed", Severity::warning));
    }
  });
  if (Status s = props_.load(); !s) return s;
  rpc_ = std::make_unique<RpcServer>(
      rt_, config_.cluster_secret,
      [this](RpcKind kind, std::string_view payload) { return dispatch_.handle(kind, payload); },
      config_.bug_rpc_trusts_peers);
  if (config_.access.tls) rpc_->use_tls(*config_.access.tls);
  if (Status s = rpc_->start(node_.peers[self_]); !s) {
    return make_error(s.code(), "peers[" + std::to_string(self_) + "]: " + s.error().message());
  }
  run_background([this] { peers_.ping_loop(stopping_); });
  run_background([this] { handoff_.loop(stopping_); });
  run_background([this] { anti_entropy_.loop(stopping_); });
  run_background([this] { props_.gossip_loop(stopping_); });
  run_background([this] { changes_.gossip_loop(stopping_); });
  run_background([this] { ownership_.loop(stopping_); });
  rt_.record(Event("DvvStarted")
                 .detail("node", self_)
                 .detail("objects", store_.log().objects())
                 .detail("partitions", config_.partitions));
  return {};
}

void DvvNode::run_background(std::function<void()> loop) {
  ++background_;
  rt_.spawn("dvv-loop", [this, loop = std::move(loop)] {
    struct Done {
      DvvNode& n;
      ~Done() {
        --n.background_;
        n.background_done_->notify_all();
      }
    } done{*this};
    loop();
  });
}

void DvvNode::stop() {
  stopping_ = true;
  rpc_->stop();
  peers_.close();
  const Instant deadline = rt_.now() + 5s;
  while (background_ > 0 && rt_.now() < deadline) background_done_->wait(deadline);
}

namespace {

const std::vector<double> kSiblingBuckets = {1, 2, 3, 4, 6, 8, 12, 16, 32, 64};

}  // namespace

template <class R>
R DvvNode::count(std::string_view op, R result) {
  // "ok", or why not: a quorum not reached in time is "timed_out" or "unavailable".
  const std::string_view outcome = result ? std::string_view("ok") : errc_name(result.code());
  metrics_.add("doppel_dvv_requests_total", "Client requests coordinated, by outcome.", 1,
               {{"op", op}, {"outcome", outcome}});
  return result;
}

Result<GetReply> DvvNode::get(const ObjectKey& key, const RequestOptions& o) {
  Result<GetReply> got = coordinator_.get(key, o);
  if (got && got->found) {
    metrics_.observe("doppel_dvv_siblings", "Siblings a read found (of keys found).",
                     kSiblingBuckets, static_cast<double>(got->siblings.size()));
  }
  return count("get", std::move(got));
}

Result<PutReply> DvvNode::put(const ObjectKey& key, Sibling value,
                              std::optional<std::string> context, const RequestOptions& o) {
  return count("put", coordinator_.put(key, std::move(value), std::move(context), o));
}

Result<PutReply> DvvNode::remove(const ObjectKey& key, std::optional<std::string> context,
                                 const RequestOptions& o) {
  return count("delete", coordinator_.remove(key, std::move(context), o));
}

metrics::MetricSet DvvNode::metrics() const {
  metrics::MetricSet m = metrics_;
  const ObjectLog& log = store_.log();
  m.set("doppel_dvv_objects", "Objects this node holds a replica of.",
        static_cast<double>(log.objects()));
  m.set("doppel_dvv_live_bytes", "Bytes of the replicas' latest records.",
        static_cast<double>(log.live_bytes()));
  m.set("doppel_dvv_log_bytes", "Bytes of the object log on disk (live and dead records).",
        static_cast<double>(log.log_bytes()));
  for (NodeIndex n = 0; n < peers_.size(); ++n) {
    if (n == self_) continue;
    m.set("doppel_dvv_peer_up", "1 if this node sees the peer up, else 0.", peer_up(n) ? 1 : 0,
          {{"peer", std::to_string(n)}});
  }
  return m;
}

BucketProps DvvNode::props(const std::string& bucket) const {
  return props_.get(bucket);
}

Result<bool> DvvNode::set_props(const std::string& bucket, BucketProps p,
                                std::optional<std::uint64_t> if_version) {
  return props_.set(bucket, std::move(p), if_version);
}

std::uint64_t DvvNode::unserved_objects() const {
  std::uint64_t out = 0;
  const std::set<std::uint32_t> n_vals = props_.n_vals();
  for (std::uint32_t p = 0; p < membership_.ring().partitions(); ++p) {
    const auto* keys = store_.log().keys_of(p);
    if (keys == nullptr || membership_.serves_all(self_, p, n_vals)) continue;
    for (const auto& [_, k] : *keys) {
      out += !membership_.serves(self_, p, props_.get(k.bucket).n_val);
    }
  }
  return out;
}

bool DvvNode::peer_up(NodeIndex n) const {
  return peers_.up(n);
}

}  // namespace doppel::dvv
