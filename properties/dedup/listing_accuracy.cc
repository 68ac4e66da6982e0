#include "properties/dedup/listing_accuracy.h"

#include <algorithm>
#include <set>

namespace doppel::properties::dedup {
namespace {

std::string describe(const ImageCount& x) {
  return std::to_string(x.versions) + " versions " + std::to_string(x.oldest) + ".." +
         std::to_string(x.latest) + " of " + std::to_string(x.logical_bytes) +
         " bytes, the latest " + std::to_string(x.latest_bytes);
}

bool operator==(const ImageCount& a, const ImageCount& b) {
  return a.name == b.name && a.versions == b.versions && a.oldest == b.oldest &&
         a.latest == b.latest && a.latest_bytes == b.latest_bytes &&
         a.logical_bytes == b.logical_bytes;
}

}  // namespace

std::optional<std::string> judge_listing(const std::vector<MatchedImage>& matched,
                                         const std::vector<ImageCount>& told,
                                         std::uint64_t stats_versions,
                                         std::uint64_t stats_logical_bytes) {
  std::uint64_t versions = 0, bytes = 0;
  std::set<std::string> expected;
  for (const MatchedImage& image : matched) {
    if (image.sizes.empty()) continue;
    ImageCount want{image.name,
                    image.sizes.size(),
                    image.sizes.begin()->first,
                    image.sizes.rbegin()->first,
                    image.sizes.rbegin()->second,
                    0};
    for (const auto& [v, size] : image.sizes) want.logical_bytes += size;
    versions += want.versions;
    bytes += want.logical_bytes;
    expected.insert(want.name);
    const auto it = std::find_if(told.begin(), told.end(),
                                 [&](const ImageCount& c) { return c.name == want.name; });
    if (it == told.end()) {
      return "GET /images does not list " + want.name + "; the listing holds " + describe(want);
    }
    if (!(*it == want)) {
      return "GET /images says " + want.name + " has " + describe(*it) + "; the listing holds " +
             describe(want);
    }
  }
  for (const ImageCount& c : told) {
    if (c.versions > 0 && !expected.contains(c.name)) {
      return "GET /images lists " + c.name + " with " + std::to_string(c.versions) +
             " versions no listing shows";
    }
  }
  if (stats_versions != versions || stats_logical_bytes != bytes) {
    return "GET /stats counts " + std::to_string(stats_versions) + " versions of " +
           std::to_string(stats_logical_bytes) + " bytes; the listings hold " +
           std::to_string(versions) + " of " + std::to_string(bytes);
  }
  return std::nullopt;
}

}  // namespace doppel::properties::dedup
