#pragma once
// The consistent-hash ring, as Riak's riak_core: a fixed number of partitions
// (a power of two, default 64) spread round-robin over the nodes; a key maps to
// a partition by the top bits of its 64-bit hash. A key's preference list is
// the owners of its partition and the ones after it on the ring: the first
// n_val distinct nodes are its primaries; when a primary is down, the next up
// nodes stand in as fallbacks (a sloppy quorum), each holding hints for the
// primary it replaces.

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

  Ring(std::uint32_t partitions, std::uint32_t nodes);

  std::uint32_t partitions() const { return partitions_; }
  std::uint32_t nodes() const { return nodes_; }
  std::uint32_t partition_of(std::string_view bucket, std::string_view key) const;
  NodeIndex owner(std::uint32_t partition) const { return partition % nodes_; }

  // The first n_val distinct nodes from the partition on.
  std::vector<NodeIndex> primaries(std::uint32_t partition, std::uint32_t n_val) const;
  // Primaries that are up, and a fallback for each that is down.
  std::vector<Replica> preference_list(std::uint32_t partition, std::uint32_t n_val,
                                       const std::function<bool(NodeIndex)>& up) const;

 private:
  std::uint32_t partitions_;
  std::uint32_t nodes_;
  std::uint32_t shift_;
};

// A stable 64-bit hash of bytes (FNV-1a with a final mix): partitions and
// anti-entropy segments.
std::uint64_t hash64(std::string_view bytes, std::uint64_t seed = 0);

}  // namespace doppel::dvv
