#pragma once
// Active anti-entropy. Each partition's keys hash into kAaeSegments
// segments; a segment's hash is an order-free sum of its keys' object
// hashes, which the object log keeps up to date as objects change
// (ObjectLog::segment_sums: an exchange costs no pass over the keys). Every aae_interval this node
// takes each partition it is a primary of (with the default n_val: buckets with another n_val rely
// on read repair) and one other primary of it, in turn; they compare segment hashes, then the keys
// of the segments that differ, and for each key that differs this node pulls the other's object in
// and pushes the merge back.

#include <cstdint>
#include <string>
#include <vector>

#include "components/dvv/settings.h"
#include "components/dvv/store/object_log.h"
#include "components/dvv/store/peers.h"
#include "components/dvv/store/replica_client.h"
#include "components/dvv/store/replica_store.h"
#include "components/dvv/store/ring.h"
#include "runtime/runtime.h"

namespace doppel::dvv {

class AntiEntropy {
 public:
  AntiEntropy(Runtime& rt, const DvvSettings& config, const Ring& ring, NodeIndex self,
              Peers& peers, ReplicaStore& store, ReplicaClient& replicas);
  AntiEntropy(const AntiEntropy&) = delete;
  AntiEntropy& operator=(const AntiEntropy&) = delete;

  // kAaeSegments hashes of this node's keys of `partition`.
  std::vector<std::uint64_t> segment_hashes(std::uint32_t partition) const;
  // The aae_keys reply: this node's keys of one segment with their object hashes.
  std::string segment_keys(std::uint32_t partition, std::uint64_t segment) const;

  // One exchange per partition each aae_interval, until `stopping`.
  void loop(const bool& stopping);

 private:
  Status exchange(std::uint32_t partition, NodeIndex other);
  Status sync_segment(std::uint32_t partition, std::uint64_t segment, NodeIndex other);
  Status sync_key(const ObjectKey& key, bool theirs, NodeIndex other);

  Runtime& rt_;
  const DvvSettings& config_;
  const Ring& ring_;
  NodeIndex self_;
  Peers& peers_;
  ReplicaStore& store_;
  ReplicaClient& replicas_;
};

}  // namespace doppel::dvv
