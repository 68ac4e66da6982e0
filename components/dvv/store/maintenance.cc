// Background work: hinted handoff and active anti-entropy.

#include "components/dvv/store/node.h"
#include "components/dvv/store/wire.h"

namespace doppel::dvv {

using namespace std::chrono_literals;

void DvvNode::handoff_loop() {
  while (!stopping_) {
    rt_.sleep(config_.handoff_interval);
    if (config_.bug_no_repair) continue;  // planted: hints are kept, never handed off
    for (NodeIndex target : log_->hint_targets()) {
      if (!peer_up(target)) continue;
      const auto* hints = log_->hints_for(target);
      if (hints == nullptr) continue;
      // Copy the keys: the map changes as hints are handed off.
      std::vector<std::pair<ObjectKey, Object>> batch;
      for (const auto& [k, s] : *hints) {
        batch.emplace_back(k, s.object);
        if (batch.size() >= 256) break;
      }
      for (auto& [key, object] : batch) {
        WireWriter w;
        w.bytes(key.bucket);
        w.bytes(key.key);
        w.bytes(encode_object(object));
        if (!peer(target).call(RpcKind::repair, w.take(), config_.request_timeout)) break;
        // Only if nothing newer arrived meanwhile.
        const auto* now_held = log_->hints_for(target);
        if (now_held == nullptr) break;
        auto it = now_held->find(key);
        if (it != now_held->end() && it->second.object == object) {
          (void)log_->remove_hint(target, key);
          rt_.record(Event("DvvHandoff").detail("to", target).detail("key", key.key));
        }
      }
    }
    (void)log_->maybe_compact(buggify(rt_));  // buggify: compact now, whatever the sizes
  }
}

std::vector<std::uint64_t> DvvNode::segment_hashes(std::uint32_t partition) const {
  std::vector<std::uint64_t> out(kAaeSegments, 0);
  if (const auto* keys = log_->keys_of(partition)) {
    for (const ObjectKey& k : *keys) {
      const std::uint64_t seg = hash64(k.bucket + '\0' + k.key) % kAaeSegments;
      // Order-free: a sum of per-key hashes, each mixed with its key.
      out[seg] += hash64(k.key, log_->find(k)->hash ^ hash64(k.bucket));
    }
  }
  return out;
}

Status DvvNode::exchange(std::uint32_t partition, NodeIndex other) {
  WireWriter req;
  req.varint(partition);
  auto theirs_bytes = peer(other).call(RpcKind::aae_segments, req.take(), config_.request_timeout);
  if (!theirs_bytes) return theirs_bytes.error();
  WireReader r(*theirs_bytes);
  const std::vector<std::uint64_t> ours = segment_hashes(partition);
  std::uint64_t differing = 0;
  for (std::uint64_t seg = 0; seg < kAaeSegments; ++seg) {
    const std::uint64_t theirs = r.varint();
    if (!r.ok()) return make_error(Errc::protocol, "aae segments");
    if (theirs == ours[seg]) continue;
    ++differing;
    WireWriter kreq;
    kreq.varint(partition);
    kreq.varint(seg);
    auto keys = peer(other).call(RpcKind::aae_keys, kreq.take(), config_.request_timeout);
    if (!keys) return keys.error();
    // Their keys and hashes; then ours in the same segment.
    std::map<ObjectKey, std::uint64_t> remote;
    WireReader kr(*keys);
    while (kr.ok() && !kr.done()) {
      WireReader key_reader(kr.bytes());
      ObjectKey k{std::string(key_reader.bytes()), std::string(key_reader.bytes())};
      remote[k] = kr.varint();
    }
    std::set<ObjectKey> all;
    for (auto& [k, h] : remote) all.insert(k);
    if (const auto* local_keys = log_->keys_of(partition)) {
      for (const ObjectKey& k : *local_keys) {
        if (hash64(k.bucket + '\0' + k.key) % kAaeSegments == seg) all.insert(k);
      }
    }
    for (const ObjectKey& k : all) {
      const StoredObject* local = log_->find(k);
      auto it = remote.find(k);
      if (local && it != remote.end() && local->hash == it->second) continue;
      rt_.record(Event("DvvAaeRepair").detail("with", other).detail("key", k.key));
      if (config_.bug_no_repair) continue;  // planted: found, never fixed
      // Pull theirs into ours, then push the merge back.
      if (it != remote.end()) {
        auto o = read_replica(other, k, config_.request_timeout);
        if (!o) return o.error();
        if (Status s = sync_in(k, *o, false, std::nullopt); !s) return s;
      }
      local = log_->find(k);
      if (local == nullptr) continue;
      WireWriter w;
      w.bytes(k.bucket);
      w.bytes(k.key);
      w.bytes(encode_object(local->object));
      if (auto s = peer(other).call(RpcKind::repair, w.take(), config_.request_timeout); !s) return s.error();
    }
  }
  if (differing > 0) rt_.record(Event("DvvAaeExchange").detail("partition", partition).detail("segments", differing));
  return {};
}

void DvvNode::aae_loop() {
  std::uint64_t round = 0;
  while (!stopping_) {
    rt_.sleep(config_.aae_interval);
    ++round;
    // Each round, every partition this node is a primary of, with one other
    // primary (the next in turn). Only with the default n_val: buckets with
    // another n_val are kept by read repair.
    const std::uint32_t n_val = BucketProps{}.n_val;
    for (std::uint32_t p = 0; p < ring_.partitions() && !stopping_; ++p) {
      const auto primaries = ring_.primaries(p, n_val);
      if (std::find(primaries.begin(), primaries.end(), self_) == primaries.end() || primaries.size() < 2) continue;
      std::vector<NodeIndex> others;
      for (NodeIndex n : primaries) {
        if (n != self_) others.push_back(n);
      }
      const NodeIndex other = others[round % others.size()];
      if (!peer_up(other)) continue;
      (void)exchange(p, other);
    }
  }
}

}  // namespace doppel::dvv
