#include "components/dvv/store/ring_state.h"

#include <algorithm>
#include <map>
#include <set>

#include "components/dvv/store/wire.h"
#include "runtime/assert.h"

namespace doppel::dvv {

namespace {

constexpr NodeIndex kUnowned = ~NodeIndex{0};

Error invalid(const std::string& what) {
  return make_error(Errc::invalid_argument, what);
}

// Partitions in bit-reversed order: any prefix of it is spread evenly over the ring, so the
// partitions a claim moves are too.
std::vector<std::uint32_t> spread_order(std::uint32_t partitions) {
  std::uint32_t bits = 0;
  while ((1u << bits) < partitions) ++bits;
  std::vector<std::uint32_t> order;
  order.reserve(partitions);
  for (std::uint32_t i = 0; i < partitions; ++i) {
    std::uint32_t r = 0;
    for (std::uint32_t b = 0; b < bits; ++b) r |= ((i >> b) & 1u) << (bits - 1 - b);
    order.push_back(r);
  }
  return order;
}

// Whether `node` owns a partition within n_val - 1 of `p` (p itself excluded).
bool near(const std::vector<NodeIndex>& owner, std::uint32_t p, NodeIndex node,
          std::uint32_t n_val) {
  const auto partitions = static_cast<std::uint32_t>(owner.size());
  for (std::uint32_t d = 1; d < n_val && d < partitions; ++d) {
    if (owner[(p + d) % partitions] == node) return true;
    if (owner[(p + partitions - d) % partitions] == node) return true;
  }
  return false;
}

}  // namespace

std::string_view member_status_name(MemberStatus s) {
  switch (s) {
    case MemberStatus::none:
      return "none";
    case MemberStatus::joining:
      return "joining";
    case MemberStatus::valid:
      return "valid";
    case MemberStatus::leaving:
      return "leaving";
  }
  return "?";
}

std::string describe(const MemberChange& c) {
  const std::string n = "node " + std::to_string(c.node);
  switch (c.kind) {
    case MemberChange::Kind::join:
      return n + " joins";
    case MemberChange::Kind::leave:
      return n + " leaves";
    case MemberChange::Kind::replace:
      return n + " is replaced by node " + std::to_string(c.with);
    case MemberChange::Kind::force_remove:
      return n + " is removed (force)";
  }
  return n;
}

RingState RingState::initial(std::uint32_t partitions, NodeIndex nodes, NodeIndex members) {
  DOPPEL_ASSERT(nodes >= 1 && nodes <= kNodesMax);
  DOPPEL_ASSERT(members >= 1 && members <= nodes && members <= partitions);
  RingState s;
  s.members.assign(nodes, MemberStatus::none);
  for (NodeIndex n = 0; n < members; ++n) s.members[n] = MemberStatus::valid;
  s.owner = Ring(partitions, members).owner_list();
  s.handed_off.assign(nodes, false);
  return s;
}

bool RingState::member(NodeIndex n) const {
  return n < members.size() && members[n] != MemberStatus::none;
}

std::optional<NodeIndex> RingState::claimant() const {
  for (NodeIndex n = 0; n < members.size(); ++n) {
    if (members[n] == MemberStatus::valid) return n;
  }
  return std::nullopt;
}

std::vector<NodeIndex> RingState::awaiting_handoff() const {
  std::vector<NodeIndex> out;
  if (!pending()) return out;
  for (NodeIndex n = 0; n < members.size(); ++n) {
    const bool holds = members[n] == MemberStatus::valid || members[n] == MemberStatus::leaving;
    if (holds && !handed_off[n]) out.push_back(n);
  }
  return out;
}

std::vector<NodeIndex> claim(const std::vector<NodeIndex>& owner,
                             const std::vector<NodeIndex>& members, std::uint32_t n_val) {
  const auto partitions = static_cast<std::uint32_t>(owner.size());
  const auto m = static_cast<std::uint32_t>(members.size());
  DOPPEL_ASSERT(m >= 1 && m <= partitions);
  DOPPEL_ASSERT(std::is_sorted(members.begin(), members.end()));
  std::map<NodeIndex, std::uint32_t> count;
  for (NodeIndex n : members) count[n] = 0;
  DOPPEL_ASSERT(count.size() == m);  // distinct
  for (NodeIndex o : owner) {
    if (auto it = count.find(o); it != count.end()) ++it->second;
  }
  // Shares: partitions / m each, one more for the (partitions % m) members that hold the most
  // now, so that as few partitions move as can.
  std::vector<NodeIndex> by_held = members;
  std::stable_sort(by_held.begin(), by_held.end(),
                   [&](NodeIndex a, NodeIndex b) { return count[a] > count[b]; });
  std::map<NodeIndex, std::uint32_t> share;
  for (std::uint32_t i = 0; i < m; ++i) share[by_held[i]] = partitions / m + (i < partitions % m);

  std::vector<NodeIndex> out = owner;
  const std::vector<std::uint32_t> order = spread_order(partitions);
  // Release: every partition of a non-member; a member over its share gives up first the
  // partitions next to another of its own, then spread ones.
  for (std::uint32_t p = 0; p < partitions; ++p) {
    if (!count.contains(out[p])) out[p] = kUnowned;
  }
  for (bool crowded_only : {true, false}) {
    for (std::uint32_t p : order) {
      const NodeIndex o = out[p];
      if (o == kUnowned || count[o] <= share[o]) continue;
      if (crowded_only && !near(out, p, o, n_val)) continue;
      out[p] = kUnowned;
      --count[o];
    }
  }
  // Claim: each released partition to a member below its share, one not near it if any.
  for (std::uint32_t p : order) {
    if (out[p] != kUnowned) continue;
    std::optional<NodeIndex> best;
    bool best_far = false;
    for (NodeIndex n : members) {
      if (count[n] >= share[n]) continue;
      const bool far = !near(out, p, n, n_val);
      const auto deficit = [&](NodeIndex x) { return share[x] - count[x]; };
      if (!best || (far && !best_far) || (far == best_far && deficit(n) > deficit(*best))) {
        best = n;
        best_far = far;
      }
    }
    DOPPEL_ASSERT(best.has_value());  // the deficits add up to the partitions released
    out[p] = *best;
    ++count[*best];
  }
  for (NodeIndex n : members) DOPPEL_ASSERT(count[n] == share[n]);
  return out;
}

Result<RingState> plan_changes(const RingState& now, const std::vector<MemberChange>& changes,
                               std::uint32_t n_val) {
  if (now.pending()) return invalid("a transition is pending; commit once it settles");
  if (changes.empty()) return invalid("no changes are staged");
  RingState s = now;
  std::set<NodeIndex> named;
  std::vector<std::pair<NodeIndex, NodeIndex>> replaced;
  const auto nodes = static_cast<NodeIndex>(now.members.size());
  for (const MemberChange& c : changes) {
    const bool two = c.kind == MemberChange::Kind::replace;
    if (c.node >= nodes || (two && c.with >= nodes)) {
      return invalid(describe(c) + ": the cluster is configured with nodes 0.." +
                     std::to_string(nodes - 1));
    }
    if (!named.insert(c.node).second || (two && !named.insert(c.with).second)) {
      return invalid(describe(c) + ": another staged change names the same node");
    }
    auto& status = s.members[c.node];
    switch (c.kind) {
      case MemberChange::Kind::join:
        if (status != MemberStatus::none) return invalid(describe(c) + ": it is a member");
        status = MemberStatus::joining;
        break;
      case MemberChange::Kind::leave:
        if (status != MemberStatus::valid) return invalid(describe(c) + ": it is no valid member");
        status = MemberStatus::leaving;
        break;
      case MemberChange::Kind::replace:
        if (status != MemberStatus::valid) return invalid(describe(c) + ": it is no valid member");
        if (s.members[c.with] != MemberStatus::none) {
          return invalid(describe(c) + ": node " + std::to_string(c.with) + " is a member");
        }
        status = MemberStatus::leaving;
        s.members[c.with] = MemberStatus::joining;
        replaced.emplace_back(c.node, c.with);
        break;
      case MemberChange::Kind::force_remove:
        if (status != MemberStatus::valid) return invalid(describe(c) + ": it is no valid member");
        // Gone now: it hands nothing off, and owns nothing once the transition settles.
        status = MemberStatus::none;
        break;
    }
  }
  std::vector<NodeIndex> next_members;
  for (NodeIndex n = 0; n < nodes; ++n) {
    const MemberStatus st = s.members[n];
    const bool replacing =
        std::any_of(replaced.begin(), replaced.end(), [n](const auto& r) { return r.second == n; });
    if ((st == MemberStatus::valid || st == MemberStatus::joining) && !replacing) {
      next_members.push_back(n);
    }
  }
  // A replacement takes over exactly the partitions of the node it replaces.
  std::vector<NodeIndex> base = now.owner;
  for (auto& [old, with] : replaced) std::replace(base.begin(), base.end(), old, with);
  for (auto& [old, with] : replaced) {
    (void)old;
    next_members.push_back(with);
  }
  std::sort(next_members.begin(), next_members.end());
  if (next_members.empty() || !s.claimant()) {
    return invalid("the changes leave the cluster with no valid member");
  }
  // A leave that takes the cluster below n_val members would leave keys with fewer replicas
  // than their buckets ask for, and quorums of all unreachable: refused (join a node first).
  // A force-removal is not: the node it removes is gone either way.
  const auto valid_now = static_cast<std::size_t>(
      std::count(now.members.begin(), now.members.end(), MemberStatus::valid));
  const bool leaves = std::any_of(changes.begin(), changes.end(), [](const MemberChange& c) {
    return c.kind == MemberChange::Kind::leave;
  });
  if (leaves && next_members.size() < n_val && next_members.size() < valid_now) {
    return invalid("the changes leave " + std::to_string(next_members.size()) +
                   " members, fewer than n_val " + std::to_string(n_val) +
                   ": join a node first (or force-remove one that is gone)");
  }
  if (next_members.size() > now.owner.size()) {
    return invalid("more members than the ring's " + std::to_string(now.owner.size()) +
                   " partitions");
  }
  s.next = replaced.size() == changes.size() ? base : claim(base, next_members, n_val);
  s.handed_off.assign(nodes, false);
  ++s.version;
  return s;
}

RingState settle(const RingState& now) {
  DOPPEL_ASSERT(now.pending());
  RingState s = now;
  s.owner = now.next;
  s.next.clear();
  s.handed_off.assign(s.members.size(), false);
  for (auto& st : s.members) {
    if (st == MemberStatus::joining) st = MemberStatus::valid;
    if (st == MemberStatus::leaving) st = MemberStatus::none;
  }
  ++s.version;
  return s;
}

std::optional<RingState> mark_handed_off(const RingState& now, NodeIndex node) {
  if (!now.pending() || node >= now.handed_off.size() || now.handed_off[node]) return std::nullopt;
  RingState s = now;
  s.handed_off[node] = true;
  ++s.version;
  return s;
}

bool newer(const RingState& a, const RingState& b) {
  if (a.version != b.version) return a.version > b.version;
  return encode_ring_state(a) > encode_ring_state(b);
}

std::string encode_ring_state(const RingState& s) {
  WireWriter w;
  w.varint(s.version);
  w.varint(s.members.size());
  for (MemberStatus st : s.members) w.u8(static_cast<std::uint8_t>(st));
  for (bool h : s.handed_off) w.u8(h ? 1 : 0);
  w.varint(s.owner.size());
  for (NodeIndex o : s.owner) w.varint(o);
  w.u8(s.pending() ? 1 : 0);
  for (NodeIndex o : s.next) w.varint(o);
  return w.take();
}

Result<RingState> decode_ring_state(std::string_view bytes) {
  WireReader r(bytes);
  RingState s;
  s.version = r.varint();
  const std::uint64_t nodes = r.varint();
  if (!r.ok() || nodes < 1 || nodes > RingState::kNodesMax) return invalid("ring state: nodes");
  for (std::uint64_t i = 0; i < nodes; ++i) {
    const std::uint8_t st = r.u8();
    if (st > static_cast<std::uint8_t>(MemberStatus::leaving)) return invalid("ring state: status");
    s.members.push_back(static_cast<MemberStatus>(st));
  }
  for (std::uint64_t i = 0; i < nodes; ++i) {
    const std::uint8_t h = r.u8();
    if (h > 1) return invalid("ring state: handed off");
    s.handed_off.push_back(h == 1);
  }
  const std::uint64_t partitions = r.varint();
  if (!r.ok() || partitions < 1 || partitions > Ring::kPartitionsMax ||
      (partitions & (partitions - 1)) != 0) {
    return invalid("ring state: partitions");
  }
  const auto owners = [&](std::vector<NodeIndex>& out) {
    for (std::uint64_t p = 0; p < partitions; ++p) {
      const std::uint64_t o = r.varint();
      if (o >= nodes) return false;
      out.push_back(static_cast<NodeIndex>(o));
    }
    return r.ok();
  };
  if (!owners(s.owner)) return invalid("ring state: owners");
  const std::uint8_t pending = r.u8();
  if (pending > 1 || (pending == 1 && !owners(s.next))) return invalid("ring state: next owners");
  if (!r.done()) return invalid("ring state: trailing bytes");
  return s;
}

}  // namespace doppel::dvv
