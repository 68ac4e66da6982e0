#pragma once
// The dedup node's settings: typed, read once from the node config's [dedup]
// table (doppel serve) or filled in by a scenario driver (the simulator):
//
//   [dedup]
//   segment_mb = 4                  # segment size clients cut at (GET /info), and the largest
//                                   # segment the store accepts: 1 to 32
//   hash = "sha256"                 # or "sha1" (the paper's)
//   rebuild_threshold_percent = 20  # punch below it, compact at or above it (paper 3.2.3)
//   cross_dedup_segments_per_mib = 4 # a new segment's blocks found in other images' segments
//                                   # are referenced there, read after from at most this many
//                                   # segments per MiB; 0: off (the paper's RevDedup)
//   image_gb = 64                   # the largest image (a commit holds its recipes in memory)
//   unreferenced_ttl_s = 3600       # gc keeps an unreferenced segment this long (an upload
//                                   # may be under way)
//   verify_reads = true             # re-hash every block a read returns
//   connections_max = 64            # open HTTP connections
//   users_file = "dedup.htpasswd"   # users (bcrypt); then every request needs credentials
//   private_repos = false           # a user's images are "<user>" and "<user>.*" only
//   append_only = ["nightly"]       # users who may not remove versions nor run gc
//   admins = ["ops"]                # users who see every image under private_repos
//   tls_cert_file, tls_key_file     # HTTPS (components/access/service_access.h)
//   insecure = false                # serve in the clear on a non-loopback address
//
// Errors name the file, the line and the key.

#include <toml++/toml.h>

#include <cstdint>
#include <string_view>

#include "components/access/service_access.h"
#include "components/dedup/access_policy.h"
#include "components/dedup/store/options.h"
#include "runtime/result.h"

namespace doppel::dedup {

struct DedupSettings {
  StoreOptions store;  // store.planted_bug: test-only, never read from a node config
  std::uint32_t segment_bytes = kSegmentBytesDefault;  // what clients are told to cut at
  std::uint32_t connections_max = 64;
  access::ServiceAccess access;
  AccessPolicy policy;

  DedupSettings() { store.segment_bytes_max = segment_bytes; }
  // From a [dedup] table; `source` names the file in errors; `files` reads the users file.
  static Result<DedupSettings> read(const toml::table& table, std::string_view source,
                                    const FileReader& files = {});
  Status check() const { return check_store_options(store); }
};

// The planted bug of that name (scenarios' `bug` key).
Result<PlantedBug> dedup_planted_bug(std::string_view name);

// The largest encoded manifest of an image of image_bytes_max cut into segments of
// segment_bytes: the HTTP body limit must admit it.
std::uint64_t manifest_bytes_max(const DedupSettings& settings);

}  // namespace doppel::dedup
