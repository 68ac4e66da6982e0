#pragma once
// Property "listing-accurate": what the store says it holds (GET /images per
// image, GET /stats in total) against the versions of the final listing,
// each of which the driver matched byte for byte to content a client
// committed, so that its size is the series', not the server's word.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace doppel::properties::dedup {

// One image as the store summarises it, or as the matched versions say it should.
struct ImageCount {
  std::string name;
  std::uint64_t versions = 0;
  std::uint64_t oldest = 0;
  std::uint64_t latest = 0;
  std::uint64_t latest_bytes = 0;
  std::uint64_t logical_bytes = 0;
};

struct MatchedImage {
  std::string name;
  std::map<std::uint64_t, std::uint64_t> sizes;  // version -> its committed content's size
};

// The first disagreement, or nullopt: every image with matched versions is
// summarised exactly, no other image is summarised with versions, and the
// totals (stats_versions, stats_logical_bytes) are the sums.
std::optional<std::string> judge_listing(const std::vector<MatchedImage>& matched,
                                         const std::vector<ImageCount>& told,
                                         std::uint64_t stats_versions,
                                         std::uint64_t stats_logical_bytes);

}  // namespace doppel::properties::dedup
