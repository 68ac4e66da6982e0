#pragma once
// What the clients of a backup store know of the versions it holds, and so
// what it must answer: the oracle of the `restorable` property.
//
// Every acknowledged commit names its version number and the series content
// it holds. A commit whose answer was lost may or may not have happened: its
// content is "maybe committed", and a version the clients never heard of may
// hold any such content (never anything else). A removal in flight may or may
// not happen; an acknowledged one must stick. So after the faults:
//   - every listed version holds the content the clients committed for it
//     (or, unknown to them, some maybe-committed content);
//   - every acknowledged version that no removal was sent for is listed;
//   - no acknowledged removal is listed again.
// The bytes themselves come from the ImageSeries (image_series.h).

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace doppel::properties::dedup {

using VersionNumber = std::uint64_t;

class BackupLedger {
 public:
  // An acknowledged commit; false if that version number was acknowledged before (a store that
  // hands out a number twice).
  bool committed(std::uint32_t image, VersionNumber version, std::uint32_t content);
  // A commit of `content` whose answer never came.
  void maybe_committed(std::uint32_t image, std::uint32_t content);
  // A removal is being sent (the version may be gone from now on); it was acknowledged.
  void removing(std::uint32_t image, VersionNumber version);
  void removed(std::uint32_t image, VersionNumber version);

  // Acknowledged versions no removal was sent for, by version, with their content.
  std::vector<std::pair<VersionNumber, std::uint32_t>> live(std::uint32_t image) const;
  // Live versions but the newest: what a client may remove.
  std::vector<VersionNumber> removable(std::uint32_t image) const;
  // The contents a listed version may hold.
  std::vector<std::uint32_t> candidates(std::uint32_t image, VersionNumber version) const;
  // What is wrong with a listing of the image's versions, if anything.
  std::optional<std::string> judge_listing(std::uint32_t image,
                                           const std::set<VersionNumber>& listed) const;

  // What the clients know of one image's versions, for an oracle that reads the store's files.
  struct ImageKnowledge {
    std::set<VersionNumber> live;        // acknowledged, no removal sent: must be stored
    std::set<VersionNumber> maybe_gone;  // a removal was sent, its answer never came
    std::set<VersionNumber> removed;     // the removal was acknowledged: must be gone
    // Commits whose answer never came: at most this many versions no client heard of.
    std::uint64_t unknown_commits = 0;
  };
  ImageKnowledge knowledge(std::uint32_t image) const;

 private:
  struct Known {
    std::uint32_t content = 0;
    bool removing = false;  // a removal was sent: it may be gone
    bool removed = false;   // the removal was acknowledged
  };
  std::map<std::uint32_t, std::map<VersionNumber, Known>> known_;
  std::map<std::uint32_t, std::set<std::uint32_t>> maybe_;
  std::map<std::uint32_t, std::uint64_t> unknown_commits_;
};

}  // namespace doppel::properties::dedup
