#include "components/dvv/store/node.h"

#include "runtime/assert.h"

namespace doppel::dvv {

using namespace std::chrono_literals;

DvvNode::DvvNode(Runtime& rt, const NodeConfig& node, const DvvSettings& config)
    : rt_(rt),
      node_(node),
      config_(config),
      ring_(config.partitions, static_cast<std::uint32_t>(node.peers.size())),
      self_(node.node_id),
      store_(rt, config_, ring_, self_, props_),
      peers_(rt, config_, node.peers, self_),
      props_(rt, config_, peers_),
      replicas_(rt, self_, peers_, props_, store_, dispatch_),
      reaper_(rt, config_, ring_, props_, replicas_),
      coordinator_(rt, config_, ring_, self_, peers_, props_, store_, replicas_, reaper_),
      handoff_(rt, config_, self_, peers_, store_, replicas_),
      anti_entropy_(rt, config_, ring_, self_, peers_, store_, replicas_),
      dispatch_(rt, ring_, store_, coordinator_, anti_entropy_, props_) {
  background_done_ = std::make_unique<Condition>(rt);
}

DvvNode::~DvvNode() = default;

Status DvvNode::start() {
  if (Status s = store_.open(); !s) return s;
  if (Status s = props_.load(); !s) return s;
  rpc_ = std::make_unique<RpcServer>(rt_, [this](RpcKind kind, std::string_view payload) {
    return dispatch_.handle(kind, payload);
  });
  if (Status s = rpc_->start(node_.peers[self_]); !s) {
    return make_error(s.code(), "peers[" + std::to_string(self_) + "]: " + s.error().message());
  }
  run_background([this] { peers_.ping_loop(stopping_); });
  run_background([this] { handoff_.loop(stopping_); });
  run_background([this] { anti_entropy_.loop(stopping_); });
  run_background([this] { props_.gossip_loop(stopping_); });
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

Result<GetReply> DvvNode::get(const ObjectKey& key, const RequestOptions& o) {
  return coordinator_.get(key, o);
}

Result<PutReply> DvvNode::put(const ObjectKey& key, Sibling value,
                              std::optional<std::string> context, const RequestOptions& o) {
  return coordinator_.put(key, std::move(value), std::move(context), o);
}

Result<PutReply> DvvNode::remove(const ObjectKey& key, std::optional<std::string> context,
                                 const RequestOptions& o) {
  return coordinator_.remove(key, std::move(context), o);
}

BucketProps DvvNode::props(const std::string& bucket) const {
  return props_.get(bucket);
}

Result<bool> DvvNode::set_props(const std::string& bucket, BucketProps p,
                                std::optional<std::uint64_t> if_version) {
  return props_.set(bucket, std::move(p), if_version);
}

bool DvvNode::peer_up(NodeIndex n) const {
  return peers_.up(n);
}

}  // namespace doppel::dvv
