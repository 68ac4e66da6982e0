#pragma once
// The DVV node's settings: typed, read once from the node config's [dvv] table
// (doppel serve) or filled in by a scenario driver (the simulator):
//
//   [dvv]
//   partitions = 64              # ring partitions: a power of two, at least the nodes
//   members = 3                  # the first ring's members: peers[0..members); default all
//                                # (the others join later: doppel admin cluster join)
//   request_timeout_ms = 2000    # a replica's answer, a forwarded PUT
//   ping_interval_ms = 500       # liveness pings between nodes
//   handoff_interval_ms = 1000   # a fallback offers its hints this often
//   aae_interval_ms = 2000       # active anti-entropy exchanges
//   users_file = "dvv.htpasswd"  # client API users (bcrypt); then every request needs them
//   cluster_secret_file = "cluster.secret"  # node-to-node calls prove they know it (HMAC)
//   tls_cert_file, tls_key_file, tls_ca_file   # HTTPS, and TLS between nodes (service_access.h)
//   insecure = false             # serve in the clear on a non-loopback address
//
// Errors name the file, the line and the key.

#include <toml++/toml.h>

#include <cstdint>
#include <string_view>

#include "components/access/service_access.h"
#include "runtime/node.h"
#include "runtime/result.h"
#include "runtime/time.h"

namespace doppel::dvv {

struct DvvSettings {
  static constexpr std::size_t kClusterSecretBytesMin = 16;
  std::uint32_t partitions = 64;
  std::uint32_t members = 0;  // 0: every peer is a member of the first ring
  Duration request_timeout{std::chrono::seconds(2)};
  Duration ping_interval{std::chrono::milliseconds(500)};
  Duration down_after{std::chrono::seconds(2)};
  Duration handoff_interval{std::chrono::seconds(1)};
  Duration aae_interval{std::chrono::seconds(2)};
  Duration gossip_interval{std::chrono::seconds(2)};
  Duration reap_delay{std::chrono::seconds(3)};
  std::uint32_t siblings_max = 512;  // a PUT that would keep more is refused
  std::size_t value_bytes_max = 8u << 20;
  access::ServiceAccess access;  // the client API's users
  // What every node-to-node connection proves it knows (rpc.h's handshake); "" is a secret too
  // (the default: a cluster without one keeps out only peers of another cluster's secret).
  std::string cluster_secret;
  // Test-only planted bugs: set by the simulator's scenarios, never read from a node config.
  bool bug_ack_early = false;                // ack after the local unsynced write; replicate later
  bool bug_no_repair = false;                // read repair, anti-entropy and handoff never fix
  bool bug_dot_per_write = false;            // a fresh coordinator id per write
  bool bug_ignore_context = false;           // every PUT treated as blind
  bool bug_log_truncates_at_damage = false;  // replay cuts the log at the first bad record
  bool bug_down_stays_down = false;          // pings go to live peers only: a down peer stays down
  bool bug_pw_counts_fallbacks = false;      // a fallback's ack counts toward pw
  bool bug_dw_before_sync = false;           // a replica acks a copy as durable before its fsync
  bool bug_get_ignores_allow_mult = false;   // GET shows siblings though allow_mult is false
  bool bug_rpc_trusts_peers = false;         // a server serves a peer whose proof did not check
  bool bug_drop_before_handoff = false;      // a node drops a key it no longer owns unsent

  // From a [dvv] table; `source` names the file in errors; `files` reads the files it names.
  static Result<DvvSettings> read(const toml::table& table, std::string_view source,
                                  const FileReader& files = {});
};

// The settings against the cluster the node is in (peers, node_id); errors name the key.
Status check_cluster(const NodeConfig& node, const DvvSettings& settings);

// Sets the planted bug of that name (scenarios' `bug` key).
Status plant_dvv_bug(std::string_view name, DvvSettings& settings);

}  // namespace doppel::dvv
