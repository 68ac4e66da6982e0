#pragma once
// The dedup scenarios' workload ([workload] of scenarios/dedup-*.toml): the
// VM-image version series the clients back up, what they do after each
// backup, how hard racers press on the images meanwhile, and the server's
// store settings the scenario varies.

#include <toml++/toml.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "components/dedup/hash/fingerprint.h"
#include "properties/dedup/image_series.h"
#include "runtime/result.h"

namespace doppel::scenarios {

struct DedupWorkload {
  std::int64_t images = 2;
  std::int64_t versions = 4;
  std::int64_t image_kb = 3072;
  std::int64_t segment_mb = 1;
  std::int64_t edit_permille = 60;
  std::int64_t read_percent = 50;    // after a put: read a random live version back
  std::int64_t remove_percent = 30;  // after a put: remove a random version (not the newest)
  std::int64_t gc_percent = 20;      // after a put: collect garbage
  std::int64_t pause_ms = 2000;      // between backups, uniform in [0, 2 x pause_ms]
  std::int64_t rebuild_threshold_percent = 20;
  std::int64_t timeout_ms = 5000;
  std::int64_t liveness_ms = 60000;  // after the heal, each put succeeds within this
  // Racers: per image, fibers that race the image's backups with reads of live versions (a
  // restore while the next commit compacts its segments), puts of the same image, gc and
  // verify, in these weights.
  std::int64_t racers = 1;
  std::int64_t race_read = 50, race_put = 15, race_gc = 15, race_verify = 20;
  // The intruder (intruder.h): a request the server must refuse every [0, 2 x intrude_ms].
  std::int64_t intrude_ms = 1500;
  // The fingerprint hash the node and its clients use: "sha256", "sha1" (the paper's), or
  // "swarm": each seed picks one (for_seed()).
  std::string hash = "swarm";
  // The shape of the series: "versions" (edits in runs of up to 64 blocks, the paper's kind),
  // "fleet" (clones diverging by short scattered runs, image_series.h's fleet_series), or
  // "swarm": each seed picks one.
  std::string series = "swarm";
  // The node's cross_dedup_segments_per_mib (components/dedup/settings.h); -1: each seed picks
  // 0 (off, the paper's RevDedup), 1, 4 or 16.
  std::int64_t cross_dedup_segments_per_mib = -1;

  // The workload as a run of `seed` has it: "swarm" (and -1) settled by the seed alone, so a
  // seed's other choices stay what they were.
  DedupWorkload for_seed(std::uint64_t seed) const;
  // The node config's [dedup] table that boots the scenario's node (node_settings.h); `hash`
  // settled.
  std::string node_config() const;
  dedup::HashKind hash_kind() const;  // `hash` settled
};

Result<DedupWorkload> read_dedup_workload(const toml::table& t, std::string_view source);

// The series the clients back up: its images, versions and edits come from `w`, its bytes from
// `seed`.
properties::dedup::ImageSeriesOptions dedup_series_options(const DedupWorkload& w,
                                                           std::uint64_t seed);

}  // namespace doppel::scenarios
