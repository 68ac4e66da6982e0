#include "components/dvv/store/cluster_changes.h"

#include <algorithm>

#include "components/dvv/store/wire.h"
#include "runtime/assert.h"

namespace doppel::dvv {

using namespace std::chrono_literals;

namespace {

// The n_val the claim spreads preference lists for (buckets may ask for fewer or more: the
// ring stays balanced either way).
constexpr std::uint32_t kClaimNVal = 3;

}  // namespace

std::string encode_cluster_request(ClusterOp op, const std::optional<MemberChange>& change) {
  WireWriter w;
  w.u8(static_cast<std::uint8_t>(op));
  w.u8(change ? 1 : 0);
  if (change) {
    w.u8(static_cast<std::uint8_t>(change->kind));
    w.varint(change->node);
    w.varint(change->with);
  }
  return w.take();
}

ClusterChanges::ClusterChanges(Runtime& rt, const DvvSettings& config, Membership& membership,
                               Peers& peers)
    : rt_(rt), config_(config), membership_(membership), peers_(peers), change_lock_(rt) {}

Result<std::string> ClusterChanges::request(ClusterOp op, std::optional<MemberChange> change) {
  const auto claimant = membership_.state().claimant();
  DOPPEL_ASSERT(claimant.has_value());  // plan_changes never leaves a ring without one
  if (*claimant == membership_.self()) return apply(op, change);
  auto reply = peers_.at(*claimant).call(RpcKind::cluster, encode_cluster_request(op, change),
                                         config_.request_timeout);
  if (!reply && reply.code() != Errc::invalid_argument) {
    return make_error(reply.code(), "the claimant, node " + std::to_string(*claimant) + ": " +
                                        reply.error().message());
  }
  return reply;
}

Result<std::string> ClusterChanges::serve_request(std::string_view payload) {
  WireReader r(payload);
  const auto op = r.u8();
  std::optional<MemberChange> change;
  if (r.u8() == 1) {
    const auto kind = r.u8();
    const auto node = r.varint();
    const auto with = r.varint();
    if (kind > static_cast<std::uint8_t>(MemberChange::Kind::force_remove) ||
        node > RingState::kNodesMax || with > RingState::kNodesMax) {
      return make_error(Errc::protocol, "cluster: change");
    }
    change = MemberChange{static_cast<MemberChange::Kind>(kind), static_cast<NodeIndex>(node),
                          static_cast<NodeIndex>(with)};
  }
  if (!r.done() || op > static_cast<std::uint8_t>(ClusterOp::clear)) {
    return make_error(Errc::protocol, "cluster");
  }
  if (!is_claimant()) {
    // The sender's ring is older or newer than this one: gossip will agree on one.
    return make_error(Errc::refused, "node " + std::to_string(membership_.self()) +
                                         " is not the claimant of ring version " +
                                         std::to_string(membership_.state().version));
  }
  return apply(static_cast<ClusterOp>(op), change);
}

Result<std::string> ClusterChanges::apply(ClusterOp op, std::optional<MemberChange> staging) {
  LockGuard guard(change_lock_);
  if (!is_claimant()) return make_error(Errc::refused, "no longer the claimant");
  switch (op) {
    case ClusterOp::stage: {
      if (!staging) return make_error(Errc::invalid_argument, "stage: no change");
      if (staged_.size() >= kStagedMax) {
        return make_error(Errc::too_large, std::to_string(kStagedMax) + " changes are staged");
      }
      std::vector<MemberChange> with = staged_;
      with.push_back(*staging);
      // Checked now: the operator hears at once of a change that cannot be made.
      auto planned = plan_changes(membership_.state(), with, kClaimNVal);
      if (!planned) return planned.error();
      staged_ = std::move(with);
      return "staged: " + describe(*staging) + "\n";
    }
    case ClusterOp::plan: {
      auto planned = plan_changes(membership_.state(), staged_, kClaimNVal);
      if (!planned) return planned.error();
      return describe_plan(*planned);
    }
    case ClusterOp::commit: {
      auto planned = plan_changes(membership_.state(), staged_, kClaimNVal);
      if (!planned) return planned.error();
      if (Status s = change(*planned); !s) return s.error();
      std::string out = describe_plan(*planned).value();
      staged_.clear();
      return "committed ring version " + std::to_string(planned->version) + "\n" + out;
    }
    case ClusterOp::clear:
      staged_.clear();
      return std::string("staged changes cleared\n");
  }
  return make_error(Errc::protocol, "cluster op");
}

Result<std::string> ClusterChanges::describe_plan(const RingState& planned) const {
  std::string out;
  for (const MemberChange& c : staged_) out += describe(c) + "\n";
  std::vector<std::uint32_t> held(planned.members.size(), 0);
  std::uint32_t moving = 0;
  for (std::size_t p = 0; p < planned.owner.size(); ++p) {
    ++held[planned.next[p]];
    moving += planned.next[p] != planned.owner[p];
  }
  out +=
      std::to_string(moving) + " of " + std::to_string(planned.owner.size()) + " partitions move\n";
  for (NodeIndex n = 0; n < held.size(); ++n) {
    if (held[n] > 0) {
      out += "node " + std::to_string(n) + ": " + std::to_string(held[n]) + " partitions\n";
    }
  }
  return out;
}

Status ClusterChanges::change(const RingState& next) {
  auto taken = membership_.adopt(next);
  if (!taken) return taken.error();
  DOPPEL_ASSERT(*taken);  // the claimant's change is always newer than what it holds
  push();
  return {};
}

void ClusterChanges::push() {
  const std::string payload = encode_ring_state(membership_.state());
  for (NodeIndex n = 0; n < peers_.size(); ++n) {
    if (n == membership_.self()) continue;
    rt_.spawn("dvv-ring-push", [this, n, payload] {
      auto reply = peers_.at(n).call(RpcKind::ring, payload, config_.request_timeout);
      if (!reply) return;
      if (auto theirs = decode_ring_state(*reply)) (void)membership_.adopt(*theirs);
    });
  }
}

Status ClusterChanges::report_handed_off() {
  const auto claimant = membership_.state().claimant();
  DOPPEL_ASSERT(claimant.has_value());
  if (*claimant == membership_.self()) return handed_off(membership_.self());
  WireWriter w;
  w.varint(membership_.self());
  w.varint(membership_.state().version);
  auto reply = peers_.at(*claimant).call(RpcKind::handed_off, w.take(), config_.request_timeout);
  if (!reply) return reply.error();
  return {};
}

Result<std::string> ClusterChanges::serve_handed_off(std::string_view payload) {
  WireReader r(payload);
  const auto node = r.varint();
  (void)r.varint();  // the reporter's ring version: for traces
  if (!r.done() || node >= membership_.nodes()) return make_error(Errc::protocol, "handed_off");
  if (!is_claimant()) return make_error(Errc::refused, "not the claimant");
  if (Status s = handed_off(static_cast<NodeIndex>(node)); !s) return s.error();
  return std::string();
}

Status ClusterChanges::handed_off(NodeIndex node) {
  LockGuard guard(change_lock_);
  if (!is_claimant()) return make_error(Errc::refused, "not the claimant");
  if (!membership_.state().pending()) return {};  // a report of a settled transition
  if (auto marked = mark_handed_off(membership_.state(), node)) {
    rt_.record(Event("DvvHandedOff").detail("node", node).detail("version", marked->version));
    if (!marked->awaiting_handoff().empty()) return change(*marked);
    return change(settle(*marked));
  }
  return {};
}

Result<std::string> ClusterChanges::serve_exchange(std::string_view payload) {
  auto theirs = decode_ring_state(payload);
  if (!theirs) return theirs.error();
  auto taken = membership_.adopt(*theirs);
  if (!taken) return taken.error();
  return encode_ring_state(membership_.state());
}

void ClusterChanges::gossip_loop(const bool& stopping) {
  while (!stopping) {
    rt_.sleep(config_.gossip_interval);
    if (membership_.state().version == 0 || peers_.size() < 2) continue;
    if (is_claimant() && membership_.state().pending() &&
        membership_.state().awaiting_handoff().empty()) {
      LockGuard guard(change_lock_);
      if (is_claimant() && membership_.state().pending() &&
          membership_.state().awaiting_handoff().empty()) {
        (void)change(settle(membership_.state()));
      }
    }
    NodeIndex n = static_cast<NodeIndex>(rt_.random().below(peers_.size() - 1));
    if (n >= membership_.self()) ++n;
    (void)exchange(n, 1s);
  }
}

Status ClusterChanges::exchange(NodeIndex node, Duration timeout) {
  DOPPEL_ASSERT(node < peers_.size());
  auto reply = peers_.at(node).call(RpcKind::ring, encode_ring_state(membership_.state()), timeout);
  if (!reply) return reply.error();
  auto theirs = decode_ring_state(*reply);
  if (!theirs) return theirs.error();
  auto taken = membership_.adopt(*theirs);
  if (!taken) return taken.error();
  return {};
}

}  // namespace doppel::dvv
