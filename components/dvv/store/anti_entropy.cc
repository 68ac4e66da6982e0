#include "components/dvv/store/anti_entropy.h"

#include <algorithm>
#include <map>
#include <set>

#include "components/dvv/store/messages.h"
#include "runtime/assert.h"

namespace doppel::dvv {

using namespace std::chrono_literals;

namespace {

// BUGGIFY (runtime/buggify.h): writes land between the pull and the push.
const BuggifySite kSlowKeySync{
    "dvv.aae.slow_key_sync",
    "anti-entropy waits up to 500 ms between pulling a key and pushing the merge back"};

// Partitions of at most this many keys have their kept sums checked against a recount.
constexpr std::size_t kSumsCheckedKeysMax = 256;

}  // namespace

AntiEntropy::AntiEntropy(Runtime& rt, const DvvSettings& config, const Ring& ring, NodeIndex self,
                         Peers& peers, ReplicaStore& store, ReplicaClient& replicas)
    : rt_(rt),
      config_(config),
      ring_(ring),
      self_(self),
      peers_(peers),
      store_(store),
      replicas_(replicas) {}

std::vector<std::uint64_t> AntiEntropy::segment_hashes(std::uint32_t partition) const {
  const ObjectLog& log = store_.log();
  const std::vector<std::uint64_t>* sums = log.segment_sums(partition);
  std::vector<std::uint64_t> out = sums ? *sums : std::vector<std::uint64_t>(kAaeSegments, 0);
  DOPPEL_ASSERT(out.size() == kAaeSegments);
  // The sums kept as objects changed are the sums over the keys held: checked where that costs
  // little (every partition of a simulated run).
  const auto* keys = log.keys_of(partition);
  if (keys != nullptr && keys->size() <= kSumsCheckedKeysMax) {
    std::vector<std::uint64_t> again(kAaeSegments, 0);
    for (const auto& [segment, k] : *keys) {
      const StoredObject* s = log.find(k);
      // The log's partition index lists only keys it holds, each in its partition and segment.
      DOPPEL_ASSERT(s != nullptr);
      DOPPEL_ASSERT(ring_.partition_of(k.bucket, k.key) == partition);
      DOPPEL_ASSERT(aae_segment(k) == segment);
      again[segment] += aae_key_hash(k, s->hash);
    }
    DOPPEL_ASSERT_MSG(again == out, "anti-entropy sums drifted from the keys they sum");
  }
  return out;
}

std::string AntiEntropy::segment_keys(std::uint32_t partition, std::uint64_t segment) const {
  const ObjectLog& log = store_.log();
  WireWriter w;
  for (const auto& [_, k] : log.keys_in_segment(partition, segment)) {
    const StoredObject* s = log.find(k);
    DOPPEL_ASSERT(s != nullptr);
    w.bytes(encode_key(k));
    w.varint(s->hash);
  }
  return w.take();
}

void AntiEntropy::loop(const bool& stopping) {
  std::uint64_t round = 0;
  while (!stopping) {
    rt_.sleep(config_.aae_interval);
    ++round;
    // Each round, every partition this node is a primary of, with one other
    // primary (the next in turn). Only with the default n_val: buckets with
    // another n_val are kept by read repair.
    const std::uint32_t n_val = BucketProps{}.n_val;
    for (std::uint32_t p = 0; p < ring_.partitions() && !stopping; ++p) {
      const auto primaries = ring_.primaries(p, n_val);
      if (std::find(primaries.begin(), primaries.end(), self_) == primaries.end() ||
          primaries.size() < 2) {
        continue;
      }
      std::vector<NodeIndex> others;
      for (NodeIndex n : primaries) {
        if (n != self_) others.push_back(n);
      }
      DOPPEL_ASSERT(!others.empty());
      const NodeIndex other = others[round % others.size()];
      DOPPEL_ASSERT(other != self_);
      if (!peers_.up(other)) continue;
      (void)exchange(p, other);
    }
  }
}

Status AntiEntropy::exchange(std::uint32_t partition, NodeIndex other) {
  auto theirs_bytes = peers_.at(other).call(
      RpcKind::aae_segments, encode_segments_request(partition), config_.request_timeout);
  if (!theirs_bytes) return theirs_bytes.error();
  WireReader r(*theirs_bytes);
  const std::vector<std::uint64_t> ours = segment_hashes(partition);
  DOPPEL_ASSERT(ours.size() == kAaeSegments);
  std::uint64_t differing = 0;
  for (std::uint64_t seg = 0; seg < kAaeSegments; ++seg) {
    const std::uint64_t theirs = r.varint();
    if (!r.ok()) return make_error(Errc::protocol, "aae segments");
    if (theirs == ours[seg]) continue;
    ++differing;
    if (Status s = sync_segment(partition, seg, other); !s) return s;
  }
  if (differing > 0) {
    rt_.record(Event("DvvAaeExchange", Severity::debug)
                   .detail("partition", partition)
                   .detail("segments", differing));
  }
  return {};
}

Status AntiEntropy::sync_segment(std::uint32_t partition, std::uint64_t segment, NodeIndex other) {
  auto keys = peers_.at(other).call(
      RpcKind::aae_keys, encode_segment_keys_request(partition, segment), config_.request_timeout);
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
  for (const auto& [_, k] : store_.log().keys_in_segment(partition, segment)) all.insert(k);
  for (const ObjectKey& k : all) {
    const StoredObject* local = store_.log().find(k);
    auto it = remote.find(k);
    if (local && it != remote.end() && local->hash == it->second) continue;
    rt_.record(Event("DvvAaeRepair").detail("with", other).detail("key", k.key));
    if (config_.bug_no_repair) continue;  // planted: found, never fixed
    if (Status s = sync_key(k, it != remote.end(), other); !s) return s;
  }
  return {};
}

Status AntiEntropy::sync_key(const ObjectKey& key, bool theirs, NodeIndex other) {
  // Pull theirs into ours, then push the merge back.
  if (theirs) {
    auto o = replicas_.read(other, key, config_.request_timeout);
    if (!o) return o.error();
    if (Status s = store_.sync_in(key, *o, false, std::nullopt); !s) return s;
  }
  (void)buggify_sleep(rt_, kSlowKeySync, 500ms);
  const Object* local = store_.visible(key);
  if (local == nullptr) return {};
  return replicas_.repair(other, key, *local, config_.request_timeout);
}

}  // namespace doppel::dvv
