#include "components/dvv/store/settings.h"

#include <charconv>
#include <string>

#include "components/dvv/store/ring.h"

namespace doppel::dvv {

namespace {

Result<std::uint64_t> setting_number(const std::string& key, const std::string& text, std::uint64_t lo,
                                     std::uint64_t hi) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v < lo || v > hi) {
    return make_error(Errc::invalid_argument,
                      key + ": expected a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
  }
  return v;
}

}  // namespace

Result<DvvConfig> parse_dvv_config(const NodeConfig& node) {
  DvvConfig c;
  for (const auto& [key, value] : node.settings) {
    if (key == "partitions") {
      auto v = setting_number(key, value, 1, Ring::kPartitionsMax);
      if (!v) return v.error();
      if ((*v & (*v - 1)) != 0) return make_error(Errc::invalid_argument, key + ": must be a power of two");
      c.partitions = static_cast<std::uint32_t>(*v);
    } else if (key == "request_timeout_ms" || key == "aae_interval_ms" || key == "handoff_interval_ms" ||
               key == "ping_interval_ms") {
      auto v = setting_number(key, value, 1, 3'600'000);
      if (!v) return v.error();
      const Duration d = std::chrono::milliseconds(*v);
      (key == "request_timeout_ms" ? c.request_timeout
       : key == "aae_interval_ms"  ? c.aae_interval
       : key == "handoff_interval_ms" ? c.handoff_interval
                                       : c.ping_interval) = d;
    } else {
      return make_error(Errc::invalid_argument,
                        key + ": unknown setting (dvv has partitions, request_timeout_ms, aae_interval_ms, "
                              "handoff_interval_ms, ping_interval_ms)");
    }
  }
  if (node.peers.empty()) return make_error(Errc::invalid_argument, "peers: a dvv node needs the cluster's peers");
  if (node.node_id >= node.peers.size()) {
    return make_error(Errc::invalid_argument, "node_id: not an index into peers");
  }
  if (node.peers.size() > c.partitions) return make_error(Errc::invalid_argument, "partitions: fewer than nodes");
  if (node.bug == "ack-early") c.bug_ack_early = true;
  else if (node.bug == "no-repair") c.bug_no_repair = true;
  else if (node.bug == "dot-per-write") c.bug_dot_per_write = true;
  else if (node.bug == "ignore-context") c.bug_ignore_context = true;
  else if (!node.bug.empty()) return make_error(Errc::invalid_argument, "bug: dvv has no planted bug '" + node.bug + "'");
  return c;
}

}  // namespace doppel::dvv
