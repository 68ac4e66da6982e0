// The backup server's routes (see http_api.h): segments, commits, listings, admin.
// Reads of versions are in http_api_read.cc.

#include "components/dedup/api/http_api.h"

#include <algorithm>

#include "components/dedup/api/borrowing_wire.h"
#include "components/dedup/api/http_api_internal.h"
#include "components/dedup/api/wire.h"
#include "components/dedup/dedup.h"
#include "components/http/scrape.h"
#include "runtime/future.h"

namespace doppel::dedup {

using http::Request;
using http::Response;

int status_of(Errc code) {
  switch (code) {
    case Errc::invalid_argument:
      return 400;
    case Errc::not_found:
      return 404;
    case Errc::too_large:
      return 413;
    case Errc::no_space:
      return 507;
    case Errc::cancelled:
      return 503;
    default:
      return 500;  // corrupt, io_error and the other disk errors
  }
}

Response error_of(const Error& e, int status) {
  return Response::error(status != 0 ? status : status_of(e.code), e.message());
}

Response json_response(int status, std::string body) {
  Response out = Response::text(status, std::move(body));
  out.headers.set("Content-Type", "application/json");
  return out;
}

Status check_image_name(std::string_view image) {
  if (valid_image_name(image)) return {};
  return make_error(Errc::invalid_argument, "image name '" +
                                                std::string(image.substr(0, kImageNameBytesMax)) +
                                                "': 1 to " + std::to_string(kImageNameBytesMax) +
                                                " of A-Z a-z 0-9 . _ -, not starting with '.'");
}

DedupApi::DedupApi(metrics::EventCountingRuntime& rt, Store& store, const DedupSettings& config)
    : rt_(rt), store_(store), config_(config) {
  routes();
}

Result<Response> DedupApi::on_core0(Request& request, Method fn) {
  // The store lives on core 0; requests accepted elsewhere go there.
  if (rt_.this_core() == 0) return (this->*fn)(request);
  auto got = run_on(rt_, 0, [this, &request, fn] { return (this->*fn)(request); }).get();
  if (!got) return Response::error(503, "the node is stopping");
  return std::move(*got);
}

// Where an upload is hashed: the connection's core, unless that is the store's (core 0) and
// another exists.
CoreId DedupApi::hash_core() const {
  const CoreId here = rt_.this_core();
  return here != 0 || rt_.core_count() == 1 ? here : 1;
}

template <class F>
auto DedupApi::on_core(CoreId core, F fn) -> std::optional<std::invoke_result_t<F&>> {
  if (rt_.this_core() == core) return fn();
  return run_on(rt_, core, std::move(fn)).get();
}

std::optional<Response> DedupApi::refused(const Request& r, Need need) const {
  const AccessPolicy& p = config_.policy;
  std::string why;
  switch (need) {
    case Need::nothing:
      break;
    case Need::use_image:
      why = p.may_use(r.user, r.param("name"));
      break;
    case Need::remove:
      // Planted: only the image's owner is checked, not the role.
      why = store_.options().planted_bug == PlantedBug::append_only_removes
                ? p.may_use(r.user, r.param("name"))
                : p.may_remove(r.user, r.param("name"));
      break;
    case Need::collect:
      why = p.may_collect(r.user);
      break;
  }
  if (why.empty()) return std::nullopt;
  return Response::error(403, why);
}

void DedupApi::routes() {
  // The gate (start()) said who asks; the policy says whether they may, before core 0 is asked.
  auto bind = [this](Method fn, Need need = Need::nothing) {
    return [this, fn, need](Request& r) -> Result<Response> {
      if (auto no = refused(r, need)) return std::move(*no);
      return on_core0(r, fn);
    };
  };
  router_.add("GET", "/info", bind(&DedupApi::info));
  router_.add("POST", "/segments/query", bind(&DedupApi::query_segments));
  // Not bound to core 0 as a whole: they hash elsewhere first (see put_segment).
  router_.add("PUT", "/segments/{fp}", [this](Request& r) { return put_segment(r); });
  router_.add("POST", "/images/{name}/borrowing", bind(&DedupApi::plan_borrowing, Need::use_image));
  router_.add("PUT", "/segments/{fp}/borrowing", [this](Request& r) { return put_borrowing(r); });
  router_.add("POST", "/images/{name}/versions", bind(&DedupApi::commit, Need::use_image));
  router_.add("GET", "/images", bind(&DedupApi::list_images));
  router_.add("GET", "/images/{name}", bind(&DedupApi::list_versions, Need::use_image));
  router_.add("GET", "/images/{name}/versions/{v}", bind(&DedupApi::get_version, Need::use_image));
  router_.add("GET", "/images/{name}/versions/{v}/layout",
              bind(&DedupApi::get_layout, Need::use_image));
  router_.add("DELETE", "/images/{name}/versions/{v}",
              bind(&DedupApi::delete_version, Need::remove));
  router_.add("POST", "/admin/verify", bind(&DedupApi::verify));
  router_.add("POST", "/admin/gc", bind(&DedupApi::gc, Need::collect));
  router_.add("GET", "/stats", bind(&DedupApi::stats));
  router_.add("POST", "/admin/check", bind(&DedupApi::check));
  router_.add("GET", "/metrics", [this](Request& r) { return metrics(r); });
}

Status DedupApi::start(const Endpoint& at) {
  http::ServerOptions options;
  // The server reads bodies whole: the largest is a segment or a manifest.
  options.limits.body_bytes_max = std::max<std::uint64_t>(
      borrowing_upload_bytes_max(config_.store.segment_bytes_max), manifest_bytes_max(config_));
  options.limits.chunk_bytes_max =
      std::max<std::uint64_t>(options.limits.chunk_bytes_max, config_.store.segment_bytes_max);
  options.connections_max = config_.connections_max;
  options.tls = config_.access.tls;
  gate_ = std::make_unique<access::Gate>(rt_, config_.access.users, "doppel-dedup");
  server_ = std::make_unique<http::HttpServer>(rt_, at, gate_->guard(router_.handler()), options);
  return server_->start();
}

void DedupApi::stop() {
  if (server_) server_->stop();
}

Endpoint DedupApi::local() const {
  return server_->local();
}

Result<Response> DedupApi::info(Request&) {
  const ServerInfo info{store_.options().hash, config_.segment_bytes,
                        config_.store.segment_bytes_max, config_.store.image_bytes_max,
                        kQueryFingerprintsMax};
  return json_response(200, info_to_json(info));
}

Result<Response> DedupApi::query_segments(Request& r) {
  auto fps = decode_fingerprint_lines(r.body, store_.options().hash, kQueryFingerprintsMax);
  if (!fps) return error_of(fps.error());
  auto present = store_.has_segments(*fps);
  if (!present) return error_of(present.error());
  return Response::text(200, encode_presence(*present));
}

// Runs on the connection's core. Hashing the bytes is most of a put's CPU and touches nothing
// shared, so it is done on a core other than the store's when there is one: core 0 then writes
// and syncs one segment while the next is hashed, and its blocking syncs do not hold up the
// hashing. The store's part runs on core 0.
Result<Response> DedupApi::put_segment(Request& r) {
  auto fp = Fingerprint::from_hex(store_.options().hash, r.param("fp"));
  if (!fp)
    return error_of(make_error(Errc::invalid_argument, "segment fingerprint: " + fp.error().what));
  if (r.body.empty()) return error_of(make_error(Errc::invalid_argument, "an empty segment"));
  if (Status s = store_.check_segment(*fp, r.body.size()); !s) return error_of(s.error());
  std::optional<SegmentManifest> hashed =
      on_core(hash_core(), [kind = fp->kind, &r] { return segment_manifest_of(kind, r.body); });
  if (!hashed) return Response::error(503, "the node is stopping");
  auto stored =
      on_core(0, [this, &fp, &r, &hashed] { return store_.put_segment(*fp, r.body, *hashed); });
  if (!stored) return Response::error(503, "the node is stopping");
  // After the checks above, invalid_argument from the store means the bytes hash elsewhere.
  if (!*stored)
    return error_of(stored->error(), stored->code() == Errc::invalid_argument ? 422 : 0);
  return Response::text(**stored ? 201 : 200, **stored ? "stored\n" : "already stored\n");
}

// Upload avoidance (cross_dedup.h): which blocks of a segment about to be uploaded the store
// holds elsewhere.
Result<Response> DedupApi::plan_borrowing(Request& r) {
  const std::string image(r.param("name"));
  if (Status s = check_image_name(image); !s) return error_of(s.error());
  const ManifestLimits limits{config_.store.segment_bytes_max, config_.store.image_bytes_max};
  auto segment = decode_segment_manifest(r.body, store_.options().hash, limits);
  if (!segment) return error_of(segment.error());
  auto lenders = store_.plan_borrowing(image, *segment);
  if (!lenders) return error_of(lenders.error());
  return Response::text(200, encode_lenders(*lenders));
}

// A segment without the blocks it borrows: the blocks sent are hashed off core 0, as a whole
// segment is (put_segment).
Result<Response> DedupApi::put_borrowing(Request& r) {
  auto fp = Fingerprint::from_hex(store_.options().hash, r.param("fp"));
  if (!fp)
    return error_of(make_error(Errc::invalid_argument, "segment fingerprint: " + fp.error().what));
  const ManifestLimits limits{config_.store.segment_bytes_max, config_.store.image_bytes_max};
  auto up = decode_borrowing_upload(r.body, store_.options().hash, limits);
  if (!up) return error_of(up.error());
  if (up->segment.fp != *fp) {
    return error_of(make_error(Errc::invalid_argument,
                               "the manifest is of segment " + up->segment.fp.short_hex()));
  }
  auto checked = on_core(hash_core(), [this, &up] {
    return store_.check_borrowing(up->segment, up->lenders, up->data);
  });
  if (!checked) return Response::error(503, "the node is stopping");
  if (!*checked) {
    return error_of(checked->error(), checked->code() == Errc::invalid_argument ? 422 : 0);
  }
  auto stored = on_core(0, [this, &up, &checked] {
    return store_.put_borrowing(up->segment, up->lenders, up->data, **checked);
  });
  if (!stored) return Response::error(503, "the node is stopping");
  if (!*stored) {
    return error_of(stored->error(), stored->code() == Errc::invalid_argument ? 422 : 0);
  }
  return Response::text(**stored ? 201 : 200, **stored ? "stored\n" : "already stored\n");
}

Result<Response> DedupApi::commit(Request& r) {
  const std::string image(r.param("name"));
  if (Status s = check_image_name(image); !s) return error_of(s.error());
  const ManifestLimits limits{config_.store.segment_bytes_max, config_.store.image_bytes_max};
  auto manifest = decode_manifest(r.body, limits);
  if (!manifest) {
    return error_of(make_error(Errc::invalid_argument, "manifest: " + manifest.error().message()),
                    manifest.code() == Errc::too_large ? 413 : 400);
  }
  if (manifest->kind != store_.options().hash) {
    return error_of(make_error(
        Errc::invalid_argument,
        "manifest: fingerprints are " + std::string(hash_kind_name(manifest->kind)) +
            "; this server's are " + std::string(hash_kind_name(store_.options().hash))));
  }
  auto done = store_.commit(image, *manifest);
  if (!done) {
    const Errc code = done.code();
    return error_of(done.error(), code == Errc::not_found          ? 409
                                  : code == Errc::invalid_argument ? 422
                                                                   : 0);
  }
  Response out = json_response(201, commit_to_json(image, *done));
  out.headers.set("Location", "/images/" + image + "/versions/" + std::to_string(done->version));
  out.after_sent = [this] { empty_trash(); };
  return out;
}

Result<Response> DedupApi::list_images(Request& r) {
  auto images = store_.list_images();
  if (!images) return error_of(images.error());
  std::vector<ImageSummary> out;
  for (const ImageInfo& image : *images) {
    if (!config_.policy.may_use(r.user, image.name).empty()) continue;  // another's, private
    auto versions = store_.list_versions(image.name);
    if (!versions) continue;  // removed meanwhile
    ImageSummary s{image.name, image.versions, image.oldest, image.latest, 0, 0};
    for (const VersionInfo& v : *versions) s.logical_bytes += v.image_bytes;
    s.latest_bytes = versions->empty() ? 0 : versions->back().image_bytes;
    if (store_.options().planted_bug == PlantedBug::summary_takes_oldest && !versions->empty())
      s.latest_bytes = versions->front().image_bytes;
    out.push_back(std::move(s));
  }
  return json_response(200, images_to_json(out));
}

Result<Response> DedupApi::list_versions(Request& r) {
  const std::string image(r.param("name"));
  if (Status s = check_image_name(image); !s) return error_of(s.error());
  auto versions = store_.list_versions(image);
  if (!versions) return error_of(versions.error());
  return json_response(200, versions_to_json(image, *versions));
}

Result<Response> DedupApi::get_layout(Request& r) {
  auto t = target(r, true);
  if (!t) return error_of(t.error());
  auto layout = store_.restore_layout(t->image, t->version);
  if (!layout) return error_of(layout.error());
  return json_response(200, layout_to_json(t->image, t->version, *layout));
}

Result<Response> DedupApi::delete_version(Request& r) {
  auto t = target(r, false);
  if (!t) return error_of(t.error());
  auto removed = store_.remove_version(t->image, t->version);
  if (!removed) return error_of(removed.error());
  Response out = json_response(200, remove_to_json(t->image, t->version, *removed));
  out.after_sent = [this] { empty_trash(); };
  return out;
}

// After a commit or a removal has answered: unlink what it threw away (Store::empty_trash). A
// failure is recorded there; the next emptying tries again.
void DedupApi::empty_trash() {
  (void)store_.empty_trash();
}

Result<Response> DedupApi::verify(Request&) {
  auto report = store_.verify();
  const std::string_view outcome = !report ? "not_run" : report->clean() ? "clean" : "damaged";
  metrics_.add("doppel_dedup_verify_total", "Verify runs (POST /admin/verify), by outcome.", 1,
               {{"outcome", outcome}});
  if (report) {
    metrics_.add("doppel_dedup_verify_damage_total", "Damage verify runs found (ranges, files).",
                 static_cast<double>(report->damage_count + report->problems.size()));
  }
  if (!report) return error_of(report.error(), 503);
  Response out = json_response(report->clean() ? 200 : 500, verify_to_json(*report));
  out.headers.set("X-Doppel-Damage",
                  std::to_string(report->damage_count + report->problems.size()));
  return out;
}

Result<Response> DedupApi::gc(Request&) {
  auto report = store_.gc();
  if (!report) return error_of(report.error());
  return json_response(200, gc_to_json(*report));
}

Result<Response> DedupApi::check(Request&) {
  if (Status s = store_.check(); !s) return error_of(s.error());
  return json_response(200, "{\"consistent\":true}");
}

Result<Response> DedupApi::stats(Request&) {
  return json_response(200, stats_to_json(store_.stats()));
}

Result<Response> DedupApi::metrics(Request&) {
  auto store = on_core(0, [this] { return store_metrics(); });
  if (!store) return Response::error(503, "the node is stopping");
  store->merge(rt_.metrics());
  return http::scrape(*server_, std::move(*store));
}

Result<std::unique_ptr<Service>> boot(Runtime& base_rt, const NodeConfig& node,
                                      const DedupSettings& settings) {
  if (Status s = settings.check(); !s) return s.error();
  const DedupSettings* config = &settings;
  auto counted = std::make_unique<metrics::EventCountingRuntime>(base_rt);
  Runtime& rt = *counted;
  auto store = Store::boot(rt, rt.fs(), config->store);
  if (!store) return make_error(store.code(), "the store: " + store.error().message());
  auto api = std::make_unique<DedupApi>(*counted, **store, *config);
  if (Status s = api->start(node.listen); !s) {
    return make_error(s.code(),
                      "listen on " + node.listen.to_string() + ": " + s.error().message());
  }
  rt.record(Event("DedupServing")
                .detail("listen", node.listen.to_string())
                .detail("hash", hash_kind_name(config->store.hash))
                .detail("segment_bytes", config->segment_bytes));
  return std::unique_ptr<Service>(
      new DedupService(std::move(counted), std::move(*store), std::move(api)));
}

}  // namespace doppel::dedup
