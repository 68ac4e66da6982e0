#include "scenarios/dvv/server_events.h"

#include <algorithm>

#include "components/dvv/store/membership.h"
#include "properties/dvv/log_records.h"

namespace doppel::scenarios {

namespace {

const Event::Detail* detail(const Event& e, std::string_view key) {
  for (int i = 0; i < e.detail_count(); ++i) {
    if (e.detail_at(i).key == key) return &e.detail_at(i);
  }
  return nullptr;
}

std::int64_t number(const Event& e, std::string_view key) {
  const Event::Detail* d = detail(e, key);
  return d ? d->number : -1;
}

}  // namespace

std::optional<RingHistory::NodeIndex> ServerEvents::server_index(sim::NodeId node) const {
  const auto it = std::find(servers_.begin(), servers_.end(), node);
  if (it == servers_.end()) return std::nullopt;
  return static_cast<RingHistory::NodeIndex>(it - servers_.begin());
}

void ServerEvents::observe(sim::NodeId node, const Event& e) {
  if (e.name() == "DvvRingAdopted" || e.name() == "DvvReplicaIdRenewed" ||
      e.name() == "DvvStarted") {
    const auto i = server_index(node);
    if (!i) return;
    const sim::SimDisk::Inode* f = world_.disk(node).inode_at(doppel::dvv::Membership::kFile);
    if (e.name() == "DvvRingAdopted") {
      // A bit the simulator flipped in it makes it unreadable (RingHistory::complete()).
      rings_.adopted(*i, f ? std::string_view(f->data) : std::string_view());
    } else if (e.name() == "DvvStarted") {
      // A boot takes what the file holds, which may be a ring saved just before a crash cut
      // its DvvRingAdopted off (dvv-membership seed 1223: a claimant's own change).
      rings_.booted(*i, f ? &f->data : nullptr);
    } else if (detail(e, "why") != nullptr) {
      rings_.renewed(*i);  // at boot (no why) the boot counts
    }
    return;
  }
  if (e.name() == "DvvReleased") {
    const auto i = server_index(node);
    const Event::Detail* key = detail(e, "key");
    if (released_ && i && key != nullptr) {
      released_(*i, std::string(key->text), static_cast<std::uint64_t>(number(e, "ring")));
    }
    return;
  }
  if (e.name() == "SimDiskCorrupt") {
    if (promises_ == nullptr) return;
    const Event::Detail* path = detail(e, "path");
    promises_->corrupted(static_cast<sim::NodeId>(number(e, "node")),
                         path ? path->text : std::string_view(),
                         static_cast<std::uint64_t>(number(e, "byte")));
    return;
  }
  if (!intact_logs_violated_) return;
  if (e.name() == "SimNodeBoot") {
    const auto n = static_cast<sim::NodeId>(number(e, "node"));
    if (!server_index(n)) return;
    const sim::SimDisk::Inode* log = world_.disk(n).inode_at("objects.log");
    intact_at_boot_[n] = log ? properties::dvv::intact_log_records(log->data) : 0;
  } else if (e.name() == "DvvLogReplayed") {
    const std::int64_t replayed = number(e, "records");
    const std::uint64_t intact = intact_at_boot_[node];
    if (replayed < static_cast<std::int64_t>(intact)) {
      intact_logs_violated_("dvv" + std::to_string(node) + " replayed " + std::to_string(replayed) +
                            " of the " + std::to_string(intact) +
                            " intact records its log held at boot");
    }
  }
}

}  // namespace doppel::scenarios
