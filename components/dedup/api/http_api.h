#pragma once
// The backup server's HTTP API over the RevDedup store (store/store.h). A client cuts an image
// (client/image_cutter.h), asks which segments the server has, uploads the others, and commits
// the version's manifest; reads stream any range of any version.
//
//   GET    /info                          200 JSON: hash, segment_bytes (to cut at),
//                                         segment_bytes_max, block_bytes, image_bytes_max,
//                                         query_fingerprints_max
//   POST   /segments/query                body: one hex fingerprint per line (wire.h)
//                                         200: one '1' (stored) or '0' per line, in order;
//                                         400 a malformed line (named); 413 too many
//   PUT    /segments/{fp}                 body: the segment's bytes. 201 stored, 200 already
//                                         stored; 400 a malformed fingerprint; 413 over
//                                         segment_bytes_max; 422 the bytes do not hash to fp
//                                         (the hash of the blocks' digests, fingerprint.h)
//   POST   /images/{name}/versions        body: encode_manifest(...). 201 JSON {"image",
//                                         "version", ...what reverse dedup did}, Location;
//                                         400 a bad name or manifest; 409 a segment is not
//                                         stored (named); 422 the manifest disagrees with
//                                         the stored segments; 507 a store limit
//   GET    /images                        200 JSON {"images":[{name, versions, oldest,
//                                         latest, latest_bytes, logical_bytes}]}
//   GET    /images/{name}                 200 JSON {"name", "versions":[{version, bytes,
//                                         null_bytes, direct_bytes, indirect_bytes}]}; 404
//   GET    /images/{name}/versions/{v}    the version's bytes, streamed (HEAD: the head only);
//                                         v a number or "latest". One "Range: bytes=" range:
//                                         206 with Content-Range; 416 past the end. Headers:
//                                         X-Doppel-Version (the number), ETag, Accept-Ranges.
//                                         404 unknown image or version; 500 damaged data (a
//                                         stream already under way is cut short instead)
//   GET    /images/{name}/versions/{v}/layout
//                                         v a number or "latest". 200 JSON {image, version,
//                                         image_bytes, data_bytes, segments, runs, chain}: how
//                                         fragmented its restore is (Store::restore_layout)
//   DELETE /images/{name}/versions/{v}    v a number. 200 JSON {image, version, bytes_freed,
//                                         blocks_removed, entries_repointed}; 404
//   POST   /admin/verify                  re-hash everything: 200 JSON report when clean,
//                                         500 with the same JSON report ("clean": false,
//                                         "problems", "damage") when damage was found; 503
//                                         text when verify could not run
//   POST   /admin/gc                      200 JSON {segments_dropped, bytes_freed}
//   GET    /stats                         200 JSON: the space accounting (StoreStats)
//   GET    /metrics                       Prometheus's text format: HTTP requests, the space
//                                         accounting, dedup counters, verify outcomes, events
//   POST   /admin/check                   every invariant of the store (Store::check: reference
//                                         counts equal the direct references, chains end in
//                                         stored blocks, the accounting balances): 200 JSON
//                                         {"consistent":true}; 500 naming the first violation
//
// With users (settings.h) every route needs HTTP Basic credentials: 401 without or with wrong
// ones; 403 where the user's role or private images forbid (access_policy.h).
//
// Errors are text/plain, one line: "<errc>: <what>". A store that found its metadata damaged at
// boot is read-only: uploads, commits, removals and gc answer 500 naming the damage; reads of
// undamaged versions go on.
//
// The store lives on core 0: requests accepted on other cores run there (run_on), and so does
// each piece a streamed read takes from the store.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "components/access/gate.h"
#include "components/dedup/settings.h"
#include "components/dedup/store/store.h"
#include "components/http/router.h"
#include "components/http/server.h"
#include "components/metrics/event_counter.h"
#include "runtime/node.h"

