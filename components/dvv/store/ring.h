#pragma once
// The consistent-hash ring, as Riak's riak_core: a fixed number of partitions
// (a power of two, default 64), each owned by one node; a key maps to a
// partition by the top bits of its 64-bit hash. A key's preference list is
// the owners of its partition and the ones after it on the ring: the first
// n_val distinct nodes are its primaries; when a primary is down, the next up
// nodes stand in as fallbacks (a sloppy quorum), each holding hints for the
// primary it replaces. Who owns what is membership's business (ring_state.h):
// a Ring is one immutable assignment of owners.

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

namespace doppel::dvv {

using NodeIndex = std::uint32_t;

struct Replica {
  NodeIndex node = 0;
  bool primary = true;
  NodeIndex hinted_for = 0;  // a fallback: the primary it stands in for
};

class Ring {
 public:
  static constexpr std::uint32_t kPartitionsMax = 1u << 12;

  // Partitions round-robin over nodes 0..nodes-1 (a cluster's first ring).
  Ring(std::uint32_t partitions, std::uint32_t nodes);
  // Partition p owned by owners[p]; owners.size() is a power of two.
  explicit Ring(std::vector<NodeIndex> owners);

  std::uint32_t partitions() const { return static_cast<std::uint32_t>(owners_.size()); }
  // How many distinct nodes own partitions.
  std::uint32_t owners() const { return distinct_owners_; }
  std::uint32_t partition_of(std::string_view bucket, std::string_view key) const;
  NodeIndex owner(std::uint32_t partition) const { return owners_[partition]; }
  const std::vector<NodeIndex>& owner_list() const { return owners_; }

  // The first n_val distinct nodes from the partition on.
  std::vector<NodeIndex> primaries(std::uint32_t partition, std::uint32_t n_val) const;
  // Primaries that are up, and a fallback for each that is down.
  std::vector<Replica> preference_list(std::uint32_t partition, std::uint32_t n_val,
                                       const std::function<bool(NodeIndex)>& up) const;

  bool operator==(const Ring&) const = default;

 private:
  std::vector<NodeIndex> owners_;
  std::uint32_t distinct_owners_ = 0;
  std::uint32_t shift_ = 64;
};

// A stable 64-bit hash of bytes (FNV-1a with a final mix): partitions and
// anti-entropy segments.
std::uint64_t hash64(std::string_view bytes, std::uint64_t seed = 0);

}  // namespace doppel::dvv
