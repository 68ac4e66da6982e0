// Membership as data (ring_state.h): the claim keeps partitions balanced and moves as few as
// it can, changes plan and settle into rings every member agrees on, and the state's encoding
// round-trips and refuses what is not a state.

#include "components/dvv/store/ring_state.h"

#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <set>

using namespace doppel;
using namespace doppel::dvv;

namespace {

std::map<NodeIndex, std::uint32_t> held(const std::vector<NodeIndex>& owner) {
  std::map<NodeIndex, std::uint32_t> out;
  for (NodeIndex o : owner) ++out[o];
  return out;
}

// The fewest partitions any balanced claim must move: those of non-members, and a member's
// beyond its share, the larger shares going to the members holding most.
std::uint32_t fewest_moves(const std::vector<NodeIndex>& owner,
                           const std::vector<NodeIndex>& members) {
  auto h = held(owner);
  std::vector<std::uint32_t> counts;
  for (NodeIndex m : members) counts.push_back(h[m]);
  std::sort(counts.rbegin(), counts.rend());
  const auto p = static_cast<std::uint32_t>(owner.size());
  const auto m = static_cast<std::uint32_t>(members.size());
  std::uint32_t kept = 0;
  for (std::uint32_t i = 0; i < m; ++i) kept += std::min(counts[i], p / m + (i < p % m));
  return p - kept;
}

std::vector<NodeIndex> valid_members(const RingState& s) {
  std::vector<NodeIndex> out;
  for (NodeIndex n = 0; n < s.members.size(); ++n) {
    if (s.members[n] == MemberStatus::valid) out.push_back(n);
  }
  return out;
}

}  // namespace

TEST_CASE("ring state: a first ring is the round-robin ring of a static configuration", "[unit]") {
  const RingState s = RingState::initial(16, 5, 3);
  REQUIRE(s.ring() == Ring(16, 3));
  REQUIRE(s.claimant() == 0u);
  REQUIRE_FALSE(s.pending());
  REQUIRE(s.member(2));
  REQUIRE_FALSE(s.member(3));
}

TEST_CASE(
    "ring state: growing 3 -> 5 and shrinking to 4 keeps 64 partitions balanced, moves "
    "the fewest, and every preference list of 3 is 3 valid members",
    "[unit]") {
  RingState s = RingState::initial(64, 5, 3);
  std::uint64_t version = s.version;
  const auto step = [&](std::vector<MemberChange> changes) {
    auto planned = plan_changes(s, changes, 3);
    REQUIRE(planned.ok());
    REQUIRE(planned->version > version);
    REQUIRE(planned->pending());
    std::vector<NodeIndex> next_members;
    for (NodeIndex n = 0; n < 5; ++n) {
      const auto st = planned->members[n];
      if (st == MemberStatus::valid || st == MemberStatus::joining) next_members.push_back(n);
    }
    auto moved = 0u;
    for (std::size_t p = 0; p < 64; ++p) moved += planned->owner[p] != planned->next[p];
    CHECK(moved == fewest_moves(s.owner, next_members));
    REQUIRE(planned->awaiting_handoff().size() >= 1);
    RingState cur = *planned;
    for (NodeIndex n : planned->awaiting_handoff()) {
      auto marked = mark_handed_off(cur, n);
      REQUIRE(marked.has_value());
      REQUIRE_FALSE(mark_handed_off(*marked, n).has_value());  // once
      cur = *marked;
    }
    REQUIRE(cur.awaiting_handoff().empty());
    s = settle(cur);
    version = s.version;
    const auto h = held(s.owner);
    REQUIRE(h.size() == next_members.size());
    const auto [lo, hi] = std::minmax_element(h.begin(), h.end(),
                                              [](auto& a, auto& b) { return a.second < b.second; });
    CHECK(hi->second - lo->second <= 1);
    const Ring ring = s.ring();
    for (std::uint32_t p = 0; p < 64; ++p) {
      const auto prim = ring.primaries(p, 3);
      REQUIRE(std::set<NodeIndex>(prim.begin(), prim.end()).size() == 3);
      for (NodeIndex n : prim) REQUIRE(s.members[n] == MemberStatus::valid);
    }
  };
  step({{MemberChange::Kind::join, 3, 0}});
  step({{MemberChange::Kind::join, 4, 0}});
  REQUIRE(valid_members(s).size() == 5);
  step({{MemberChange::Kind::leave, 0, 0}});
  REQUIRE(valid_members(s) == std::vector<NodeIndex>{1, 2, 3, 4});
  REQUIRE(s.claimant() == 1u);
}

