#include "components/dvv/store/replica_id.h"

namespace doppel::dvv {

ReplicaId renewed_replica_id(NodeIndex node, std::uint64_t epoch) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = initial_replica_id(node) + "~";
  for (int shift = 60; shift >= 0; shift -= 4) out += kHex[(epoch >> shift) & 0xf];
  return out;
}

std::string_view replica_node_name(std::string_view id) {
  const std::size_t tilde = id.find('~');
  return tilde == std::string_view::npos ? id : id.substr(0, tilde);
}

}  // namespace doppel::dvv
