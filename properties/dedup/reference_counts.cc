#include "properties/dedup/reference_counts.h"

#include <algorithm>

#include "properties/dedup/store_image.h"

namespace doppel::properties::dedup {
namespace {

constexpr std::string_view kSegments = "segments/";
constexpr std::string_view kImages = "images/";
constexpr std::string_view kIntent = "log/intent";
constexpr std::string_view kStaged = ".next";
constexpr std::size_t kRepairFlipsMax = 3;  // 8^3 decodes at most

std::string seg_name(std::uint64_t id) {
  return "segment " + std::to_string(id);
}

std::string version_name(const std::string& image, std::uint64_t version) {
  return image + " version " + std::to_string(version);
}

class Judge {
 public:
  Judge(const StoreFiles& files, const std::vector<std::string>& image_names,
        const BackupLedger& ledger, const DamagedBytes& damaged)
      : files_(files), names_(image_names), ledger_(ledger), damaged_(damaged) {}

  ReferenceCountReport run() {
    if (!classify() || !settled()) return std::move(report_);
    check_versions();
    if (!report_.failure) decode();
    if (!report_.failure) count_references();
    if (!report_.failure) compare_counts();
    if (!report_.failure) check_data();
    return std::move(report_);
  }

 private:
  struct Segment {
    std::string meta_path;
    std::map<std::uint32_t, std::string> data_paths;  // by generation
    std::optional<DiskSegment> meta;                  // decoded (else damaged, excused)
    std::vector<std::uint64_t> counted;               // direct references found, per block
  };
  struct Image {
    std::map<std::uint64_t, std::string> recipe_paths;
    std::map<std::uint64_t, DiskRecipe> recipes;  // decoded (the others damaged, excused)
  };

  bool fail(std::string what) {
    if (!report_.failure) report_.failure = std::move(what);
    return false;
  }

  // The offsets of the known flips in the file at `path` (or in the staged file renamed onto it).
  std::set<std::uint64_t> damaged(std::string_view path) const {
    std::set<std::uint64_t> out;
    for (const std::string& p : {std::string(path), std::string(path) + std::string(kStaged)}) {
      if (const auto it = damaged_.find(p); it != damaged_.end())
        out.insert(it->second.begin(), it->second.end());
    }
    return out;
  }

  // Decodes a metadata file; when it fails and known flips hit it, the file as the store wrote it
  // (each flipped byte tried with each of its bits undone): a bit flip leaves the rest intact.
  template <typename Decode>
  auto decode_repaired(const std::string& path, Decode decode) -> decltype(decode("")) {
    const std::string_view bytes = files_.at(path);
    auto decoded = decode(bytes);
    const std::set<std::uint64_t> offsets = damaged(path);
    if (decoded || offsets.empty() || offsets.size() > kRepairFlipsMax) return decoded;
    std::vector<std::uint64_t> at;
    for (const std::uint64_t o : offsets) {
      if (o < bytes.size()) at.push_back(o);
    }
    std::string copy(bytes);
    std::uint64_t tries = 1;
    for (std::size_t i = 0; i < at.size(); ++i) tries *= 8;
    for (std::uint64_t t = 1; t < tries; ++t) {  // t: a bit per offset, three bits each
      std::uint64_t code = t;
      for (const std::uint64_t o : at) {
        copy[o] = static_cast<char>(bytes[o] ^ (code % 8 == 0 ? 0 : 1u << (code % 8 - 1)));
        code /= 8;
      }
      auto repaired = decode(copy);
      if (repaired) {
        excuse("a known flip undone in " + path);
        return repaired;
      }
    }
    return decoded;
  }

  void excuse(std::string what) {
    if (report_.excused.size() < 32) report_.excused.push_back(std::move(what));
  }

  // Sorts the files into segments and images. Staged files, the trash and the log's temporary
  // file are not part of the store (README, "Crash protocol").
  bool classify() {
    for (const auto& [path, bytes] : files_) {
      if (path.ends_with(kStaged) || path.starts_with("trash/") || path == "log/intent.tmp") {
        continue;
      }
      if (path == kIntent) {
        intent_ = true;
      } else if (path.starts_with(kSegments)) {
        const std::optional<DiskSegmentFile> f =
            parse_disk_segment_file(std::string_view(path).substr(kSegments.size()));
        if (!f) return fail("a stray file in the store: " + path);
        Segment& s = segments_[f->id];
        if (f->is_meta) {
          s.meta_path = path;
        } else {
          s.data_paths[f->generation] = path;
        }
      } else if (path.starts_with(kImages)) {
        if (!classify_version(path)) return false;
      } else {
        return fail("a stray file in the store: " + path);
      }
    }
    return true;
  }

  bool classify_version(const std::string& path) {
    const std::string_view rest = std::string_view(path).substr(kImages.size());
    const std::size_t slash = rest.find('/');
    const std::string image(rest.substr(0, slash));
    if (slash == std::string_view::npos ||
        std::find(names_.begin(), names_.end(), image) == names_.end()) {
      return fail("a file of an image no client wrote: " + path);
    }
    const std::optional<DiskVersionFile> f = parse_disk_version_file(rest.substr(slash + 1));
    if (!f) return fail("a stray file in the store: " + path);
    if (f->is_recipe) images_[image].recipe_paths[f->version] = path;
    return true;
  }

