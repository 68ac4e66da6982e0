#include "scenarios/dedup/final_checks.h"

#include <set>

#include "properties/dedup/listing_accuracy.h"
#include "sim/disk.h"

namespace doppel::scenarios {
namespace {

constexpr const char* kSegmentFiles = "dedup/segments/";
constexpr std::size_t kStoreDirsMax = 1024;  // directories walked for the reference-count oracle
constexpr int kAttemptsMax = 400;  // per final check (the puts are bounded by liveness_ms)

}  // namespace

using dedup::VersionNumber;

// Retries `op` while the server gives no answer (a transport error) or is unavailable (503);
// an answer, refusals included, is final. A `read` is tried a few times whatever the error (a
// bit flip in what the disk returned cuts it short once, damage every time).
template <typename Op>
auto DedupFinalChecks::retried(dedup::DedupClient& client, Op op, bool read) -> decltype(op()) {
  auto r = op();
  for (int attempt = 0; !r && attempt < (read ? 4 : kAttemptsMax / 4); ++attempt) {
    if (!read && client.last_status() != 0 && client.last_status() != 503) break;
    clients_.backoff(attempt);
    r = op();
  }
  return r;
}

// The disk damaged stored data (disk_corrupt) and the store says so: an
// answer the store may give instead of the data, never wrong bytes.
bool DedupFinalChecks::damage_reported(const Error& e) const {
  return damage_.any && e.code == Errc::corrupt;
}

// Every listed version is one a client committed and restores byte-identical; every
// acknowledged version not removed is listed. False if a property failed or the server
// never answered. Once the disk damaged stored data (disk_corrupt), a version may fail to
// read instead (a refusal, or an answer cut short once the damage shows mid-stream: never
// wrong bytes), provided verify then names damage in it (damage_explains_failed_reads).
bool DedupFinalChecks::all_restorable(dedup::DedupClient& client, std::string_view property,
                                      bool allow_damage) {
  matched_sizes_.assign(series_.options().images, {});
  for (std::uint32_t image = 0; image < series_.options().images; ++image) {
    auto listed = retried(client, [&] { return client.list_versions(clients_.name(image)); });
    if (!listed && listed.code() == Errc::not_found) listed = std::vector<dedup::VersionInfo>{};
    if (!listed && allow_damage && damage_reported(listed.error())) {
      ++damage_answers_;
      continue;
    }
    if (!listed) {
      world_.fail("progress", "listing " + clients_.name(image) + ": " + listed.error().message());
      return false;
    }
    std::set<VersionNumber> present;
    for (const dedup::VersionInfo& info : *listed) {
      present.insert(info.version);
      const std::vector<std::uint32_t> candidates = ledger_.candidates(image, info.version);
      bool matched = false;
      for (std::uint32_t content : candidates) {
        if (series_.bytes(image, content) != info.image_bytes) continue;
        auto r = retried(
            client, [&] { return clients_.same(client, image, info.version, content); }, true);
        if (!r && allow_damage && damage_.any) {
          ++damage_answers_;
          unreadable_.emplace(image, info.version, r.error().message());
          matched = true;
          break;
        }
        if (!r) {
          world_.fail(property, clients_.name(image) + " version " + std::to_string(info.version) +
                                    " cannot be read: " + r.error().message());
          return false;
        }
        if (*r) {
          matched = true;
          matched_sizes_[image][info.version] = series_.bytes(image, content);
          break;
        }
      }
      if (!matched && reports_.violated(property, clients_.name(image) + " version " +
                                                      std::to_string(info.version) + " (" +
                                                      std::to_string(info.image_bytes) +
                                                      " bytes) is not what any client committed")) {
        return false;
      }
    }
    if (auto wrong = ledger_.judge_listing(image, present);
        wrong && reports_.violated(property, clients_.name(image) + " " + *wrong)) {
      return false;
    }
  }
  return true;
}

// Every version that could not be read after the disk damaged stored data is one verify
// names damage in (or verify names a damaged metadata file).
bool DedupFinalChecks::damage_explains_failed_reads(dedup::DedupClient& client) {
  if (unreadable_.empty()) return true;
  auto report = retried(client, [&] { return client.verify(); });
  if (!report) {
    world_.fail("progress", "verify: " + report.error().message());
    return false;
  }
  if (!report->problems.empty()) return true;
  for (const auto& [image, version, error] : unreadable_) {
    bool named = false;
    for (const dedup::Damage& d : report->damage)
      named |= d.image == clients_.name(image) && d.version == version;
    if (!named && report->damage_count <= report->damage.size()) {
      world_.fail("restorable", clients_.name(image) + " version " + std::to_string(version) +
                                    " cannot be read (" + error +
                                    ") and verify names no damage in it");
      return false;
    }
  }
  return true;
}

// The store's own accounting against the versions the final listing showed and the driver
// matched byte for byte to what a client committed: GET /images and GET /stats must count
// exactly those versions and their sizes. (Not decidable once stored data was damaged: a
// version that cannot be read was matched to no size.)
bool DedupFinalChecks::accounting_agrees(dedup::DedupClient& client) {
  if (!reports_.wants("listing-accurate") || damage_.any) return true;
  auto images = retried(client, [&] { return client.list_images(); });
  auto stats = retried(client, [&] { return client.stats(); });
  if (!images || !stats) {
    world_.fail("progress", "the final listing of images or stats: " +
                                (images ? stats.error() : images.error()).message());
    return false;
  }
  std::vector<properties::dedup::MatchedImage> matched;
  for (std::uint32_t image = 0; image < matched_sizes_.size(); ++image)
    matched.push_back({clients_.name(image), matched_sizes_[image]});
  std::vector<properties::dedup::ImageCount> told;
  for (const dedup::ImageSummary& s : *images)
    told.push_back({s.name, s.versions, s.oldest, s.latest, s.latest_bytes, s.logical_bytes});
  const std::optional<std::string> wrong =
      properties::dedup::judge_listing(matched, told, stats->versions, stats->logical_bytes);
  if (wrong) return !reports_.violated("listing-accurate", *wrong);
  return metrics_agree(client, *stats);
}

// GET /metrics tells what GET /stats does (which judge_listing held to the clients' model):
// the same versions, images and logical bytes; and it agrees with itself, every route's
// answers counted once in the requests and once in the latency histogram.
bool DedupFinalChecks::metrics_agree(dedup::DedupClient& client, const dedup::StoreStats& stats) {
  auto page = retried(client, [&] { return client.metrics(); });
  if (!page) {
    world_.fail("progress", "the final GET /metrics: " + page.error().message());
    return false;
  }
  auto samples = metrics::parse_samples(*page);
  if (!samples) return !reports_.violated("listing-accurate", samples.error().what);
  auto differs = [&](std::string_view name, std::uint64_t want) -> std::optional<std::string> {
    const double got = metrics::sum_of(*samples, name);
    if (got == static_cast<double>(want)) return std::nullopt;
    return "/metrics says " + std::string(name) + " " + metrics::format_value(got) + ", /stats " +
           std::to_string(want);
  };
  for (auto wrong : {differs("doppel_dedup_versions", stats.versions),
                     differs("doppel_dedup_images", stats.images),
                     differs("doppel_dedup_logical_bytes", stats.logical_bytes)}) {
    if (wrong) return !reports_.violated("listing-accurate", *wrong);
  }
  constexpr std::string_view kCount = "doppel_http_request_duration_seconds_count{route=\"";
  for (const auto& [series, timed] : *samples) {
    if (!series.starts_with(kCount)) continue;
    const std::string route = series.substr(kCount.size(), series.size() - kCount.size() - 2);
    double answered = 0;
    for (const auto& [other, n] : *samples) {
      if (other.starts_with("doppel_http_requests_total{") &&
          other.find(",route=\"" + route + "\",") != std::string::npos) {
        answered += n;
      }
    }
    if (answered != timed) {
      return !reports_.violated("listing-accurate", "/metrics counts " +
                                                        metrics::format_value(answered) +
                                                        " answers of " + route + " but times " +
                                                        metrics::format_value(timed));
    }
  }
  return true;
}

// The store's files as the server's disk holds them now (what a read would return, without
// read faults), by path under the store's root. Views into the disk: valid until it changes.
properties::dedup::StoreFiles DedupFinalChecks::store_files() {
  sim::SimDisk& disk = world_.disk(server_);
  properties::dedup::StoreFiles files;
  std::vector<std::string> dirs{std::string(kDedupStoreDir)};
  for (std::size_t i = 0; i < dirs.size() && i < kStoreDirsMax; ++i) {
    Result<std::vector<std::string>> names = disk.list(dirs[i]);
    if (!names) continue;  // no store yet
    for (const std::string& name : *names) {
      std::string path = dirs[i] + "/" + name;
      if (const sim::SimDisk::Inode* inode = disk.inode_at(path)) {
        files.emplace(path.substr(kDedupStoreDir.size() + 1), inode->data);
      } else {
        dirs.push_back(std::move(path));
      }
    }
  }
  return files;
}

// refcounts-balance, judged without the store's word: the counts recomputed from the recipes
// on the disk and the clients' model (properties/dedup/reference_counts.h).
bool DedupFinalChecks::reference_counts_balance() {
  std::vector<std::string> names;
  for (std::uint32_t image = 0; image < series_.options().images; ++image)
    names.push_back(clients_.name(image));
  const properties::dedup::ReferenceCountReport r =
      properties::dedup::check_reference_counts(store_files(), names, ledger_, damage_.files);
  world_.record(sim::kNoNode, 0,
                Event("DedupReferenceCounts")
                    .detail("segments", r.segments)
                    .detail("recipes", r.recipes)
                    .detail("direct_references", r.direct_references)
                    .detail("blocks_hashed", r.blocks_hashed)
                    .detail("excused", r.excused.size())
                    .detail("exact", r.counts_exact)
                    .detail("first_excused", r.excused.empty() ? "" : r.excused.front()));
  if (!r.failure) return true;
  world_.fail("refcounts-balance", "on the disk: " + *r.failure);
  return false;
}

bool DedupFinalChecks::run(dedup::DedupClient& client) {
  if (!all_restorable(client, "restorable")) return false;
  if (!accounting_agrees(client)) return false;
  if (!damage_explains_failed_reads(client)) return false;
  if (reports_.wants("refcounts-balance")) {
    // The store's own check first: it also settles the store (a change left logged by a failed
    // operation is replayed), so that the oracle reads the files of a store at rest.
    Status s = retried(client, [&] { return client.check(); });
    if (!s && damage_reported(s.error())) {
      ++damage_answers_;
    } else if (!s) {
      world_.fail("refcounts-balance", "the store's check: " + s.error().message());
      return false;
    }
    if (!reference_counts_balance()) return false;
  }
  if (!reports_.wants("damage-found")) return true;
  // One stored bit flips; verify must say so, or nothing readable may have changed.
  const std::optional<std::string> hit = world_.disk(server_).corrupt(kSegmentFiles);
  if (!hit) return true;
  auto report = retried(client, [&] { return client.verify(); });
  if (!report) {
    world_.fail("progress", "verify: " + report.error().message());
    return false;
  }
  world_.record(sim::kNoNode, 0,
                Event("DedupVerifyAfterFlip")
                    .detail("file", *hit)
                    .detail("clean", report->clean())
                    .detail("damage", report->damage_count));
  // A store that reported damage earlier must not call itself clean now.
  if (report->clean() && damage_answers_ > 0) {
    world_.fail("damage-found", "verify says clean after the store answered `corrupt` " +
                                    std::to_string(damage_answers_) + " times");
    return false;
  }
  if (report->clean()) return all_restorable(client, "damage-found", false);
  return true;
}

}  // namespace doppel::scenarios
