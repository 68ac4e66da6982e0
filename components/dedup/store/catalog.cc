#include "components/dedup/store/catalog.h"

namespace doppel::dedup {

void Catalog::put(std::string_view image, const VersionSummary& summary) {
  DOPPEL_ASSERT(summary.version != 0 && summary.space.total() == summary.image_bytes);
  auto it = images_.find(image);
  if (it == images_.end()) it = images_.emplace(std::string(image), ImageVersions{}).first;
  ImageVersions& iv = it->second;
  auto [v, inserted] = iv.versions.try_emplace(summary.version, summary);
  if (!inserted) {
    space_ -= v->second.space;
    saved_ -= v->second.saved;
    v->second = summary;
  } else {
    ++versions_;
  }
  space_ += summary.space;
  saved_ += summary.saved;
  iv.highest_taken = std::max(iv.highest_taken, summary.version);
}

void Catalog::erase(std::string_view image, VersionNumber version) {
  auto it = images_.find(image);
  DOPPEL_ASSERT(it != images_.end());
  auto v = it->second.versions.find(version);
  DOPPEL_ASSERT(v != it->second.versions.end());
  space_ -= v->second.space;
  saved_ -= v->second.saved;
  --versions_;
  it->second.versions.erase(v);
}

void Catalog::note_taken(std::string_view image, VersionNumber version) {
  auto it = images_.find(image);
  if (it == images_.end()) it = images_.emplace(std::string(image), ImageVersions{}).first;
  it->second.highest_taken = std::max(it->second.highest_taken, version);
}

const ImageVersions* Catalog::find(std::string_view image) const {
  auto it = images_.find(image);
  return it == images_.end() ? nullptr : &it->second;
}

const VersionSummary* Catalog::find(std::string_view image, VersionNumber version) const {
  const ImageVersions* iv = find(image);
  if (iv == nullptr) return nullptr;
  auto v = iv->versions.find(version);
  return v == iv->versions.end() ? nullptr : &v->second;
}

std::optional<VersionNumber> Catalog::latest(std::string_view image) const {
  const ImageVersions* iv = find(image);
  if (iv == nullptr || iv->versions.empty()) return std::nullopt;
  return iv->versions.rbegin()->first;
}

VersionNumber Catalog::next_version(std::string_view image) const {
  const ImageVersions* iv = find(image);
  return iv == nullptr ? 1 : iv->highest_taken + 1;
}

std::size_t Catalog::image_count() const {
  std::size_t n = 0;
  for (const auto& [name, iv] : images_) n += iv.versions.empty() ? 0 : 1;
  return n;
}

}  // namespace doppel::dedup
