// The store's checks: check() (every invariant, for tests), verify() (re-hash
// everything, report damage by version and offset), gc().

#include <map>
#include <set>

#include "components/dedup/store/store.h"
#include "components/dedup/store/store_internal.h"

namespace doppel::dedup {
namespace {

Error violation(const std::string& what) {
  return make_error(Errc::corrupt, "invariant: " + what);
}

std::string seg_name(SegmentId id) {
  return "segment " + std::to_string(id);
}

using Counts = std::map<SegmentId, std::vector<std::uint64_t>>;

// One recipe entry against the segments and the image's other versions.
Status check_entry(const RecipeEntry& e, std::uint32_t length,
                   const std::map<SegmentId, SegmentMeta>& metas,
                   const std::map<VersionNumber, Recipe>& recipes, Counts& counts) {
  if (e.kind == RefKind::direct) {
    auto m = metas.find(e.target);
    if (m == metas.end()) return violation("a reference to missing " + seg_name(e.target));
    if (e.index >= m->second.blocks.size()) return violation("a block index out of range");
    const SegmentBlock& b = m->second.blocks[e.index];
    if (b.state != BlockState::present) return violation("a reference to a removed block");
    if (b.fp != e.fp) return violation("a reference to other content");
    if (m->second.block_length(e.index) != length) return violation("a block length");
    std::vector<std::uint64_t>& c = counts[e.target];
    if (c.empty()) c.resize(m->second.blocks.size(), 0);
    ++c[e.index];
  } else if (e.kind == RefKind::indirect) {
    auto r = recipes.find(e.target);
    if (r == recipes.end()) return violation("an indirect reference to a missing version");
    if (e.index >= r->second.entries.size()) return violation("an indirect index out of range");
    const RecipeEntry& to = r->second.entries[e.index];
    if (to.kind == RefKind::null || to.fp != e.fp) return violation("a wrong indirect target");
  }
  return {};
}

Status check_counts(const SegmentMeta& m, const std::vector<std::uint64_t>& counted) {
  const bool referenced = m.refs_total() > 0;
  for (std::size_t b = 0; b < m.blocks.size(); ++b) {
    const SegmentBlock& blk = m.blocks[b];
    const std::uint64_t n = counted.empty() ? 0 : counted[b];
    if (blk.refs != n) {
      return violation(seg_name(m.id) + " block " + std::to_string(b) + " counts " +
                       std::to_string(blk.refs) + " references; versions hold " +
                       std::to_string(n));
    }
    if (blk.state == BlockState::present && blk.refs == 0 && referenced) {
      return violation(seg_name(m.id) + " keeps an unreferenced block");
    }
    if (blk.state != BlockState::present && blk.refs != 0) {
      return violation(seg_name(m.id) + " counts references to a block it does not store");
    }
    if (blk.state == BlockState::borrowed && (referenced || !counted.empty())) {
      return violation(seg_name(m.id) + " is referenced and still borrows block " +
                       std::to_string(b) + " from " + seg_name(blk.lender));
    }
  }
  return {};
}

// The present blocks of a segment whose bytes in its data file fail their fingerprint.
std::vector<std::uint32_t> bad_blocks_of(const SegmentMeta& m, std::string_view data) {
  std::vector<std::uint32_t> bad;
  for (std::size_t b = 0; b < m.blocks.size(); ++b) {
    const SegmentBlock& blk = m.blocks[b];
    if (blk.state != BlockState::present) continue;
    const std::uint64_t at = std::uint64_t{blk.slot} * kBlockBytes;
    const std::uint32_t length = m.block_length(b);
    if (at + length > data.size() || Hasher::of(m.fp.kind, data.substr(at, length)) != blk.fp) {
      bad.push_back(static_cast<std::uint32_t>(b));
    }
  }
  return bad;
}

// The fingerprint a complete segment's block fingerprints make up (the blocks' bytes are
// checked against those by bad_blocks_of).
Fingerprint segment_fingerprint(const SegmentMeta& m) {
  std::vector<Fingerprint> fps;
  fps.reserve(m.blocks.size());
  for (std::size_t b = 0; b < m.blocks.size(); ++b) {
    fps.push_back(m.blocks[b].state == BlockState::null
                      ? null_fingerprint(m.fp.kind, m.block_length(b))
                      : m.blocks[b].fp);
  }
  return segment_fingerprint_of(m.fp.kind, fps);
}

void add_damage(VerifyReport& report, Damage d) {
  ++report.damage_count;
  if (!report.damage.empty()) {
    Damage& last = report.damage.back();
    if (last.image == d.image && last.version == d.version && last.what == d.what &&
        last.offset + last.length == d.offset) {
      last.length += d.length;
      return;
    }
  }
  if (report.damage.size() < VerifyReport::kDamageMax) report.damage.push_back(std::move(d));
}

}  // namespace

// --- check

Status Store::check() {
  FairLockGuard guard(mutex_);
  // Metadata found damaged at boot is read again first: two reads in a row may both have had a
  // bit flipped on the way (the swarm found it: dedup-disk, seed 12592), which is no damage on
  // the disk. Damage that is there is found again.
  if (!load_problems_.empty()) needs_recovery_ = true;
  if (Status s = ensure_ready(); !s) return s;
  return check_locked();
}

Status Store::check_locked() {
  if (!load_problems_.empty()) return violation(load_problems_.front());
  segments_.check();
  if (!stats().balanced()) return violation("the space accounting does not balance");
  Result<std::vector<std::string>> names = io_.fs().list(paths_.segments_dir());
  if (!names) return names.error();
  std::map<SegmentId, SegmentMeta> metas;
  for (const std::string& name : *names) {
    const std::optional<SegmentFileName> f = parse_segment_file(name);
    if (!f) return violation("a stray file segments/" + name);
    const SegmentSummary* summary = segments_.find(f->id);
    if (summary == nullptr) return violation("a file of an unknown segment: " + name);
    if (!f->is_meta && f->generation != summary->header.generation) {
      return violation("a data file of an old generation: " + name);
    }
    if (!f->is_meta) continue;
    Result<SegmentMeta> m = load_meta(f->id);
    if (!m) return m.error();
    if (m->header() != summary->header) return violation(seg_name(f->id) + " summary differs");
    metas.emplace(f->id, std::move(*m));
  }
  if (metas.size() != segments_.size()) return violation("segments without metadata");
  for (const auto& [id, cached] : meta_cache_) {
    const auto on_disk = metas.find(id);
    if (on_disk == metas.end()) return violation(seg_name(id) + " is cached but not stored");
    if (*cached != on_disk->second)
      return violation(seg_name(id) + ": the cached metadata differs");
  }
  Counts counts;
  for (const auto& [image, iv] : catalog_.images()) {
    if (Status s = check_image(image, metas, counts); !s) return s;
  }
  for (const auto& [id, m] : metas) {
    if (Status s = check_counts(m, counts[id]); !s) return s;
  }
  Result<std::optional<Intent>> intent = read_intent(io_, paths_);
  if (!intent) return intent.error();
  if (intent->has_value()) return violation("an intent left in the log");
  return {};
}

Status Store::check_image(const std::string& image, const std::map<SegmentId, SegmentMeta>& metas,
                          std::map<SegmentId, std::vector<std::uint64_t>>& counts) {
  const ImageVersions& iv = *catalog_.find(image);
  Result<std::vector<std::string>> names = io_.fs().list(paths_.image_dir(image));
  if (!names) return names.error();
  std::size_t recipe_files = 0;
  for (const std::string& name : *names) {
    const std::optional<VersionFileName> f = parse_version_file(name);
    if (!f) return violation("a stray file in image " + image + ": " + name);
    recipe_files += f->is_recipe ? 1 : 0;
    if (!f->is_recipe && f->version != iv.highest_taken) return violation("an old gone marker");
  }
  if (recipe_files != iv.versions.size()) return violation("image " + image + " recipe count");
  std::map<VersionNumber, Recipe> recipes;
  for (const auto& [v, summary] : iv.versions) {
    Result<Recipe> r = load_recipe(image, v);
    if (!r) return r.error();
    if (summary_of(r->header()) != summary) return violation("a version summary differs");
    recipes.emplace(v, std::move(*r));
  }
  const VersionNumber newest = iv.versions.empty() ? 0 : iv.versions.rbegin()->first;
  for (const auto& [v, r] : recipes) {
    for (std::size_t p = 0; p < r.entries.size(); ++p) {
      const RecipeEntry& e = r.entries[p];
      if (v == newest && e.kind == RefKind::indirect) {
        return violation(image + " newest version holds an indirect reference");
      }
      if (Status s = check_entry(e, r.block_length(p), metas, recipes, counts); !s) {
        return make_error(s.code(), s.error().what + " (" + image + " version " +
                                        std::to_string(v) + " block " + std::to_string(p) + ")");
      }
    }
  }
  return {};
}

// --- verify

Result<VerifyReport> Store::verify() {
  FairLockGuard guard(mutex_);
  if (Status s = ensure_ready(); !s) {
    // A store that cannot recover because what recovery reads is damaged (the intent log, say)
    // is what verify is for: that damage is its finding, not its failure.
    if (s.code() != Errc::corrupt) return s.error();
    VerifyReport report;
    report.problems.push_back(s.error().message());
    return report;
  }
  return verify_locked();
}

Result<VerifyReport> Store::verify_locked() {
  // Verify judges the disk, not memory: metadata it finds damaged is read from the disk again
  // from now on (and fails there), as it would be after a restart.
  meta_cache_.clear();
  changed();
  VerifyReport report;
  report.problems = load_problems_;
  std::set<std::pair<SegmentId, std::uint32_t>> bad_blocks;
  std::set<SegmentId> bad_segments(problem_segments_.begin(), problem_segments_.end());
  for (const auto& [id, summary] : segments_.all()) {
    ++report.segments_checked;
    if (Status s = verify_segment(id, report, bad_blocks); !s) {
      if (s.code() != Errc::corrupt && s.code() != Errc::not_found) return s.error();
      report.problems.push_back(seg_name(id) + ": " + s.error().message());
      bad_segments.insert(id);
    }
  }
  for (const auto& [image, iv] : catalog_.images()) {
    for (const auto& [v, summary] : iv.versions) {
      ++report.versions_checked;
      Result<std::shared_ptr<const Resolved>> r = resolve(image, v);
      if (!r) {
        if (r.code() != Errc::corrupt && r.code() != Errc::not_found) return r.error();
        add_damage(report, Damage{image, v, 0, summary.image_bytes, r.error().message()});
        continue;
      }
      for (std::size_t p = 0; p < (*r)->blocks.size(); ++p) {
        const Resolved::Location loc = (*r)->blocks[p];
        if (loc.segment == 0) continue;
        const bool bad =
            bad_segments.count(loc.segment) != 0 || bad_blocks.count({loc.segment, loc.block}) != 0;
        if (!bad) continue;
        add_damage(report, Damage{image, v, p * kBlockBytes, block_bytes_at(summary.image_bytes, p),
                                  "damaged block"});
      }
    }
  }
  rt_.record(Event("DedupVerified", report.clean() ? Severity::info : Severity::warning)
                 .detail("segments", report.segments_checked)
                 .detail("blocks", report.blocks_checked)
                 .detail("problems", report.problems.size())
                 .detail("damaged_ranges", report.damage_count));
  return report;
}

// Re-hashes every stored block of a segment; a complete segment also as a
// whole. A segment with a bad block is read once more before it counts as
// damaged (the bit may have flipped on the way, not on the disk).
Status Store::verify_segment(SegmentId id, VerifyReport& report,
                             std::set<std::pair<SegmentId, std::uint32_t>>& bad_blocks) {
  Result<SegmentMeta> m = load_meta(id);
  if (!m) return m.error();
  if (m->space().stored_bytes == 0) return {};
  if (options_.planted_bug == PlantedBug::verify_skips_data) return {};
  std::vector<std::uint32_t> bad;
  for (int attempt = 0; attempt < 2; ++attempt) {
    Result<std::string> data =
        io_.read_all(paths_.segment_data(id, m->generation), options_.segment_bytes_max);
    if (!data) return data.error();
    bad = bad_blocks_of(*m, *data);
    if (!bad.empty()) continue;
    if (m->complete() && segment_fingerprint(*m) != m->fp) {
      report.problems.push_back(seg_name(id) + ": blocks do not make up its fingerprint");
    }
    break;
  }
  for (const std::uint32_t b : bad) bad_blocks.insert({id, b});
  for (const SegmentBlock& blk : m->blocks) {
    report.blocks_checked += blk.state == BlockState::present ? 1 : 0;
  }
  return {};
}

// --- gc

Result<GcReport> Store::gc() {
  FairLockGuard guard(mutex_);
  if (Status s = ensure_ready(); !s) return s.error();
  return gc_locked();
}

Result<GcReport> Store::gc_locked() {
  if (!load_problems_.empty()) {
    return make_error(Errc::corrupt, "metadata is damaged; gc waits for a repair");
  }
  if (Status s = remove_leftovers(); !s) return s.error();
  GcReport report;
  const Instant now = rt_.now();
  Plan plan;
  ChangeSet change(io_, paths_);
  for (const auto& [id, s] : segments_.all()) {
    if (s.header.refs_total != 0 || now - s.unreferenced_since < options_.unreferenced_ttl) {
      continue;
    }
    change.remove(paths_.segment_meta(id));
    change.discard(paths_.segment_data(id, s.header.generation));
    plan.dropped.push_back(id);
    ++plan.segments_dropped;
    report.bytes_freed += s.header.space.stored_bytes;
  }
  if (!change.empty()) {
    if (Status s = run_change(change, plan); !s) return s.error();
  }
  if (Result<std::size_t> emptied = empty_trash(); !emptied) return emptied.error();
  if (plan.dropped.empty()) return report;
  report.segments_dropped = plan.dropped.size();
  rt_.record(Event("DedupGc")
                 .detail("dropped", report.segments_dropped)
                 .detail("freed", report.bytes_freed));
  return report;
}

}  // namespace doppel::dedup
