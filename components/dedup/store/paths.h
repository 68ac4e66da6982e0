#pragma once
// Where the store keeps what, under options.dir (see ../README.md):
//
//   segments/<id:016x>.meta         segment metadata (segment_meta.h)
//   segments/<id:016x>.<gen>.data   block data of generation gen (compaction
//                                   writes generation gen+1 beside it)
//   images/<image>/<v:010>.recipe   one version's recipe (recipe.h)
//   images/<image>/<v:010>.gone     the newest version was removed: its number
//                                   stays taken
//   log/intent                      the intent of the change being applied
//   trash/<name>                    a data file a change superseded, to be
//                                   unlinked (Store::empty_trash)
//   *.next, log/intent.tmp          staged files, not yet part of the store

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "components/dedup/store/options.h"

namespace doppel::dedup {

class Paths {
 public:
  explicit Paths(std::string root) : root_(std::move(root)) {}

  const std::string& root() const { return root_; }
  std::string segments_dir() const { return root_ + "/segments"; }
  std::string images_dir() const { return root_ + "/images"; }
  std::string log_dir() const { return root_ + "/log"; }
  std::string intent() const { return log_dir() + "/intent"; }
  std::string intent_tmp() const { return log_dir() + "/intent.tmp"; }
  std::string trash_dir() const { return root_ + "/trash"; }
  // Where a file thrown away goes: trash/<its name>. Names in segments/ are never reused while
  // a file of the same name exists, so two files never meet there.
  std::string trash_place(std::string_view path) const;

  std::string segment_meta(SegmentId id) const;
  std::string segment_data(SegmentId id, std::uint32_t generation) const;
  std::string image_dir(std::string_view image) const;
  std::string recipe(std::string_view image, VersionNumber version) const;
  std::string gone_marker(std::string_view image, VersionNumber version) const;

 private:
  std::string root_;
};

inline constexpr std::string_view kStagedSuffix = ".next";
inline std::string staged_path(std::string_view path) {
  return std::string(path) + std::string(kStagedSuffix);
}

// The directory part of a path ("" for a bare name).
std::string_view parent_dir(std::string_view path);

struct SegmentFileName {
  SegmentId id = 0;
  bool is_meta = false;
  std::uint32_t generation = 0;  // data files
};
std::optional<SegmentFileName> parse_segment_file(std::string_view name);

struct VersionFileName {
  VersionNumber version = 0;
  bool is_recipe = false;  // else a gone marker
};
std::optional<VersionFileName> parse_version_file(std::string_view name);

bool is_staged_name(std::string_view name);

// 1-128 bytes of [A-Za-z0-9._-], not starting with '.' nor ending in ".next".
bool valid_image_name(std::string_view image);

}  // namespace doppel::dedup