  // The files are judged once the store has settled: every logged change installed.
  bool settled() {
    if (!intent_) return true;
    if (!damaged(kIntent).empty() || !damaged("log/intent.tmp").empty()) {
      excuse("the intent in the log is damaged: the store cannot replay it, nothing is judged");
      return false;
    }
    return fail(
        "an intent is left in the log after the final checks: the store never "
        "finished the change it logged");
  }

  void decode() {
    for (auto& [id, s] : segments_) {
      if (s.meta_path.empty()) continue;
      Result<DiskSegment> m = decode_repaired(
          s.meta_path, [id](std::string_view b) { return decode_disk_segment(b, id); });
      if (m) {
        s.meta = std::move(*m);
        s.counted.assign(s.meta->blocks.size(), 0);
        ++report_.segments;
      } else if (!damaged(s.meta_path).empty()) {
        excuse("damaged (disk_corrupt): " + m.error().message());
      } else {
        fail("cannot decode " + s.meta_path + ": " + m.error().message());
        return;
      }
    }
    for (auto& [image, im] : images_) {
      for (const auto& [v, path] : im.recipe_paths) {
        Result<DiskRecipe> r = decode_repaired(
            path, [&image, v](std::string_view b) { return decode_disk_recipe(b, image, v); });
        if (r) {
          im.recipes.emplace(v, std::move(*r));
          ++report_.recipes;
        } else if (!damaged(path).empty()) {
          excuse("damaged (disk_corrupt): " + r.error().message());
          report_.counts_exact = false;
        } else {
          fail("cannot decode " + path + ": " + r.error().message());
          return;
        }
      }
    }
  }

  // The recipes on disk are the versions the clients' model allows.
  void check_versions() {
    for (std::uint32_t i = 0; i < names_.size(); ++i) {
      const BackupLedger::ImageKnowledge k = ledger_.knowledge(i);
      const auto it = images_.find(names_[i]);
      std::set<std::uint64_t> stored;
      if (it != images_.end()) {
        for (const auto& [v, path] : it->second.recipe_paths) stored.insert(v);
      }
      for (const std::uint64_t v : k.live) {
        if (stored.count(v) == 0) {
          fail(version_name(names_[i], v) +
               " was acknowledged, no removal was sent, and no recipe of it is on disk");
          return;
        }
      }
      std::uint64_t unheard = 0;
      for (const std::uint64_t v : stored) {
        if (k.removed.count(v) != 0) {
          fail(version_name(names_[i], v) +
               " was removed (acknowledged) and its recipe is on disk");
          return;
        }
        unheard += k.live.count(v) == 0 && k.maybe_gone.count(v) == 0 ? 1 : 0;
      }
      if (unheard > k.unknown_commits) {
        fail(names_[i] + " has " + std::to_string(unheard) +
             " recipes of versions no client heard of, and only " +
             std::to_string(k.unknown_commits) + " commits went unanswered");
        return;
      }
    }
  }

  void count_references() {
    for (const auto& [image, im] : images_) {
      const std::uint64_t newest = im.recipe_paths.empty() ? 0 : im.recipe_paths.rbegin()->first;
      for (const auto& [v, r] : im.recipes) {
        for (std::size_t p = 0; p < r.entries.size(); ++p) {
          std::optional<std::string> wrong = judge_entry(im, r, p, v == newest);
          if (wrong) {
            fail(version_name(image, v) + " position " + std::to_string(p) + ": " + *wrong);
            return;
          }
        }
      }
    }
  }

  std::optional<std::string> judge_entry(const Image& im, const DiskRecipe& r, std::size_t p,
                                         bool newest) {
    const DiskEntry& e = r.entries[p];
    if (e.kind == DiskRefKind::null) return std::nullopt;
    if (e.kind == DiskRefKind::indirect) {
      if (newest) return "the newest version holds an indirect reference";
      if (e.target <= r.version) return "an indirect reference to an earlier version";
      if (im.recipe_paths.count(e.target) == 0) return "an indirect reference to a missing version";
      const auto to = im.recipes.find(e.target);
      if (to == im.recipes.end()) return std::nullopt;  // damaged, excused
      if (e.index >= to->second.entries.size()) return "an indirect index out of range";
      const DiskEntry& t = to->second.entries[e.index];
      if (t.kind == DiskRefKind::null || t.digest != e.digest) {
        return "an indirect reference to other content";
      }
      return std::nullopt;
    }
    const auto it = segments_.find(e.target);
    if (it == segments_.end() || it->second.meta_path.empty()) {
      return "a reference to " + seg_name(e.target) + ", whose metadata is not on disk";
    }
    Segment& s = it->second;
    if (!s.meta) return std::nullopt;  // damaged, excused
    if (e.index >= s.meta->blocks.size()) return "a block index out of range";
    const DiskBlock& b = s.meta->blocks[e.index];
    if (b.state != DiskBlockState::present) return "a reference to a block that is not stored";
    if (b.digest != e.digest) return "a reference to other content";
    if (s.meta->block_length(e.index) != r.block_length(p)) return "a block of another length";
    ++s.counted[e.index];
    ++report_.direct_references;
    return std::nullopt;
  }

