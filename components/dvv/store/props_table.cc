#include "components/dvv/store/props_table.h"

#include <cstring>

#include "components/dvv/store/wire.h"
#include "runtime/assert.h"

namespace doppel::dvv {

using namespace std::chrono_literals;

PropsTable::PropsTable(Runtime& rt, const DvvSettings& config, Peers& peers)
    : rt_(rt), config_(config), peers_(peers), save_lock_(rt) {}

BucketProps PropsTable::get(const std::string& bucket) const {
  auto it = props_.find(bucket);
  return it == props_.end() ? BucketProps{} : it->second;
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
  // Written new, synced, renamed over, directory synced: never half a file.
  auto f = rt_.fs().open("props.tmp", OpenOptions{.create = true, .truncate = true});
  if (!f) return f.error();
  const std::string bytes = encode_props(table);
  WireWriter w;
  const std::uint32_t crc = crc32c(bytes);
  w.str().append(reinterpret_cast<const char*>(&crc), 4);
  w.str() += bytes;
  if (Status s = (*f)->pwrite(w.str(), 0); !s) return s;
  if (Status s = (*f)->datasync(); !s) return s;
  if (Status s = rt_.fs().rename("props.tmp", "props"); !s) return s;
  return rt_.fs().sync_dir("");
}

Status PropsTable::load() {
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
    rt_.record(Event("DvvPropsCorrupt", Severity::warning));  // peers will gossip them back
    return {};
  }
  auto decoded = decode_props(std::string_view(bytes).substr(4));
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
