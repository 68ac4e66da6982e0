#include "properties/dedup/backup_ledger.h"

#include "runtime/assert.h"

namespace doppel::properties::dedup {

bool BackupLedger::committed(std::uint32_t image, VersionNumber version, std::uint32_t content) {
  return known_[image].emplace(version, Known{content}).second;
}

void BackupLedger::maybe_committed(std::uint32_t image, std::uint32_t content) {
  maybe_[image].insert(content);
  ++unknown_commits_[image];
}

void BackupLedger::removing(std::uint32_t image, VersionNumber version) {
  const auto it = known_[image].find(version);
  DOPPEL_ASSERT_MSG(it != known_[image].end(), "removing a version no client committed");
  it->second.removing = true;
}

void BackupLedger::removed(std::uint32_t image, VersionNumber version) {
  Known& k = known_[image].at(version);
  DOPPEL_ASSERT(k.removing);
  k.removed = true;
}

std::vector<std::pair<VersionNumber, std::uint32_t>> BackupLedger::live(std::uint32_t image) const {
  std::vector<std::pair<VersionNumber, std::uint32_t>> out;
  const auto it = known_.find(image);
  if (it == known_.end()) return out;
  for (const auto& [v, k] : it->second) {
    if (!k.removing) out.emplace_back(v, k.content);
  }
  return out;
}

std::vector<VersionNumber> BackupLedger::removable(std::uint32_t image) const {
  std::vector<VersionNumber> out;
  const auto it = known_.find(image);
  if (it == known_.end() || it->second.empty()) return out;
  const VersionNumber newest = it->second.rbegin()->first;
  for (const auto& [v, k] : it->second) {
    if (!k.removing && v != newest) out.push_back(v);
  }
  return out;
}

std::vector<std::uint32_t> BackupLedger::candidates(std::uint32_t image,
                                                    VersionNumber version) const {
  if (const auto it = known_.find(image); it != known_.end()) {
    if (const auto k = it->second.find(version); k != it->second.end()) return {k->second.content};
  }
  const auto m = maybe_.find(image);
  if (m == maybe_.end()) return {};
  return {m->second.begin(), m->second.end()};
}

std::optional<std::string> BackupLedger::judge_listing(
    std::uint32_t image, const std::set<VersionNumber>& listed) const {
  const auto it = known_.find(image);
  if (it == known_.end()) return std::nullopt;
  for (const auto& [v, k] : it->second) {
    if (!k.removing && listed.count(v) == 0) {
      return "version " + std::to_string(v) + " was acknowledged, never removed, and is gone";
    }
    if (k.removed && listed.count(v) != 0) {
      return "version " + std::to_string(v) + " was removed and is back";
    }
  }
  return std::nullopt;
}

BackupLedger::ImageKnowledge BackupLedger::knowledge(std::uint32_t image) const {
  ImageKnowledge k;
  if (const auto u = unknown_commits_.find(image); u != unknown_commits_.end()) {
    k.unknown_commits = u->second;
  }
  const auto it = known_.find(image);
  if (it == known_.end()) return k;
  for (const auto& [v, known] : it->second) {
    if (known.removed) {
      k.removed.insert(v);
    } else if (known.removing) {
      k.maybe_gone.insert(v);
    } else {
      k.live.insert(v);
    }
  }
  return k;
}

}  // namespace doppel::properties::dedup
