#include "components/dvv/store/node.h"

#include <cstring>

#include "components/dvv/store/wire.h"

namespace doppel::dvv {

using namespace std::chrono_literals;

DvvNode::DvvNode(Runtime& rt, const NodeConfig& node, const DvvConfig& config)
    : rt_(rt),
      node_(node),
      config_(config),
      ring_(config.partitions, static_cast<std::uint32_t>(node.peers.size())),
      self_(node.node_id),
      self_id_("n" + std::to_string(node.node_id)) {
  for (const Endpoint& e : node.peers) peers_.push_back(std::make_unique<RpcClient>(rt, e));
  last_seen_.assign(node.peers.size(), rt.now());
  background_done_ = std::make_unique<Condition>(rt);
}

DvvNode::~DvvNode() = default;

Status DvvNode::start() {
  auto log = ObjectLog::open(rt_, rt_.fs(), "objects.log", [this](const ObjectKey& k) {
    return ring_.partition_of(k.bucket, k.key);
  });
  if (!log) return log.error();
  log_ = std::move(*log);
  if (Status s = load_props(); !s) return s;
  rpc_ = std::make_unique<RpcServer>(rt_, [this](RpcKind kind, std::string_view payload) {
    return handle(kind, payload);
  });
  if (Status s = rpc_->start(node_.peers[self_]); !s) {
    return make_error(s.code(), "peers[" + std::to_string(self_) + "]: " + s.error().message());
  }
  for (auto loop : {&DvvNode::ping_loop, &DvvNode::handoff_loop, &DvvNode::aae_loop, &DvvNode::gossip_loop}) {
    ++background_;
    rt_.spawn("dvv-loop", [this, loop] {
      struct Done {
        DvvNode& n;
        ~Done() {
          --n.background_;
          n.background_done_->notify_all();
        }
      } done{*this};
      (this->*loop)();
    });
  }
  rt_.record(Event("DvvStarted").detail("node", self_).detail("objects", log_->objects())
                 .detail("partitions", config_.partitions));
  return {};
}

void DvvNode::stop() {
  stopping_ = true;
  rpc_->stop();
  for (auto& p : peers_) p->close();
  const Instant deadline = rt_.now() + 5s;
  while (background_ > 0 && rt_.now() < deadline) background_done_->wait(deadline);
}

bool DvvNode::peer_up(NodeIndex n) const {
  if (n == self_) return true;
  return rt_.now() - last_seen_[n] < config_.down_after;
}

RpcClient& DvvNode::peer(NodeIndex n) { return *peers_[n]; }

std::int64_t DvvNode::now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(rt_.wall_now().time_since_epoch()).count();
}

DvvNode::KeyLock::KeyLock(DvvNode& node, const ObjectKey& key) : node_(node), key_(key) {
  auto& slot = node_.key_locks_[key_];
  if (!slot.first) slot.first = std::make_unique<Mutex>(node_.rt_);
  ++slot.second;  // counted: the map entry lives while anyone holds or waits
  Mutex& m = *slot.first;
  try {
    guard_.emplace(m);
  } catch (...) {
    release();
    throw;
  }
}

DvvNode::KeyLock::~KeyLock() {
  guard_.reset();
  release();
}

void DvvNode::KeyLock::release() {
  auto it = node_.key_locks_.find(key_);
  if (it != node_.key_locks_.end() && --it->second.second == 0) node_.key_locks_.erase(it);
}

void DvvNode::ping_loop() {
  while (!stopping_) {
    for (NodeIndex n = 0; n < peers_.size(); ++n) {
      if (n == self_) continue;
      rt_.spawn("dvv-ping", [this, n] {
        if (peer(n).call(RpcKind::ping, {}, config_.ping_interval).ok()) last_seen_[n] = rt_.now();
      });
    }
    rt_.sleep(config_.ping_interval);
  }
}

// --- bucket properties

BucketProps DvvNode::props(const std::string& bucket) const {
  auto it = props_.find(bucket);
  return it == props_.end() ? BucketProps{} : it->second;
}

Status DvvNode::set_props(const std::string& bucket, BucketProps p) {
  p.version = std::max(p.version, props(bucket).version + 1);
  props_[bucket] = p;
  if (Status s = save_props(); !s) return s;
  const std::string payload = encode_props(props_);
  for (NodeIndex n = 0; n < peers_.size(); ++n) {
    if (n != self_) rt_.spawn("dvv-props", [this, n, payload] { (void)peer(n).call(RpcKind::props, payload, 1s); });
  }
  return {};
}

Status DvvNode::save_props() {
  // Written new, synced, renamed over, directory synced: never half a file.
  auto f = rt_.fs().open("props.tmp", OpenOptions{.create = true, .truncate = true});
  if (!f) return f.error();
  const std::string bytes = encode_props(props_);
  WireWriter w;
  const std::uint32_t crc = crc32c(bytes);
  w.str().append(reinterpret_cast<const char*>(&crc), 4);
  w.str() += bytes;
  if (Status s = (*f)->pwrite(w.str(), 0); !s) return s;
  if (Status s = (*f)->datasync(); !s) return s;
  if (Status s = rt_.fs().rename("props.tmp", "props"); !s) return s;
  return rt_.fs().sync_dir("");
}

Status DvvNode::load_props() {
  auto f = rt_.fs().open("props", OpenOptions{});
  if (!f) return f.code() == Errc::not_found ? Status{} : Status(f.error());
  auto size = (*f)->size();
  if (!size) return size.error();
  std::string bytes(*size, '\0');
  auto n = (*f)->pread(bytes, 0);
  if (!n) return n.error();
  if (bytes.size() < 4) return {};
  std::uint32_t crc;
  std::memcpy(&crc, bytes.data(), 4);
  if (crc32c(std::string_view(bytes).substr(4)) != crc) {
    rt_.record(Event("DvvPropsCorrupt"));  // peers will gossip them back
    return {};
  }
  auto decoded = decode_props(std::string_view(bytes).substr(4));
  if (decoded) props_ = std::move(*decoded);
  return {};
}

void DvvNode::gossip_loop() {
  while (!stopping_) {
    rt_.sleep(config_.gossip_interval);
    if (peers_.size() < 2) continue;
    NodeIndex n = static_cast<NodeIndex>(rt_.random().below(peers_.size() - 1));
    if (n >= self_) ++n;
    auto reply = peer(n).call(RpcKind::props, encode_props(props_), 1s);
    if (!reply) continue;
    auto theirs = decode_props(*reply);
    if (!theirs) continue;
    bool changed = false;
    for (auto& [bucket, p] : *theirs) {
      if (p.version > props(bucket).version) {
        props_[bucket] = p;
        changed = true;
      }
    }
    if (changed) (void)save_props();
  }
}

Result<std::unique_ptr<Service>> boot_dvv(Runtime& rt, const NodeConfig& node) {
  auto config = parse_dvv_config(node);
  if (!config) return config.error();
  auto n = std::make_unique<DvvNode>(rt, node, *config);
  if (Status s = n->start(); !s) return s.error();
  return std::unique_ptr<Service>(std::move(n));
}

}  // namespace doppel::dvv