namespace doppel::dedup {

class DedupApi {
 public:
  // Fingerprints per POST /segments/query (a 4 MiB body in sha256 hex).
  static constexpr std::uint32_t kQueryFingerprintsMax = 1u << 16;
  // A streamed read takes the store's lock for at most this many bytes at a time.
  static constexpr std::size_t kReadPieceBytes = 1u << 20;

  // `rt` counts the node's events for /metrics.
  DedupApi(metrics::EventCountingRuntime& rt, Store& store, const DedupSettings& config);
  Status start(const Endpoint& at);
  void stop();
  Endpoint local() const;

 private:
  using Method = Result<http::Response> (DedupApi::*)(http::Request&);
  // What a route asks of the policy (settings.h's AccessPolicy).
  enum class Need { nothing, use_image, remove, collect };
  // The 403 when the request's user may not do what the route needs.
  std::optional<http::Response> refused(const http::Request& r, Need need) const;
  struct Target;
  struct Read;

  void routes();
  Result<http::Response> on_core0(http::Request& request, Method fn);
  // fn() on `core` (directly if it is this one); nullopt if the node is stopping.
  template <class F>
  auto on_core(CoreId core, F fn) -> std::optional<std::invoke_result_t<F&>>;
  CoreId hash_core() const;
  Result<http::Response> info(http::Request& r);
  Result<http::Response> query_segments(http::Request& r);
  Result<http::Response> put_segment(http::Request& r);
  Result<http::Response> plan_borrowing(http::Request& r);
  Result<http::Response> put_borrowing(http::Request& r);
  Result<http::Response> commit(http::Request& r);
  Result<http::Response> list_images(http::Request& r);
  Result<http::Response> list_versions(http::Request& r);
  Result<http::Response> get_version(http::Request& r);
  Result<http::Response> get_layout(http::Request& r);
  Result<http::Response> delete_version(http::Request& r);
  Result<http::Response> verify(http::Request& r);
  Result<http::Response> gc(http::Request& r);
  Result<http::Response> stats(http::Request& r);
  Result<http::Response> check(http::Request& r);
  Result<http::Response> metrics(http::Request& r);
  metrics::MetricSet store_metrics() const;  // on core 0

  Result<Target> target(const http::Request& r, bool latest_allowed);
  void empty_trash();
  // One piece of a version from the store, on core 0 whichever core asks.
  // `bytes` from read.offset; `later`: not the download's first piece.
  Result<std::string> read_piece(const Read& read, std::size_t bytes, bool later);
  Status stream(const std::shared_ptr<Read>& read, http::BodySink& sink);

  metrics::EventCountingRuntime& rt_;
  Store& store_;
  DedupSettings config_;
  metrics::MetricSet metrics_;  // on core 0
  http::Router router_;
  std::unique_ptr<access::Gate> gate_;
  std::unique_ptr<http::HttpServer> server_;
};

// A node of the backup server: the store and its HTTP API. What `doppel serve` boots.
class DedupService final : public Service {
 public:
  DedupService(std::unique_ptr<metrics::EventCountingRuntime> rt, std::unique_ptr<Store> store,
               std::unique_ptr<DedupApi> api)
      : rt_(std::move(rt)), store_(std::move(store)), api_(std::move(api)) {}
  // Stops the API (requests in flight finish or are cut off); the store keeps nothing
  // unsynced, so it needs no stop of its own.
  void stop() override { api_->stop(); }
  Store& store() { return *store_; }
  DedupApi& api() { return *api_; }

 private:
  std::unique_ptr<metrics::EventCountingRuntime> rt_;  // destroyed last: the others run on it
  std::unique_ptr<Store> store_;                       // destroyed after the API that uses it
  std::unique_ptr<DedupApi> api_;
};

// Parses [dedup] (config.h), boots the store in the node's FileSystem (recovering first) and
// serves the API on config.listen.

}  // namespace doppel::dedup
