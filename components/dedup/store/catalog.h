#pragma once
// The in-memory catalog of images and their versions: each version's size
// and how its bytes are reached (null, direct, indirect), from the recipe
// headers at boot. Recipes themselves stay on disk until needed.

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "components/dedup/store/recipe.h"

namespace doppel::dedup {

struct VersionSummary {
  VersionNumber version = 0;
  std::uint64_t image_bytes = 0;
  RecipeSpace space;
  CommitSavings saved;

  bool operator==(const VersionSummary&) const = default;
};

struct ImageVersions {
  std::map<VersionNumber, VersionSummary> versions;
  // The highest number ever taken (a removed newest version keeps its number
  // through a gone marker), so numbers are never reused.
  VersionNumber highest_taken = 0;
};

class Catalog {
 public:
  void clear() {
    images_.clear();
    space_ = RecipeSpace{};
    saved_ = CommitSavings{};
    versions_ = 0;
  }

  void put(std::string_view image, const VersionSummary& summary);
  void erase(std::string_view image, VersionNumber version);
  void note_taken(std::string_view image, VersionNumber version);

  const ImageVersions* find(std::string_view image) const;
  const VersionSummary* find(std::string_view image, VersionNumber version) const;
  // The newest version, if the image has any.
  std::optional<VersionNumber> latest(std::string_view image) const;
  VersionNumber next_version(std::string_view image) const;
  // Images with at least one version (an image whose versions were all
  // removed keeps an entry for its highest_taken).
  const std::map<std::string, ImageVersions, std::less<>>& images() const { return images_; }
  std::size_t image_count() const;
  std::uint64_t version_count() const { return versions_; }
  RecipeSpace space() const { return space_; }
  CommitSavings saved() const { return saved_; }

 private:
  std::map<std::string, ImageVersions, std::less<>> images_;
  RecipeSpace space_;
  CommitSavings saved_;
  std::uint64_t versions_ = 0;
};

}  // namespace doppel::dedup