  void compare_counts() {
    for (const auto& [id, s] : segments_) {
      if (!s.meta) continue;
      for (std::size_t b = 0; b < s.meta->blocks.size(); ++b) {
        const DiskBlock& blk = s.meta->blocks[b];
        const std::string where = seg_name(id) + " block " + std::to_string(b) + " ";
        const std::string says = "counts " + std::to_string(blk.refs) +
                                 " references; the recipes "
                                 "on disk hold " +
                                 std::to_string(s.counted[b]);
        if (blk.state != DiskBlockState::present && blk.refs != 0) {
          fail(where + "is not stored and " + says);
          return;
        }
        // Borrowing lasts until the first commit naming the segment: after it, a version could
        // reach a block whose content the segment never stored.
        const bool referenced =
            s.meta->refs_total > 0 ||
            std::any_of(s.counted.begin(), s.counted.end(), [](std::uint64_t n) { return n > 0; });
        if (blk.state == DiskBlockState::borrowed && referenced) {
          fail(where + "is still borrowed from segment " + std::to_string(blk.lender) +
               " while versions reference the segment");
          return;
        }
        if (report_.counts_exact ? blk.refs != s.counted[b] : blk.refs < s.counted[b]) {
          fail(where + says);
          return;
        }
        if (report_.counts_exact && blk.state == DiskBlockState::present && s.counted[b] == 0 &&
            s.meta->refs_total > 0) {
          fail(where +
               "is referenced by no version, yet still stored in a segment versions "
               "reference (it should have been freed)");
          return;
        }
      }
    }
  }

  void check_data() {
    for (const auto& [id, s] : segments_) {
      if (s.meta_path.empty()) {
        fail("data of " + seg_name(id) +
             ", whose metadata is not on disk: " + s.data_paths.begin()->second);
        return;
      }
      if (!s.meta) continue;
      for (const auto& [generation, path] : s.data_paths) {
        if (generation != s.meta->generation) {
          fail("a data file of another generation than the metadata's (" +
               std::to_string(s.meta->generation) + "): " + path);
          return;
        }
      }
      if (!check_segment_data(id, s)) return;
    }
  }

  bool check_segment_data(std::uint64_t id, const Segment& s) {
    const DiskSegment& m = *s.meta;
    const auto path = s.data_paths.find(m.generation);
    const std::string_view data = path == s.data_paths.end() ? "" : files_.at(path->second);
    const std::set<std::uint64_t> flips =
        path == s.data_paths.end() ? std::set<std::uint64_t>() : damaged(path->second);
    for (std::size_t b = 0; b < m.blocks.size(); ++b) {
      const DiskBlock& blk = m.blocks[b];
      if (blk.state != DiskBlockState::present && blk.state != DiskBlockState::punched) continue;
      const std::uint64_t at = std::uint64_t{blk.slot} * kDiskBlockBytes;
      const std::uint64_t length = m.block_length(b);
      // A known flip in the block's bytes explains them (and only that block's).
      const auto flip = flips.lower_bound(at);
      const bool flipped = flip != flips.end() && *flip < at + length;
      std::optional<std::string> wrong;
      if (blk.state == DiskBlockState::present) {
        ++report_.blocks_hashed;
        if (path == s.data_paths.end()) {
          return fail(seg_name(id) + " stores blocks and has no data file of generation " +
                      std::to_string(m.generation));
        }
        if (at + length > data.size()) {
          wrong = "is past the end of its data file";
        } else if (disk_block_digest(m.hash_kind, data.substr(at, length)) != blk.digest) {
          wrong = "does not hash to its fingerprint";
        }
      } else if (at < data.size()) {
        const std::string_view hole = data.substr(at, std::min(length, data.size() - at));
        if (std::any_of(hole.begin(), hole.end(), [](char c) { return c != 0; })) {
          wrong = "was removed (punched, count 0) and its bytes are still in the data file";
        }
      }
      if (!wrong) continue;
      const std::string what = seg_name(id) + " block " + std::to_string(b) + " " + *wrong;
      if (!flipped) return fail(what);
      excuse("damaged (disk_corrupt): " + what);
    }
    return true;
  }

  const StoreFiles& files_;
  const std::vector<std::string>& names_;
  const BackupLedger& ledger_;
  const DamagedBytes& damaged_;
  ReferenceCountReport report_;
  bool intent_ = false;
  std::map<std::uint64_t, Segment> segments_;
  std::map<std::string, Image> images_;
};

}  // namespace

ReferenceCountReport check_reference_counts(const StoreFiles& files,
                                            const std::vector<std::string>& image_names,
                                            const BackupLedger& ledger,
                                            const DamagedBytes& damaged) {
  return Judge(files, image_names, ledger, damaged).run();
}

}  // namespace doppel::properties::dedup
