#include "scenarios/dedup/dedup_workload.h"

#include "base/toml.h"
#include "components/dedup/store/options.h"
#include "runtime/assert.h"

namespace doppel::scenarios {

DedupWorkload DedupWorkload::for_seed(std::uint64_t seed) const {
  DedupWorkload w = *this;
  // splitmix64's finalizer: the seed's own random stream is left alone.
  std::uint64_t z = seed + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  if (w.hash == "swarm") w.hash = (z & 1) != 0 ? "sha1" : "sha256";
  if (w.series == "swarm") w.series = (z >> 1 & 1) != 0 ? "fleet" : "versions";
  if (w.cross_dedup_segments_per_mib < 0) {
    constexpr std::int64_t kBudgets[] = {0, 1, 4, 16};
    w.cross_dedup_segments_per_mib = kBudgets[z >> 2 & 3];
  }
  return w;
}

dedup::HashKind DedupWorkload::hash_kind() const {
  const auto kind = dedup::parse_hash_kind(hash);
  DOPPEL_ASSERT_MSG(kind.has_value(), "the workload's hash is not settled (for_seed)");
  return *kind;
}

std::string DedupWorkload::node_config() const {
  // Unreferenced segments expire after 2 s, so gc within a run has something to collect.
  return "segment_mb = " + std::to_string(segment_mb) +
         "\nrebuild_threshold_percent = " + std::to_string(rebuild_threshold_percent) +
         "\nimage_gb = 1\nunreferenced_ttl_s = 2\nhash = \"" +
         std::string(dedup::hash_kind_name(hash_kind())) +
         "\"\ncross_dedup_segments_per_mib = " + std::to_string(cross_dedup_segments_per_mib) +
         "\n";
}

Result<DedupWorkload> read_dedup_workload(const toml::table& t, std::string_view source) {
  DedupWorkload w;
  TomlFields f(t, source);
  w.images = f.integer("images", 1, 16, w.images);
  w.versions = f.integer("versions", 1, 64, w.versions);
  w.image_kb = f.integer("image_kb", 4, 64 * 1024, w.image_kb);
  w.segment_mb = f.integer("segment_mb", 1, 32, w.segment_mb);
  w.edit_permille = f.integer("edit_permille", 0, 1000, w.edit_permille);
  w.read_percent = f.integer("read_percent", 0, 100, w.read_percent);
  w.remove_percent = f.integer("remove_percent", 0, 100, w.remove_percent);
  w.gc_percent = f.integer("gc_percent", 0, 100, w.gc_percent);
  w.rebuild_threshold_percent =
      f.integer("rebuild_threshold_percent", 1, 100, w.rebuild_threshold_percent);
  w.timeout_ms = f.integer("timeout_ms", 10, 600000, w.timeout_ms);
  w.pause_ms = f.integer("pause_ms", 0, 600000, w.pause_ms);
  w.liveness_ms = f.integer("liveness_ms", 1000, 3600000, w.liveness_ms);
  w.racers = f.integer("racers", 0, 4, w.racers);
  w.race_read = f.integer("race_read", 0, 100, w.race_read);
  w.race_put = f.integer("race_put", 0, 100, w.race_put);
  w.race_gc = f.integer("race_gc", 0, 100, w.race_gc);
  w.race_verify = f.integer("race_verify", 0, 100, w.race_verify);
  w.intrude_ms = f.integer("intrude_ms", 1, 600000, w.intrude_ms);
  w.hash = f.choice("hash", {"sha256", "sha1", "swarm"}, w.hash);
  w.series = f.choice("series", {"versions", "fleet", "swarm"}, w.series);
  w.cross_dedup_segments_per_mib =
      f.integer("cross_dedup_segments_per_mib", -1, dedup::kCrossDedupSegmentsPerMibMax, -1);
  f.reject_unknown_keys();
  if (f.ok() && w.image_kb % 4 != 0) f.fail("image_kb", "expected a multiple of 4");
  if (!f.ok()) return f.error();
  return w;
}

properties::dedup::ImageSeriesOptions dedup_series_options(const DedupWorkload& w,
                                                           std::uint64_t seed) {
  DOPPEL_ASSERT_MSG(w.series != "swarm", "the workload's series is not settled (for_seed)");
  const auto images = static_cast<std::uint32_t>(w.images);
  const auto versions = static_cast<std::uint32_t>(w.versions);
  const std::uint64_t bytes = static_cast<std::uint64_t>(w.image_kb) << 10;
  if (w.series == "fleet") {
    properties::dedup::ImageSeriesOptions o =
        properties::dedup::fleet_series(seed, images, versions, bytes);
    o.edit_permille = static_cast<std::uint32_t>(w.edit_permille);
    o.zeroed_permille = 10;
    return o;
  }
  properties::dedup::ImageSeriesOptions o;
  o.seed = seed;
  o.images = images;
  o.versions = versions;
  o.image_bytes = bytes;
  o.edit_permille = static_cast<std::uint32_t>(w.edit_permille);
  o.append_permille = 20;
  o.move_permille = 30;
  return o;
}

}  // namespace doppel::scenarios
