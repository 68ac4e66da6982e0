#include "components/dvv/settings.h"

#include "base/toml.h"
#include "components/dvv/store/ring.h"

namespace doppel::dvv {

Result<DvvSettings> DvvSettings::read(const toml::table& table, std::string_view source,
                                      const FileReader& files) {
  DvvSettings s;
  TomlFields f(table, source);
  const auto partitions = f.integer("partitions", 1, Ring::kPartitionsMax, s.partitions);
  if (f.ok() && (partitions & (partitions - 1)) != 0)
    f.fail("partitions", "must be a power of two");
  s.partitions = static_cast<std::uint32_t>(partitions);
  s.members = static_cast<std::uint32_t>(f.integer("members", 1, 256, 0));
  constexpr std::int64_t kMsMax = 3'600'000;
  s.request_timeout = f.ms("request_timeout_ms", 1, kMsMax, s.request_timeout);
  s.aae_interval = f.ms("aae_interval_ms", 1, kMsMax, s.aae_interval);
  s.handoff_interval = f.ms("handoff_interval_ms", 1, kMsMax, s.handoff_interval);
  s.ping_interval = f.ms("ping_interval_ms", 1, kMsMax, s.ping_interval);
  s.access = access::read_service_access(f, files);
  if (auto secret = f.file("cluster_secret_file", files)) {
    // A trailing newline (echo > file) is not part of the secret.
    while (!secret->empty() && (secret->back() == '\n' || secret->back() == '\r')) {
      secret->pop_back();
    }
    if (secret->size() < kClusterSecretBytesMin) {
      f.fail("cluster_secret_file", "a secret of at least " +
                                        std::to_string(kClusterSecretBytesMin) +
                                        " bytes (e.g. head -c 32 /dev/urandom | base64)");
    }
    s.cluster_secret = std::move(*secret);
  }
  f.reject_unknown_keys();
  if (!f.ok()) return f.error();
  return s;
}

Status check_cluster(const NodeConfig& node, const DvvSettings& s) {
  if (node.peers.empty()) {
    return make_error(Errc::invalid_argument, "peers: a dvv node needs the cluster's peers");
  }
  if (node.node_id >= node.peers.size()) {
    return make_error(Errc::invalid_argument, "node_id: not an index into peers");
  }
  if (node.peers.size() > s.partitions) {
    return make_error(Errc::invalid_argument, "partitions: fewer than nodes");
  }
  if (node.peers.size() > 256) {
    return make_error(Errc::invalid_argument, "peers: a cluster of at most 256 nodes");
  }
  if (s.members > node.peers.size()) {
    return make_error(Errc::invalid_argument,
                      "members: more than the " + std::to_string(node.peers.size()) + " peers");
  }
  return {};
}

Status plant_dvv_bug(std::string_view name, DvvSettings& s) {
  if (name == "ack-early") {
    s.bug_ack_early = true;
  } else if (name == "no-repair") {
    s.bug_no_repair = true;
  } else if (name == "dot-per-write") {
    s.bug_dot_per_write = true;
  } else if (name == "ignore-context") {
    s.bug_ignore_context = true;
  } else if (name == "log-truncates-at-damage") {
    s.bug_log_truncates_at_damage = true;
  } else if (name == "down-stays-down") {
    s.bug_down_stays_down = true;
  } else if (name == "pw-counts-fallbacks") {
    s.bug_pw_counts_fallbacks = true;
  } else if (name == "dw-before-sync") {
    s.bug_dw_before_sync = true;
  } else if (name == "get-ignores-allow-mult") {
    s.bug_get_ignores_allow_mult = true;
  } else if (name == "rpc-trusts-peers") {
    s.bug_rpc_trusts_peers = true;
  } else if (name == "drop-before-handoff") {
    s.bug_drop_before_handoff = true;
  } else if (!name.empty()) {
    return make_error(Errc::invalid_argument,
                      "bug: dvv has no planted bug '" + std::string(name) + "'");
  }
  return {};
}

}  // namespace doppel::dvv
