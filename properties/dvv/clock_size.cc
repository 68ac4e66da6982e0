#include "properties/dvv/clock_size.h"

#include <map>

#include "components/dvv/store/replica_id.h"
#include "components/http/codec.h"

namespace doppel::properties::dvv {

Result<ClockSize> measure_context(std::string_view vclock_base64, doppel::dvv::ClockKind kind) {
  if (vclock_base64.empty()) return ClockSize{};
  auto bytes = http::base64_decode(vclock_base64);
  if (!bytes) return bytes.error();
  auto context = doppel::dvv::decode_context(*bytes, kind);
  if (!context) return context.error();
  ClockSize size;
  size.bytes = bytes->size();
  if (context->kind() == doppel::dvv::ClockKind::dvvset) {
    for (const auto& e : context->dvvset()) size.ids.push_back(e.id);
  } else {
    for (const auto& e : context->vv().entries) size.ids.push_back(e.actor);
  }
  size.entries = size.ids.size();
  return size;
}

std::optional<std::string> dvvset_ids_beyond_bound(
    const std::vector<std::string>& ids, std::size_t nodes_max,
    const std::function<std::optional<std::uint32_t>(std::size_t node)>& ids_max) {
  std::map<std::string, std::size_t> per_node;
  for (const std::string& id : ids) ++per_node[std::string(doppel::dvv::replica_node_name(id))];
  if (per_node.size() > nodes_max) {
    return "a clock naming " + std::to_string(per_node.size()) + " nodes (" +
           std::to_string(ids.size()) + " ids), of at most " + std::to_string(nodes_max);
  }
  for (const auto& [name, count] : per_node) {
    if (count == 1) continue;
    std::optional<std::uint32_t> b;
    if (name.size() > 1 && name[0] == 'n' &&
        name.find_first_not_of("0123456789", 1) == std::string::npos && name.size() < 10) {
      b = ids_max(std::stoul(name.substr(1)));
    }
    if (!b || count > *b) {
      return "a clock with " + std::to_string(count) + " ids of node " + name + ", of at most " +
             (b ? std::to_string(*b) : std::string("?")) + " (its boots and renewals)";
    }
  }
  return std::nullopt;
}

}  // namespace doppel::properties::dvv
