#include "components/dvv/store/ring.h"

#include <algorithm>

#include "runtime/assert.h"

namespace doppel::dvv {

std::uint64_t hash64(std::string_view bytes, std::uint64_t seed) {
  std::uint64_t h = 0xcbf29ce484222325ULL ^ (seed * 0x9e3779b97f4a7c15ULL);
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

namespace {

std::vector<NodeIndex> round_robin(std::uint32_t partitions, std::uint32_t nodes) {
  DOPPEL_ASSERT(nodes >= 1 && nodes <= partitions);
  std::vector<NodeIndex> owners(partitions);
  for (std::uint32_t p = 0; p < partitions; ++p) owners[p] = p % nodes;
  return owners;
}

}  // namespace

Ring::Ring(std::uint32_t partitions, std::uint32_t nodes) : Ring(round_robin(partitions, nodes)) {}

Ring::Ring(std::vector<NodeIndex> owners) : owners_(std::move(owners)) {
  const auto partitions = static_cast<std::uint32_t>(owners_.size());
  DOPPEL_ASSERT(partitions >= 1 && partitions <= kPartitionsMax);
  DOPPEL_ASSERT((partitions & (partitions - 1)) == 0);
  std::vector<NodeIndex> distinct = owners_;
  std::sort(distinct.begin(), distinct.end());
  distinct_owners_ =
      static_cast<std::uint32_t>(std::unique(distinct.begin(), distinct.end()) - distinct.begin());
  for (std::uint32_t p = partitions; p > 1; p >>= 1) --shift_;
}

std::uint32_t Ring::partition_of(std::string_view bucket, std::string_view key) const {
  if (owners_.size() == 1) return 0;
  std::uint64_t h = hash64(bucket, 1);
  h = hash64(key, h);
  return static_cast<std::uint32_t>(h >> shift_);
}

std::vector<NodeIndex> Ring::primaries(std::uint32_t partition, std::uint32_t n_val) const {
  std::vector<NodeIndex> out;
  for (std::uint32_t i = 0; i < partitions() && out.size() < std::min(n_val, distinct_owners_);
       ++i) {
    const NodeIndex n = owner((partition + i) % partitions());
    if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  }
  return out;
}

std::vector<Replica> Ring::preference_list(std::uint32_t partition, std::uint32_t n_val,
                                           const std::function<bool(NodeIndex)>& up) const {
  const std::vector<NodeIndex> prim = primaries(partition, n_val);
  std::vector<Replica> out;
  std::vector<NodeIndex> down;
  for (NodeIndex n : prim) {
    if (up(n)) {
      out.push_back(Replica{n, true, n});
    } else {
      down.push_back(n);
    }
  }
  // Fallbacks: the next up nodes on the ring that are not primaries.
  std::vector<NodeIndex> taken = prim;
  std::size_t next_down = 0;
  for (std::uint32_t i = 0; i < partitions() && next_down < down.size(); ++i) {
    const NodeIndex n = owner((partition + i) % partitions());
    if (std::find(taken.begin(), taken.end(), n) != taken.end() || !up(n)) continue;
    taken.push_back(n);
    out.push_back(Replica{n, false, down[next_down++]});
  }
  return out;
}

}  // namespace doppel::dvv
