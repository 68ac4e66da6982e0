#include "components/dvv/store/membership.h"

#include <algorithm>

#include "components/dvv/store/checked_file.h"
#include "runtime/assert.h"

namespace doppel::dvv {

namespace {

constexpr const char* kTempFile = "ring.tmp";

RingState first_ring(const DvvSettings& config, NodeIndex nodes) {
  const NodeIndex members = config.members == 0 ? nodes : std::min(config.members, nodes);
  return RingState::initial(config.partitions, nodes, members);
}

}  // namespace

Membership::Membership(Runtime& rt, const DvvSettings& config, NodeIndex self, NodeIndex nodes)
    : rt_(rt),
      config_(config),
      self_(self),
      state_(first_ring(config, nodes)),
      ring_(state_.ring()),
      next_(state_.next_ring()),
      save_lock_(rt) {
  DOPPEL_ASSERT(self < nodes);
}

bool Membership::serves(NodeIndex node, std::uint32_t partition, std::uint32_t n_val) const {
  for (const Ring* r : {&ring_, &next_}) {
    const auto prim = r->primaries(partition, n_val);
    if (std::find(prim.begin(), prim.end(), node) != prim.end()) return true;
  }
  return false;
}

bool Membership::serves_all(NodeIndex node, std::uint32_t partition,
                            const std::set<std::uint32_t>& n_vals) const {
  return std::all_of(n_vals.begin(), n_vals.end(),
                     [&](std::uint32_t n) { return serves(node, partition, n); });
}

std::vector<NodeIndex> Membership::newcomers(std::uint32_t partition, std::uint32_t n_val) const {
  std::vector<NodeIndex> out;
  if (!state_.pending()) return out;
  const auto now = ring_.primaries(partition, n_val);
  for (NodeIndex n : next_.primaries(partition, n_val)) {
    if (std::find(now.begin(), now.end(), n) == now.end()) out.push_back(n);
  }
  return out;
}

Result<bool> Membership::adopt(const RingState& theirs) {
  {
    LockGuard guard(save_lock_);
    if (!newer(theirs, state_)) return false;
    if (theirs.members.size() != state_.members.size() ||
        theirs.owner.size() != state_.owner.size()) {
      // Another cluster's configuration (or a peer configured otherwise): never taken.
      rt_.record(Event("DvvRingRefused", Severity::warning)
                     .detail("nodes", theirs.members.size())
                     .detail("partitions", theirs.owner.size()));
      return make_error(Errc::invalid_argument,
                        "a ring of " + std::to_string(theirs.members.size()) + " nodes and " +
                            std::to_string(theirs.owner.size()) + " partitions; this node has " +
                            std::to_string(state_.members.size()) + " and " +
                            std::to_string(state_.owner.size()));
    }
    // Used once saved: a crash must not take back a ring the node acted on.
    if (Status s = save(theirs); !s) return s.error();
    state_ = theirs;
    ring_ = state_.ring();
    next_ = state_.next_ring();
  }
  rt_.record(Event("DvvRingAdopted")
                 .detail("node", self_)
                 .detail("version", state_.version)
                 .detail("pending", state_.pending())
                 .detail("status", member_status_name(state_.members[self_])));
  for (auto& f : on_change_) f();
  return true;
}

Status Membership::save(const RingState& s) {
  return save_checked_file(rt_.fs(), kTempFile, kFile, encode_ring_state(s));
}

Status Membership::load() {
  auto bytes = load_checked_file(rt_.fs(), kFile);
  if (!bytes && bytes.code() == Errc::not_found) return {};
  if (!bytes && bytes.code() != Errc::corrupt) return bytes.error();
  auto decoded = bytes ? decode_ring_state(*bytes) : Result<RingState>(bytes.error());
  if (!decoded) {
    // The first ring until a peer gossips the cluster's (its version is higher).
    rt_.record(Event("DvvRingCorrupt", Severity::warning).detail("why", decoded.error().message()));
    return {};
  }
  if (decoded->members.size() != state_.members.size() ||
      decoded->owner.size() != state_.owner.size()) {
    return make_error(Errc::invalid_argument,
                      "the saved ring has " + std::to_string(decoded->members.size()) +
                          " nodes and " + std::to_string(decoded->owner.size()) +
                          " partitions, the configuration " +
                          std::to_string(state_.members.size()) + " peers and " +
                          std::to_string(state_.owner.size()) + " partitions");
  }
  state_ = std::move(*decoded);
  ring_ = state_.ring();
  next_ = state_.next_ring();
  return {};
}

}  // namespace doppel::dvv
