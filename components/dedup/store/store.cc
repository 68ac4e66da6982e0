// The store: boot, recovery, the tables, listing and stats.

#include "components/dedup/store/store.h"

#include <algorithm>

#include "components/dedup/store/store_internal.h"

namespace doppel::dedup {
namespace {

const StoreOptions& checked(const StoreOptions& options) {
  DOPPEL_ASSERT_MSG(check_store_options(options).ok(), "dedup store options fail their check");
  return options;
}

VersionInfo info_of(const VersionSummary& s) {
  return VersionInfo{s.version, s.image_bytes, s.space.null_bytes, s.space.direct_bytes,
                     s.space.indirect_bytes};
}

}  // namespace

VersionSummary summary_of(const RecipeHeader& header) {
  return VersionSummary{header.version, header.image_bytes, header.space, header.saved};
}

Status check_store_options(const StoreOptions& o) {
  const auto bad = [](const std::string& what) { return make_error(Errc::invalid_argument, what); };
  if (o.dir.empty() || o.dir.front() == '/') return bad("dir: a relative path");
  if (o.rebuild_threshold_percent > 100) return bad("rebuild_threshold_percent: 0 to 100");
  if (o.cross_dedup_segments_per_mib > kCrossDedupSegmentsPerMibMax) {
    return bad("cross_dedup_segments_per_mib: 0 to " +
               std::to_string(kCrossDedupSegmentsPerMibMax));
  }
  if (o.segment_bytes_max < kSegmentBytesMin || o.segment_bytes_max > kSegmentBytesMax) {
    return bad("segment_bytes_max: " + std::to_string(kSegmentBytesMin) + " to " +
               std::to_string(kSegmentBytesMax));
  }
  if (o.image_bytes_max == 0 || o.image_bytes_max > kImageBytesMax) {
    return bad("image_bytes_max: 1 to " + std::to_string(kImageBytesMax));
  }
  if (o.images_max == 0 || o.versions_per_image_max == 0 || o.segments_max == 0) {
    return bad("images_max, versions_per_image_max, segments_max: at least 1");
  }
  if (o.has_segments_max == 0 || o.read_bytes_max == 0) {
    return bad("has_segments_max, read_bytes_max: at least 1");
  }
  if (o.meta_cache_entries == 0 || o.resolved_cache_versions == 0) {
    return bad("meta_cache_entries, resolved_cache_versions: at least 1");
  }
  if (o.unreferenced_ttl.count() < 0) return bad("unreferenced_ttl: not negative");
  return {};
}

bool StoreStats::balanced() const {
  return logical_bytes == null_bytes + direct_bytes + indirect_bytes &&
         segment_data_bytes == stored_bytes + punched_bytes + compacted_bytes &&
         unreferenced_bytes <= stored_bytes;
}

Store::Store(Runtime& rt, FileSystem& fs, const StoreOptions& options)
    : rt_(rt), io_(rt, fs), options_(checked(options)), paths_(options.dir), mutex_(rt) {}

Store::~Store() = default;

Result<std::unique_ptr<Store>> Store::boot(Runtime& rt, FileSystem& fs,
                                           const StoreOptions& options) {
  if (Status s = check_store_options(options); !s) return s.error();
  std::unique_ptr<Store> store(new Store(rt, fs, options));
  FairLockGuard guard(store->mutex_);
  if (Status s = store->recover(); !s) return s.error();
  // What a crash left in the trash. A disk that fails here fails again soon enough: the
  // store boots anyway, and the next emptying tries again.
  (void)store->empty_trash();
  const StoreStats st = store->stats();
  rt.record(Event("DedupStoreBooted")
                .detail("segments", st.segments)
                .detail("images", st.images)
                .detail("versions", st.versions)
                .detail("stored_bytes", st.stored_bytes)
                .detail("replayed", st.intents_replayed)
                .detail("problems", store->load_problems_.size()));
  return store;
}

Result<std::size_t> Store::empty_trash() {
  Result<std::vector<std::string>> names = io_.fs().list(paths_.trash_dir());
  if (!names) return names.error();
  std::size_t removed = 0;
  for (const std::string& name : *names) {
    if (removed == kTrashFilesMax) break;
    if (Status s = io_.remove_if_present(paths_.trash_dir() + "/" + name); !s) {
      rt_.record(
          Event("DedupTrashNotEmptied", Severity::warning).detail("why", s.error().message()));
      return s.error();
    }
    ++removed;
  }
  if (removed > 0) rt_.record(Event("DedupTrashEmptied", Severity::debug).detail("files", removed));
  return removed;
}

Status Store::ensure_ready() {
  if (!needs_recovery_) return {};
  return recover();
}

void Store::changed() {
  ++epoch_;
  resolved_cache_.clear();
}

// Boot, and after a change failed once logged: finish the logged change,
// forget unlogged leftovers, reload every table from disk.
Status Store::recover() {
  needs_recovery_ = true;
  changed();
  meta_cache_.clear();  // the files are the truth again
  segments_.clear();
  catalog_.clear();
  load_problems_.clear();
  problem_segments_.clear();
  problem_versions_.clear();
  if (Status s = make_dirs(); !s) return s;
  Result<std::optional<Intent>> intent = read_intent(io_, paths_);
  if (!intent) return intent.error();
  if (intent->has_value()) {
    if (Status s = apply_intent(io_, **intent); !s) return s;
    if (Status s = clear_intent(io_, paths_); !s) return s;
    ++counters_.intents_replayed;
    rt_.record(Event("DedupIntentReplayed").detail("actions", (*intent)->actions.size()));
  }
  if (Status s = load_segments(); !s) return s;
  if (Status s = load_catalog(); !s) return s;
  if (Status s = remove_leftovers(); !s) return s;
  needs_recovery_ = false;
  return {};
}

Status Store::make_dirs() {
  FileSystem& fs = io_.fs();
  // Every level of the root, then the store's own directories; each new
  // entry is made durable by syncing its parent.
  const std::string& root = paths_.root();
  for (std::size_t slash = root.find('/'); slash != std::string::npos;
       slash = root.find('/', slash + 1)) {
    if (Status s = fs.make_dir(root.substr(0, slash)); !s) return s;
  }
  for (const std::string& dir :
       {root, paths_.segments_dir(), paths_.images_dir(), paths_.log_dir(), paths_.trash_dir()}) {
    if (Status s = fs.make_dir(dir); !s) return s;
    if (Status s = fs.sync_dir(std::string(parent_dir(dir))); !s) return s;
  }
  return {};
}

Status Store::load_segments() {
  Result<std::vector<std::string>> names = io_.fs().list(paths_.segments_dir());
  if (!names) return names.error();
  for (const std::string& name : *names) {
    const std::optional<SegmentFileName> f = parse_segment_file(name);
    if (!f) continue;
    segments_.note_id(f->id);
    if (!f->is_meta) continue;
    const std::string path = paths_.segments_dir() + "/" + name;
    Result<SegmentHeader> h =
        read_twice(path, kSegmentHeaderBytes, true, [&](std::string_view head) {
          return decode_segment_header(head, f->id, options_.segment_bytes_max);
        });
    if (!h) {
      if (h.code() != Errc::corrupt) return h.error();
      load_problems_.push_back(path + ": " + h.error().what);
      problem_segments_.push_back(f->id);
      continue;
    }
    segments_.put(*h, rt_.now());
  }
  return {};
}

Status Store::load_catalog() {
  Result<std::vector<std::string>> names = io_.fs().list(paths_.images_dir());
  if (!names) return names.error();
  for (const std::string& image : *names) {
    if (!valid_image_name(image)) continue;
    if (Status s = load_image(image); !s) return s;
  }
  return {};
}

Status Store::load_image(const std::string& image) {
  Result<std::vector<std::string>> names = io_.fs().list(paths_.image_dir(image));
  if (!names) return names.code() == Errc::not_found ? Status() : Status(names.error());
  for (const std::string& name : *names) {
    const std::optional<VersionFileName> f = parse_version_file(name);
    if (!f) continue;
    catalog_.note_taken(image, f->version);
    if (!f->is_recipe) continue;
    const std::string path = paths_.recipe(image, f->version);
    Result<RecipeHeader> h = read_twice(path, kRecipeHeaderBytes, true, [&](std::string_view head) {
      return decode_recipe_header(head, image, f->version, options_.image_bytes_max);
    });
    if (!h) {
      if (h.code() != Errc::corrupt) return h.error();
      load_problems_.push_back(path + ": " + h.error().what);
      // Not in the catalog, but not gone either: listing the image says so.
      problem_versions_.emplace(std::pair(image, f->version), load_problems_.back());
      continue;
    }
    catalog_.put(image, summary_of(*h));
  }
  return {};
}

// Staged files no intent names, the intent's temporary file, and data files
// of generations no metadata names: what unlogged changes left behind.
Status Store::remove_leftovers() {
  if (Status s = io_.remove_if_present(paths_.intent_tmp()); !s) return s;
  Result<std::vector<std::string>> names = io_.fs().list(paths_.segments_dir());
  if (!names) return names.error();
  for (const std::string& name : *names) {
    const std::optional<SegmentFileName> f = parse_segment_file(name);
    bool leftover = is_staged_name(name);
    if (f && !f->is_meta) {
      const SegmentSummary* s = segments_.find(f->id);
      const bool kept = std::find(problem_segments_.begin(), problem_segments_.end(), f->id) !=
                        problem_segments_.end();
      leftover = !kept && (s == nullptr || s->header.generation != f->generation);
    }
    if (!leftover) continue;
    if (Status s = io_.remove_if_present(paths_.segments_dir() + "/" + name); !s) return s;
  }
  for (const auto& [image, versions] : catalog_.images()) {
    Result<std::vector<std::string>> files = io_.fs().list(paths_.image_dir(image));
    if (!files) return files.error();
    for (const std::string& name : *files) {
      if (!is_staged_name(name)) continue;
      if (Status s = io_.remove_if_present(paths_.image_dir(image) + "/" + name); !s) return s;
    }
  }
  return {};
}

// A read that fails its checksum is read once more before it counts as
// damage: a bit flipped on the way (not on the disk) should not fail the
// operation, let alone turn the store read-only at boot.
template <class Decode>
auto Store::read_twice(std::string_view path, std::uint64_t bytes_max, bool prefix, Decode decode)
    -> decltype(decode(std::string_view())) {
  for (int attempt = 0;; ++attempt) {
    Result<std::string> bytes =
        prefix ? io_.read_prefix(path, bytes_max) : io_.read_all(path, bytes_max);
    if (!bytes) return bytes.error();
    auto decoded = decode(*bytes);
    if (decoded || decoded.code() != Errc::corrupt || attempt == 1) return decoded;
  }
}

Result<SegmentMeta> Store::load_meta(SegmentId id) {
  const std::uint64_t bytes_max =
      kSegmentHeaderBytes + blocks_in(options_.segment_bytes_max) * 64;  // 41 a block
  return read_twice(paths_.segment_meta(id), bytes_max, false, [&](std::string_view bytes) {
    return decode_segment_meta(bytes, id, options_.segment_bytes_max);
  });
}

Result<Recipe> Store::load_recipe(std::string_view image, VersionNumber version) {
  const std::uint64_t bytes_max = kRecipeHeaderBytes + blocks_in(options_.image_bytes_max) * 64;
  return read_twice(paths_.recipe(image, version), bytes_max, false, [&](std::string_view bytes) {
    return decode_recipe(bytes, image, version, options_.image_bytes_max);
  });
}

// Commits a change and installs its plan; when the disk fails after the
// intent was logged, recovery finishes the change (and reloads the tables).
Status Store::run_change(ChangeSet& change, const Plan& plan) {
  const Status s = change.commit();
  if (s) {
    install(plan);
    return {};
  }
  if (!change.logged()) {
    if (!change.abandon()) needs_recovery_ = true;  // recovery removes what is left
    return s;
  }
  needs_recovery_ = true;
  if (recover()) return {};
  return make_error(s.code(), s.error().what + " (logged: the change completes at recovery)");
}

void Store::install(const Plan& plan) {
  changed();
  const Instant now = rt_.now();
  for (const SegmentMeta& m : plan.metas) {
    segments_.put(m.header(), now);
    remember_meta(m);
  }
  for (const SegmentId id : plan.dropped) {
    segments_.erase(id);
    forget_meta(id);
  }
  for (const auto& [image, version] : plan.removed) catalog_.erase(image, version);
  for (const auto& [image, summary] : plan.versions) catalog_.put(image, summary);
  counters_.blocks_reverse_deduped += plan.blocks_reverse_deduped;
  counters_.blocks_cross_deduped += plan.blocks_cross_deduped;
  counters_.blocks_punched += plan.blocks_punched;
  counters_.segments_compacted += plan.segments_compacted;
  counters_.segments_dropped += plan.segments_dropped;
}

Result<std::vector<bool>> Store::has_segments(std::span<const Fingerprint> fps) {
  if (fps.size() > options_.has_segments_max) {
    return make_error(Errc::too_large, "more than has_segments_max fingerprints");
  }
  FairLockGuard guard(mutex_);
  if (Status s = ensure_ready(); !s) return s.error();
  std::vector<bool> out(fps.size());
  for (std::size_t i = 0; i < fps.size(); ++i) {
    out[i] = segments_.find_complete(fps[i]).has_value();
  }
  return out;
}

Result<const VersionSummary*> Store::known_version(std::string_view image,
                                                   VersionNumber version) const {
  if (const VersionSummary* v = catalog_.find(image, version)) return v;
  if (Status s = version_problem(image, version); !s) return s.error();
  return make_error(Errc::not_found, std::string(image) + " version " + std::to_string(version));
}

Status Store::version_problem(std::string_view image, std::optional<VersionNumber> version) const {
  auto it = problem_versions_.lower_bound(std::pair(std::string(image), version.value_or(0)));
  if (it == problem_versions_.end() || it->first.first != image) return {};
  if (version && it->first.second != *version) return {};
  return make_error(Errc::corrupt, "metadata is damaged (" + it->second + ")");
}

Result<std::vector<ImageInfo>> Store::list_images() {
  FairLockGuard guard(mutex_);
  if (Status s = ensure_ready(); !s) return s.error();
  // The catalog's versions, and those whose recipes were found damaged.
  std::map<std::string, std::set<VersionNumber>, std::less<>> versions;
  for (const auto& [name, iv] : catalog_.images()) {
    for (const auto& [v, summary] : iv.versions) versions[name].insert(v);
  }
  for (const auto& [iv, problem] : problem_versions_) versions[iv.first].insert(iv.second);
  std::vector<ImageInfo> out;
  for (const auto& [name, vs] : versions) {
    DOPPEL_ASSERT(!vs.empty());
    out.push_back(ImageInfo{name, vs.size(), *vs.begin(), *vs.rbegin()});
  }
  return out;
}

Result<std::vector<VersionInfo>> Store::list_versions(std::string_view image) {
  FairLockGuard guard(mutex_);
  if (Status s = ensure_ready(); !s) return s.error();
  // A listing without a version that was acknowledged would say it is gone.
  if (Status s = version_problem(image, std::nullopt); !s) return s.error();
  const ImageVersions* iv = catalog_.find(image);
  if (iv == nullptr || iv->versions.empty()) {
    return make_error(Errc::not_found, "image " + std::string(image));
  }
  std::vector<VersionInfo> out;
  for (const auto& [v, summary] : iv->versions) out.push_back(info_of(summary));
  return out;
}

Result<VersionInfo> Store::version_info(std::string_view image, VersionNumber version) {
  FairLockGuard guard(mutex_);
  if (Status s = ensure_ready(); !s) return s.error();
  Result<const VersionSummary*> known = known_version(image, version);
  if (!known) return known.error();
  const VersionSummary* v = *known;
  return info_of(*v);
}

StoreStats Store::stats() const {
  StoreStats st = counters_;
  st.images = catalog_.image_count();
  st.versions = catalog_.version_count();
  st.segments = segments_.size();
  st.complete_segments = segments_.complete_count();
  const RecipeSpace r = catalog_.space();
  st.logical_bytes = r.total();
  st.null_bytes = r.null_bytes;
  st.direct_bytes = r.direct_bytes;
  st.indirect_bytes = r.indirect_bytes;
  const SegmentSpace s = segments_.space();
  st.segment_data_bytes = s.data_bytes;
  st.stored_bytes = s.stored_bytes;
  st.punched_bytes = s.punched_bytes;
  st.compacted_bytes = s.compacted_bytes;
  st.unreferenced_bytes = segments_.unreferenced_bytes();
  st.segment_deduped_bytes = catalog_.saved().segment_bytes;
  st.cross_deduped_bytes = catalog_.saved().cross_bytes;
  st.hook_entries = segments_.hook_entries();
  return st;
}

}  // namespace doppel::dedup