TEST_CASE("ring state: a replacement takes over exactly the partitions of the node it replaces",
          "[unit]") {
  const RingState s = RingState::initial(16, 4, 3);
  auto planned = plan_changes(s, {{MemberChange::Kind::replace, 1, 3}}, 3);
  REQUIRE(planned.ok());
  for (std::size_t p = 0; p < 16; ++p) {
    REQUIRE(planned->next[p] == (s.owner[p] == 1 ? 3u : s.owner[p]));
  }
  REQUIRE(planned->members[1] == MemberStatus::leaving);
  REQUIRE(planned->members[3] == MemberStatus::joining);
}

TEST_CASE("ring state: changes that cannot be made are refused, named", "[unit]") {
  const RingState s = RingState::initial(16, 4, 2);
  const auto refused = [&](const RingState& from, std::vector<MemberChange> c) {
    auto planned = plan_changes(from, c, 3);
    REQUIRE_FALSE(planned.ok());
    REQUIRE(planned.code() == Errc::invalid_argument);
    return planned.error().what;
  };
  CHECK_THAT(refused(s, {}), Catch::Contains("no changes"));
  CHECK_THAT(refused(s, {{MemberChange::Kind::join, 9, 0}}), Catch::Contains("nodes 0..3"));
  CHECK_THAT(refused(s, {{MemberChange::Kind::join, 1, 0}}), Catch::Contains("is a member"));
  CHECK_THAT(refused(s, {{MemberChange::Kind::leave, 3, 0}}), Catch::Contains("no valid member"));
  CHECK_THAT(refused(s, {{MemberChange::Kind::leave, 0, 0}, {MemberChange::Kind::leave, 1, 0}}),
             Catch::Contains("no valid member"));
  CHECK_THAT(refused(s, {{MemberChange::Kind::join, 2, 0}, {MemberChange::Kind::join, 2, 0}}),
             Catch::Contains("same node"));
  auto pending = plan_changes(s, {{MemberChange::Kind::join, 2, 0}}, 3);
  REQUIRE(pending.ok());
  CHECK_THAT(refused(*pending, {{MemberChange::Kind::join, 3, 0}}), Catch::Contains("pending"));
}

TEST_CASE("ring state: a force-removed node hands nothing off and owns nothing once settled",
          "[unit]") {
  const RingState s = RingState::initial(16, 3, 3);
  auto planned = plan_changes(s, {{MemberChange::Kind::force_remove, 2, 0}}, 3);
  REQUIRE(planned.ok());
  REQUIRE(planned->awaiting_handoff() == std::vector<NodeIndex>{0, 1});
  const RingState done = settle(*planned);
  REQUIRE(std::count(done.owner.begin(), done.owner.end(), 2u) == 0);
  REQUIRE(done.members[2] == MemberStatus::none);
}

TEST_CASE(
    "ring state: for any owners and members, the claim is balanced, gives partitions only "
    "to members and moves the fewest",
    "[unit]") {
  rc::prop("claim", [] {
    const std::uint32_t partitions = 1u << *rc::gen::inRange(0, 8);
    const NodeIndex nodes = *rc::gen::inRange<NodeIndex>(1, 12);
    std::vector<NodeIndex> owner;
    for (std::uint32_t p = 0; p < partitions; ++p) {
      owner.push_back(*rc::gen::inRange<NodeIndex>(0, nodes));
    }
    std::vector<NodeIndex> members;
    for (NodeIndex n = 0; n < nodes; ++n) {
      if (*rc::gen::arbitrary<bool>()) members.push_back(n);
    }
    RC_PRE(!members.empty() && members.size() <= partitions);
    const std::uint32_t n_val = *rc::gen::inRange(1, 5);
    const auto out = claim(owner, members, n_val);
    RC_ASSERT(out.size() == owner.size());
    const auto h = held(out);
    for (auto& [n, c] : h) {
      RC_ASSERT(std::binary_search(members.begin(), members.end(), n));
      RC_ASSERT(c >= partitions / members.size());
      RC_ASSERT(c <= partitions / members.size() + 1);
    }
    std::uint32_t moved = 0;
    for (std::size_t p = 0; p < owner.size(); ++p) moved += owner[p] != out[p];
    RC_ASSERT(moved == fewest_moves(owner, members));
  });
}

