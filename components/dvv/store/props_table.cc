#include "components/dvv/store/props_table.h"

#include "components/dvv/store/checked_file.h"
#include "runtime/assert.h"

namespace doppel::dvv {

using namespace std::chrono_literals;

PropsTable::PropsTable(Runtime& rt, const DvvSettings& config, Peers& peers)
    : rt_(rt), config_(config), peers_(peers), save_lock_(rt) {}

BucketProps PropsTable::get(const std::string& bucket) const {
  auto it = props_.find(bucket);
  return it == props_.end() ? BucketProps{} : it->second;
}

std::set<std::uint32_t> PropsTable::n_vals() const {
  std::set<std::uint32_t> out{BucketProps{}.n_val};
  for (const auto& [bucket, p] : props_) out.insert(p.n_val);
  return out;
}

Result<bool> PropsTable::set(const std::string& bucket, BucketProps p,
                             std::optional<std::uint64_t> if_version) {
  // A precondition: the HTTP layer's props_from_json checked the values.
  DOPPEL_ASSERT(p.n_val >= 1 && p.n_val <= BucketProps::kNValMax);
  std::string payload;
  {
    LockGuard guard(save_lock_);
    const std::uint64_t before = get(bucket).version;
    if (if_version && *if_version != before) return false;
    p.version = std::max(p.version, before + 1);
    DOPPEL_ASSERT(p.version > before);  // a change always wins over what it replaces
    std::map<std::string, BucketProps> next = props_;
    next[bucket] = p;
    if (Status s = save(next); !s) return s.error();  // not used: a crash would take it back
    props_ = std::move(next);
    payload = encode_props(props_);
  }
  for (NodeIndex n = 0; n < peers_.size(); ++n) {
    if (n != peers_.self()) {
      rt_.spawn("dvv-props",
                [this, n, payload] { (void)peers_.at(n).call(RpcKind::props, payload, 1s); });
    }
  }
  return true;
}

namespace {
// Whether `a` replaces `b`: the higher version, and for one version (two nodes
// that changed the same props at once) the larger encoding, so that every node
// picks the same one (ties left alone would keep the nodes apart forever).
bool newer(const BucketProps& a, const BucketProps& b) {
  if (a.version != b.version) return a.version > b.version;
  return encode_props({{"", a}}) > encode_props({{"", b}});
}
}  // namespace

void PropsTable::merge(const std::map<std::string, BucketProps>& theirs) {
  LockGuard guard(save_lock_);
  std::map<std::string, BucketProps> next = props_;
  bool changed = false;
  for (auto& [bucket, p] : theirs) {
    if (newer(p, get(bucket))) {
      next[bucket] = p;
      changed = true;
    }
  }
  // Used once saved (see the header); if the save fails, a later exchange brings them again.
  if (changed && save(next).ok()) props_ = std::move(next);
}

Status PropsTable::save(const std::map<std::string, BucketProps>& table) {
  return save_checked_file(rt_.fs(), "props.tmp", "props", encode_props(table));
}

Status PropsTable::load() {
  auto bytes = load_checked_file(rt_.fs(), "props");
  if (!bytes && bytes.code() == Errc::not_found) return {};
  if (!bytes && bytes.code() == Errc::corrupt) {
    rt_.record(Event("DvvPropsCorrupt", Severity::warning));  // peers will gossip them back
    return {};
  }
  if (!bytes) return bytes.error();
  auto decoded = decode_props(*bytes);
  if (decoded) props_ = std::move(*decoded);
  return {};
}

void PropsTable::gossip_loop(const bool& stopping) {
  while (!stopping) {
    rt_.sleep(config_.gossip_interval);
    if (peers_.size() < 2) continue;
    NodeIndex n = static_cast<NodeIndex>(rt_.random().below(peers_.size() - 1));
    if (n >= peers_.self()) ++n;
    DOPPEL_ASSERT(n != peers_.self());
    DOPPEL_ASSERT(n < peers_.size());
    auto reply = peers_.at(n).call(RpcKind::props, encode_props(props_), 1s);
    if (!reply) continue;
    auto theirs = decode_props(*reply);
    if (!theirs) continue;
    merge(*theirs);
  }
}

}  // namespace doppel::dvv
