#include "scenarios/dvv/membership_admin.h"

#include <algorithm>

#include "base/json.h"
#include "runtime/assert.h"

namespace doppel::scenarios {

using namespace std::chrono_literals;
using doppel::dvv::MemberStatus;
using doppel::dvv::NodeIndex;

Result<ClusterStatus> parse_cluster_status(std::string_view json) {
  auto v = JsonValue::parse(json);
  if (!v) return v.error();
  ClusterStatus s;
  auto version = v->u64("version");
  auto pending = v->boolean("pending");
  auto owners = v->array("owners");
  auto members = v->array("members");
  if (!version || !pending || !owners || !members) {
    return make_error(Errc::protocol, "a cluster status without version, pending, owners, members");
  }
  s.version = *version;
  s.pending = *pending;
  for (const JsonValue& o : (*owners)->items())
    s.owners.push_back(static_cast<NodeIndex>(o.number()));
  for (const JsonValue& m : (*members)->items()) {
    auto st = m.string("status");
    if (!st) return st.error();
    MemberStatus ms = MemberStatus::none;
    for (auto k :
         {MemberStatus::none, MemberStatus::joining, MemberStatus::valid, MemberStatus::leaving}) {
      if (doppel::dvv::member_status_name(k) == *st) ms = k;
    }
    s.members.push_back(ms);
  }
  return s;
}

MembershipAdmin::MembershipAdmin(Runtime& rt, std::uint32_t nodes, std::uint32_t members_min,
                                 Duration timeout, ClientOf client_of, Reached reached,
                                 Machines machines)
    : rt_(rt),
      nodes_(nodes),
      members_min_(members_min),
      timeout_(timeout),
      client_of_(std::move(client_of)),
      reached_(std::move(reached)),
      machines_(std::move(machines)) {}

std::vector<std::uint32_t> MembershipAdmin::powered_nodes() const {
  std::vector<std::uint32_t> out;
  for (std::uint32_t n = 0; n < nodes_; ++n) {
    if (machines_.powered(n)) out.push_back(n);
  }
  return out;
}

void MembershipAdmin::retire_departed() {
  for (auto it = departing_.begin(); it != departing_.end();) {
    const auto [n, staged_at] = *it;
    auto s = status(n);
    bool left = s && s->version > staged_at && !s->pending && n < s->members.size() &&
                s->members[n] == MemberStatus::none;
    // Its own ring must be the newest any machine holds: a node that left may have been asked
    // to join again since (dvv-membership seed 295: it was, and powered off while joining, the
    // ring never settled; the leave had been staged through a node with an older ring).
    for (std::uint32_t m : powered_nodes()) {
      if (!left || m == n) continue;
      auto theirs = status(m);
      left = theirs && theirs->version <= s->version;
    }
    auto held = left ? unserved(n) : Result<std::uint64_t>(make_error(Errc::not_found, "not left"));
    if (!held || *held > 0) {
      ++it;
      continue;
    }
    rt_.record(Event("DvvAdminPowerOff").detail("node", n));
    machines_.power_off(n);
    reached_("membership:power-off");
    it = departing_.erase(it);
  }
}

Result<ClusterStatus> MembershipAdmin::status(std::uint32_t n) {
  auto text = client_of_(n).cluster_status(rt_.now() + timeout_);
  if (!text) return text.error();
  return parse_cluster_status(*text);
}

Result<std::uint64_t> MembershipAdmin::unserved(std::uint32_t n) {
  http::ClientRequest req;
  req.target = "/stats";
  auto r = client_of_(n).raw(req, rt_.now() + timeout_);
  if (!r) return r.error();
  auto v = JsonValue::parse(r->body);
  if (!v) return v.error();
  return v->u64("unserved");
}

void MembershipAdmin::run(Duration mean_gap, const std::function<bool()>& stop) {
  while (!stop()) {
    rt_.sleep(Duration(rt_.random().between(0, 2 * mean_gap.count())));
    if (!stop()) change_once();
  }
}

void MembershipAdmin::change_once() {
  Prng& rng = rt_.random();
  retire_departed();
  const std::vector<std::uint32_t> up = powered_nodes();
  if (up.empty()) return;
  const std::uint32_t via = up[rng.below(up.size())];
  auto s = status(via);
  if (!s) return;
  if (s->pending) {
    reached_("membership:waited-for-handoff");
    return;  // one transition at a time
  }
  std::vector<NodeIndex> valid, spare;
  for (NodeIndex n = 0; n < s->members.size(); ++n) {
    if (s->members[n] == MemberStatus::valid) valid.push_back(n);
    if (s->members[n] == MemberStatus::none) spare.push_back(n);
  }
  enum Op { kJoin, kLeave, kReplace };
  std::vector<Op> ops;
  if (!spare.empty()) ops.push_back(kJoin);
  if (valid.size() > members_min_) ops.push_back(kLeave);
  if (!spare.empty() && !valid.empty()) ops.push_back(kReplace);
  if (ops.empty()) return;
  doppel::dvv::RiakClient& c = client_of_(via);
  const Instant deadline = rt_.now() + timeout_;
  // Changes another attempt staged and never committed (its commit answer lost, the claimant
  // restarted) would make this one's refused.
  if (!c.cluster_clear(deadline)) return;
  const Op op = ops[rng.below(ops.size())];
  const NodeIndex member = valid.empty() ? 0 : valid[rng.below(valid.size())];
  const NodeIndex newcomer = spare.empty() ? 0 : spare[rng.below(spare.size())];
  if (op == kJoin || op == kReplace) {
    // Racked and booted before it joins; from now on, whatever the commit's answer, it may be
    // a member: never powered off for an older leave.
    departing_.erase(newcomer);
    if (!machines_.powered(newcomer)) {
      rt_.record(Event("DvvAdminPowerOn").detail("node", newcomer));
      machines_.power_on(newcomer);
      reached_("membership:power-on");
    }
  }
  if (op == kLeave || op == kReplace) departing_[member] = s->version;
  Result<std::string> staged = make_error(Errc::invalid_argument);
  const char* name = "";
  switch (op) {
    case kJoin:
      name = "join";
      staged = c.cluster_change(name, newcomer, std::nullopt, deadline);
      break;
    case kLeave:
      name = "leave";
      staged = c.cluster_change(name, member, std::nullopt, deadline);
      break;
    case kReplace:
      name = "replace";
      staged = c.cluster_change(name, member, newcomer, deadline);
      break;
  }
  rt_.record(Event("DvvAdminStage")
                 .detail("via", via)
                 .detail("op", name)
                 .detail("ok", staged.ok())
                 .detail("why", staged ? "" : staged.error().message()));
  if (!staged) {
    if (staged.code() == Errc::invalid_argument) ++refused_;
    return;
  }
  // Now and then a second change in the same commit (a join with a leave, as Riak allows).
  if (op == kJoin && valid.size() > members_min_ && rng.chance(1, 3)) {
    departing_[member] = s->version;
    if (c.cluster_change("leave", member, std::nullopt, deadline))
      reached_("membership:join+leave");
  }
  if (rng.chance(1, 4)) (void)c.cluster_plan(deadline);
  auto committed = c.cluster_change("commit", std::nullopt, std::nullopt, deadline);
  rt_.record(Event("DvvAdminCommit")
                 .detail("via", via)
                 .detail("op", name)
                 .detail("ok", committed.ok())
                 .detail("why", committed ? "" : committed.error().message()));
  if (committed) {
    ++committed_;
    reached_(std::string("membership:") + name);
  }
}

Result<ClusterStatus> MembershipAdmin::settled(Instant deadline) {
  std::string last = "no node answered";
  while (rt_.now() < deadline) {
    std::optional<ClusterStatus> agreed;
    bool ok = true;
    const std::vector<std::uint32_t> up = powered_nodes();
    for (std::uint32_t n : up) {
      if (!ok) break;
      auto s = status(n);
      if (!s) {
        last = "node " + std::to_string(n) + " did not answer: " + s.error().message();
        ok = false;
      } else if (s->pending) {
        last = "node " + std::to_string(n) + " holds ring version " + std::to_string(s->version) +
               " with a transition pending";
        ok = false;
      } else if (agreed && (s->version != agreed->version || s->owners != agreed->owners)) {
        last = "nodes hold ring versions " + std::to_string(agreed->version) + " and " +
               std::to_string(s->version);
        ok = false;
      } else {
        agreed = std::move(*s);
      }
    }
    if (ok && agreed) {
      for (NodeIndex o : agreed->owners) {
        if (o >= agreed->members.size() || agreed->members[o] != MemberStatus::valid) {
          return make_error(Errc::corrupt, "partition owned by node " + std::to_string(o) +
                                               ", which is no valid member");
        }
        if (!machines_.powered(o)) {
          return make_error(Errc::corrupt, "partition owned by node " + std::to_string(o) +
                                               ", which the operator powered off");
        }
      }
      // Every node gave the replicas of keys it no longer serves to their owners and dropped
      // them (a node that left serves none).
      for (std::uint32_t n : up) {
        if (!ok) break;
        auto held = unserved(n);
        if (!held || *held > 0) {
          last = "node " + std::to_string(n) + " holds " +
                 (held ? std::to_string(*held) + " replicas of keys it no longer serves"
                       : held.error().message());
          ok = false;
        }
      }
      if (ok) return std::move(*agreed);
    }
    rt_.sleep(200ms);
  }
  return make_error(Errc::timed_out, last);
}

}  // namespace doppel::scenarios