TEST_CASE(
    "ring state: any sequence of changes, planned, handed off and settled, leaves every "
    "partition owned by one valid member, versions rising and the encoding round-tripping",
    "[unit]") {
  rc::prop("changes", [] {
    const NodeIndex nodes = *rc::gen::inRange<NodeIndex>(1, 8);
    RingState s = RingState::initial(32, nodes, *rc::gen::inRange<NodeIndex>(1, nodes + 1));
    const int rounds = *rc::gen::inRange(1, 8);
    for (int i = 0; i < rounds; ++i) {
      const auto kind = static_cast<MemberChange::Kind>(*rc::gen::inRange(0, 4));
      const MemberChange c{kind, *rc::gen::inRange<NodeIndex>(0, nodes),
                           *rc::gen::inRange<NodeIndex>(0, nodes)};
      auto planned = plan_changes(s, {c}, 3);
      if (!planned) continue;  // refused: nothing changed
      RC_ASSERT(planned->version > s.version);
      RC_ASSERT(newer(*planned, s));
      RingState cur = *planned;
      for (NodeIndex n : planned->awaiting_handoff()) cur = *mark_handed_off(cur, n);
      const auto encoded = encode_ring_state(cur);
      auto decoded = decode_ring_state(encoded);
      RC_ASSERT(decoded.ok());
      RC_ASSERT(*decoded == cur);
      s = settle(cur);
      RC_ASSERT(s.claimant().has_value());
      for (NodeIndex o : s.owner) RC_ASSERT(s.members[o] == MemberStatus::valid);
      for (NodeIndex n = 0; n < nodes; ++n) {
        RC_ASSERT(s.members[n] == MemberStatus::valid || s.members[n] == MemberStatus::none);
      }
    }
  });
}

TEST_CASE("ring state: any bytes decode to a state or an error, never past their end", "[unit]") {
  rc::prop("decode", [](const std::string& bytes) {
    auto s = decode_ring_state(bytes);
    if (s) RC_ASSERT(decode_ring_state(encode_ring_state(*s)).value() == *s);
  });
  const std::string good = encode_ring_state(RingState::initial(8, 3, 2));
  for (std::size_t cut = 0; cut < good.size(); ++cut) {
    REQUIRE_FALSE(decode_ring_state(good.substr(0, cut)).ok());
  }
}

TEST_CASE(
    "ring state: a leave that takes the cluster below n_val members is refused; a "
    "force-removal and a replacement are not",
    "[unit]") {
  const RingState three = RingState::initial(16, 6, 3);
  auto leave = plan_changes(three, {MemberChange{.kind = MemberChange::Kind::leave, .node = 1}}, 3);
  REQUIRE_FALSE(leave.ok());
  CHECK(leave.error().what.find("fewer than n_val 3") != std::string::npos);
  CHECK(plan_changes(three, {MemberChange{.kind = MemberChange::Kind::force_remove, .node = 1}}, 3)
            .ok());
  CHECK(plan_changes(three,
                     {MemberChange{.kind = MemberChange::Kind::replace, .node = 1, .with = 4}}, 3)
            .ok());
  // A join in the same plan keeps the count.
  CHECK(plan_changes(three,
                     {MemberChange{.kind = MemberChange::Kind::join, .node = 4},
                      MemberChange{.kind = MemberChange::Kind::leave, .node = 1}},
                     3)
            .ok());
  const RingState four = RingState::initial(16, 6, 4);
  CHECK(plan_changes(four, {MemberChange{.kind = MemberChange::Kind::leave, .node = 1}}, 3).ok());
}
