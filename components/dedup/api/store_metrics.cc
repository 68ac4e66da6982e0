// The backup server's GET /metrics: the store's space accounting and counters (StoreStats), as
// Prometheus reads them. The HTTP server's and the events' parts are merged in by the route.

#include "components/dedup/api/http_api.h"

namespace doppel::dedup {

metrics::MetricSet DedupApi::store_metrics() const {
  metrics::MetricSet m = metrics_;
  const StoreStats s = store_.stats();
  auto gauge = [&m](std::string_view name, std::string_view help, std::uint64_t v) {
    m.set(name, help, static_cast<double>(v));
  };
  auto counter = [&m](std::string_view name, std::string_view help, std::uint64_t v) {
    m.add(name, help, static_cast<double>(v));
  };
  gauge("doppel_dedup_images", "Images with at least one version.", s.images);
  gauge("doppel_dedup_versions", "Versions of all images.", s.versions);
  gauge("doppel_dedup_segments", "Segments stored.", s.segments);
  // What versions hold: logical = null + direct + indirect.
  m.set("doppel_dedup_logical_bytes", "Bytes of all versions, by how they are held.",
        static_cast<double>(s.null_bytes), {{"kind", "null"}});
  m.set("doppel_dedup_logical_bytes", "", static_cast<double>(s.direct_bytes),
        {{"kind", "direct"}});
  m.set("doppel_dedup_logical_bytes", "", static_cast<double>(s.indirect_bytes),
        {{"kind", "indirect"}});
  // What segments hold: segment data = stored + punched + compacted.
  gauge("doppel_dedup_segment_data_bytes", "Non-null bytes of all segments as uploaded.",
        s.segment_data_bytes);
  gauge("doppel_dedup_stored_bytes", "Segment bytes on disk now.", s.stored_bytes);
  gauge("doppel_dedup_punched_bytes", "Segment bytes freed by punching holes.", s.punched_bytes);
  gauge("doppel_dedup_compacted_bytes", "Segment bytes freed by compaction.", s.compacted_bytes);
  gauge("doppel_dedup_unreferenced_bytes", "Bytes in segments no version uses (gc frees them).",
        s.unreferenced_bytes);
  const std::uint64_t data = s.logical_bytes - s.null_bytes;
  m.set("doppel_dedup_saved_ratio",
        "1 - stored bytes / non-null bytes of all versions: the share dedup saved.",
        data == 0 ? 0.0 : 1.0 - static_cast<double>(s.stored_bytes) / static_cast<double>(data));
  counter("doppel_dedup_blocks_reverse_deduped_total",
          "Blocks of a previous version replaced by references to the new one (since boot).",
          s.blocks_reverse_deduped);
  counter("doppel_dedup_blocks_cross_deduped_total",
          "Blocks of new segments found in other segments and referenced there (since boot).",
          s.blocks_cross_deduped);
  m.set("doppel_dedup_commit_saved_bytes",
        "What dedup saved when the versions there are now were committed, by kind.",
        static_cast<double>(s.segment_deduped_bytes), {{"kind", "segment"}});
  m.set("doppel_dedup_commit_saved_bytes", "", static_cast<double>(s.cross_deduped_bytes),
        {{"kind", "cross_image"}});
  gauge("doppel_dedup_hook_index_entries",
        "Entries of the hook index cross-image dedup looks new segments up in.", s.hook_entries);
  counter("doppel_dedup_blocks_punched_total", "Blocks punched out of segments (since boot).",
          s.blocks_punched);
  counter("doppel_dedup_segments_compacted_total", "Segments compacted (since boot).",
          s.segments_compacted);
  counter("doppel_dedup_segments_dropped_total", "Segments dropped by gc (since boot).",
          s.segments_dropped);
  counter("doppel_dedup_intents_replayed_total", "Intents replayed at boot.", s.intents_replayed);
  return m;
}

}  // namespace doppel::dedup
