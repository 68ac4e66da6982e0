#include "components/dvv/store/coordinator.h"

#include <algorithm>

#include "components/dvv/store/messages.h"
#include "components/dvv/store/object_checks.h"
#include "runtime/assert.h"

namespace doppel::dvv {

using namespace std::chrono_literals;

namespace {

std::vector<Sibling> visible_siblings(const Object& o) {
  std::vector<Sibling> out;
  for (const Value& v : o.siblings()) {
    auto s = decode_sibling(v);
    if (s && !s->tombstone) out.push_back(std::move(*s));
  }
  return out;
}

Error unavailable(const std::string& what) {
  return make_error(Errc::unreachable, what);
}

// BUGGIFY sites of the coordinator (runtime/buggify.h).
const BuggifySite kLateReplica{"dvv.coordinator.late_replica",
                               "one replica's copy of a PUT goes out up to 500 ms late"};
const BuggifySite kEarlyTimeout{"dvv.coordinator.early_timeout",
                                "a PUT stops waiting for acks 1 to 50 ms after sending"};
const BuggifySite kSlowRepair{"dvv.coordinator.slow_read_repair",
                              "read repair waits up to 1 s after the reads before it repairs"};
// Concurrent writers the clocks kept apart: what DVVSet exists for (and where false conflicts
// of the vv baseline show).
const SometimesSite kManySiblings{"dvv.get.siblings_above_two",
                                  "a read answers more than two siblings"};

}  // namespace

Coordinator::Coordinator(Runtime& rt, const DvvSettings& config, const Ring& ring,
                         const Ring& next_ring, NodeIndex self, Peers& peers,
                         const PropsTable& props, ReplicaStore& store, ReplicaClient& replicas,
                         Reaper& reaper, ClusterChanges& changes)
    : rt_(rt),
      config_(config),
      ring_(ring),
      next_(next_ring),
      self_(self),
      peers_(peers),
      props_(props),
      store_(store),
      replicas_(replicas),
      reaper_(reaper),
      changes_(changes) {}

std::vector<Replica> Coordinator::preference_list(const ObjectKey& key, std::uint32_t n_val) const {
  return ring_.preference_list(ring_.partition_of(key.bucket, key.key), n_val,
                               [this](NodeIndex n) { return peers_.up(n); });
}

std::vector<Coordinator::Target> Coordinator::write_targets(const ObjectKey& key,
                                                            std::uint32_t n_val) const {
  const auto up = [this](NodeIndex n) { return peers_.up(n); };
  const std::uint32_t partition = ring_.partition_of(key.bucket, key.key);
  std::vector<Target> out;
  for (const Replica& r : ring_.preference_list(partition, n_val, up)) {
    out.push_back(Target{.replica = r, .in_ring = true});
  }
  if (next_ == ring_) {
    for (Target& t : out) {
      t.in_next = true;
      t.primary_next = t.replica.primary;
    }
    return out;
  }
  for (const Replica& r : next_.preference_list(partition, n_val, up)) {
    auto it = std::find_if(out.begin(), out.end(),
                           [&](const Target& t) { return t.replica.node == r.node; });
    if (it == out.end()) it = out.insert(out.end(), Target{.replica = r});
    it->in_next = true;
    it->primary_next = r.primary;
  }
  return out;
}

// --- GET

Result<GetReply> Coordinator::get(const ObjectKey& key, const RequestOptions& o) {
  const BucketProps p = props_.get(key.bucket);
  const std::uint32_t r = p.resolve(o.r.value_or(p.r)), pr = p.resolve(o.pr.value_or(p.pr));
  const auto pref = preference_list(key, p.n_val);
  if (pref.size() < r) {
    return unavailable("only " + std::to_string(pref.size()) +
                       " replicas are up, r=" + std::to_string(r));
  }
  // Replies may outlive this call (read repair waits for the late ones).
  auto replies = std::make_shared<Channel<ReadReply>>(rt_, pref.size());
  for (const Replica& rep : pref) {
    rt_.spawn("dvv-get", [this, replies, rep, key, timeout = o.timeout] {
      const bool queued = replies->try_push(
          ReadReply{rep.node, rep.primary, replicas_.read(rep.node, key, timeout)});
      DOPPEL_ASSERT_MSG(queued, "a read reply without room: one slot per replica asked");
    });
  }
  const Instant deadline = rt_.now() + o.timeout;
  Seen seen;
  std::uint32_t ok = 0, primaries = 0, answered = 0;
  Object merged = Object::empty(p.clock);
  while (answered < pref.size() && (ok < r || primaries < pr)) {
    auto reply = replies->pop(deadline);
    if (!reply) break;
    ++answered;
    if (!reply->object) continue;
    ++ok;
    primaries += reply->primary ? 1 : 0;
    merged = store_.merge(key, merged, *reply->object);
    seen.emplace_back(reply->node, std::move(*reply->object));
  }
  DOPPEL_ASSERT(ok <= answered);
  DOPPEL_ASSERT(primaries <= ok);
  if (ok < r || primaries < pr) {
    return make_error(Errc::timed_out, std::to_string(ok) + " of r=" + std::to_string(r) +
                                           " replicas answered (" + std::to_string(primaries) +
                                           " primaries, pr=" + std::to_string(pr) + ")");
  }
  DOPPEL_ASSERT(seen.size() == ok);
  GetReply out;
  // allow_mult false: the client sees one value, the newest (last write wins,
  // Riak's reconcile). The context still covers every sibling merged, so a
  // write with it replaces them all. (Planted: the read path forgets it.)
  const bool one_value = !p.allow_mult && !config_.bug_get_ignores_allow_mult;
  out.siblings = visible_siblings(one_value ? last_write_wins(merged) : merged);
  sometimes(rt_, kManySiblings, out.siblings.size() > 2);
  out.found = !out.siblings.empty();
  out.context = encode_context(merged.context());
  out.clock_entries = merged.clock_entry_count();
  out.clock_bytes = out.context.size();
  const std::size_t expected = pref.size();
  if (all_tombstones(merged) && seen.size() == expected) reaper_.schedule(key, merged);
  rt_.spawn("dvv-read-repair", [this, key, merged, seen = std::move(seen), replies, expected,
                                deadline, answered, kind = p.clock]() mutable {
    repair_when_answered(key, kind, std::move(merged), std::move(seen), std::move(replies),
                         expected, deadline, answered);
  });
  return out;
}

// Read repair: once the others answer (or the deadline passes), bring the
// replicas that were behind up to the merged object.
void Coordinator::repair_when_answered(const ObjectKey& key, ClockKind kind, Object merged,
                                       Seen seen, std::shared_ptr<Channel<ReadReply>> replies,
                                       std::size_t expected, Instant deadline,
                                       std::size_t answered) {
  std::size_t got = answered;
  while (got < expected) {
    auto reply = replies->pop(deadline);
    if (!reply) break;
    ++got;
    if (reply->object) {
      merged = store_.merge(key, merged, *reply->object);
      seen.emplace_back(reply->node, std::move(*reply->object));
    }
  }
  DOPPEL_ASSERT(got <= expected);
  // Writes may land meanwhile: what it repairs with is older than what they hold.
  (void)buggify_sleep(rt_, kSlowRepair, 1s);
  // The merge of the replies holds every reply's history when all of them,
  // and the empty object the merge started from, are of one kind (merge()
  // converts two kinds, which may drop an id: the bucket's kind changed meanwhile).
  const bool one_kind =
      merged.kind() == kind &&
      std::all_of(seen.begin(), seen.end(), [&](const auto& s) { return s.second.kind() == kind; });
  read_repair(key, merged, seen, one_kind);
}

void Coordinator::read_repair(const ObjectKey& key, const Object& merged, const Seen& seen,
                              bool one_kind) {
  for (const auto& [node, object] : seen) {
    if (object == merged) continue;
    // Read repair never sends a replica an object older than what it answered.
    if (one_kind) DOPPEL_ASSERT(history_covers(merged, object));
    rt_.record(Event("DvvReadRepair", Severity::debug).detail("node", node).detail("key", key.key));
    if (config_.bug_no_repair) continue;  // planted: found, never fixed
    (void)replicas_.repair(node, key, merged, config_.request_timeout);
  }
}

// --- PUT and DELETE

Result<PutReply> Coordinator::put(const ObjectKey& key, Sibling value,
                                  std::optional<std::string> context, const RequestOptions& o) {
  if (value.body.size() > config_.value_bytes_max)
    return make_error(Errc::too_large, "value over the limit");
  value.timestamp_ms = wall_now_ms(rt_);
  const BucketProps p = props_.get(key.bucket);
  for (int round = 1;; ++round) {
    const std::uint32_t partition = ring_.partition_of(key.bucket, key.key);
    const auto primaries = ring_.primaries(partition, p.n_val);
    if (std::find(primaries.begin(), primaries.end(), self_) != primaries.end()) {
      return coordinate(key, std::move(value), std::move(context), o);
    }
    NodeIndex to = self_;
    auto reply = forward(key, value, context, o, primaries, &to);
    // The primary asked holds a newer ring without the key: take it and ask again.
    if (reply || reply.code() != Errc::stale || round == kRingRounds) return reply;
    if (!changes_.exchange(to, config_.request_timeout).ok()) return reply;
  }
}

// Not a replica: forward to the first primary that is up (the paper's rule).
Result<PutReply> Coordinator::forward(const ObjectKey& key, const Sibling& value,
                                      const std::optional<std::string>& context,
                                      const RequestOptions& o,
                                      const std::vector<NodeIndex>& primaries, NodeIndex* to) {
  for (NodeIndex n : primaries) {
    if (!peers_.up(n)) continue;
    std::string request = encode_coordinate_request(key, value, context, o);
    rt_.record(Event("DvvForwardPut", Severity::debug).detail("to", n));
    *to = n;
    auto reply = peers_.at(n).call(RpcKind::coordinate, std::move(request),
                                   o.timeout + config_.request_timeout);
    if (!reply) return reply.error();
    return decode_put_reply(*reply);
  }
  return unavailable("no primary of the key is up to coordinate the PUT");
}

Result<PutReply> Coordinator::remove(const ObjectKey& key, std::optional<std::string> context,
                                     const RequestOptions& o) {
  // As Riak: a DELETE without a context deletes what a read finds now.
  if (!context) {
    auto current = get(key, o);
    if (!current) return current.error();
    if (!current->context.empty()) context = std::move(current->context);
  }
  Sibling tombstone;
  tombstone.tombstone = true;
  return put(key, std::move(tombstone), std::move(context), o);
}

// The client's write as the clock sees it: its causal context, the
// coordinator's id (dvvset) and the client's (vv).
Result<Write> Coordinator::make_write(const Sibling& value,
                                      const std::optional<std::string>& context_bytes,
                                      const RequestOptions& o, const BucketProps& p) {
  std::optional<Context> context;
  if (context_bytes && !config_.bug_ignore_context) {
    auto c = decode_context(*context_bytes, p.clock);
    if (!c) return make_error(Errc::invalid_argument, "X-Riak-Vclock: " + c.error().what);
    context = std::move(*c);
  }
  Write write;
  write.value = encode_sibling(value);
  write.context = std::move(context);
  const ReplicaId& self_id = store_.self_id();
  write.coordinator = config_.bug_dot_per_write ? self_id + "." + std::to_string(++dots_) : self_id;
  // Riak 0.13 gave a blind PUT without a client id a fresh one; so do we.
  write.client_id =
      !o.client_id.empty() ? o.client_id : self_id + "-" + std::to_string(rt_.random().next());
  write.timestamp_s = wall_now_ms(rt_) / 1000;
  if (Status s = check_write(write, p.clock); !s)
    return make_error(Errc::invalid_argument, s.error().what);
  return write;
}

Result<PutReply> Coordinator::coordinate(const ObjectKey& key, Sibling value,
                                         std::optional<std::string> context_bytes,
                                         const RequestOptions& o) {
  const BucketProps p = props_.get(key.bucket);
  auto write = make_write(value, context_bytes, o, p);
  if (!write) return write.error();
  // The new dot is durable before anyone sees it: after a crash this node
  // must not hand out the same dot for another value.
  auto updated = store_.update(key, *write, p, !config_.bug_ack_early);
  if (!updated) return updated.error();
  PutReply out;
  out.context = encode_context(updated->context());
  out.siblings = visible_siblings(*updated);
  out.clock_entries = updated->clock_entry_count();
  return replicate(key, *updated, value.tombstone, p, o, std::move(out));
}

// The coordinator's object to the rest of the preference list (of both rings
// while ownership moves); `out` once the quorums are met (in both rings).
Result<PutReply> Coordinator::replicate(const ObjectKey& key, const Object& updated, bool tombstone,
                                        const BucketProps& p, const RequestOptions& o,
                                        PutReply out) {
  const std::uint32_t w = p.resolve(o.w.value_or(p.w)), dw = p.resolve(o.dw.value_or(p.dw)),
                      pw = p.resolve(o.pw.value_or(p.pw));
  Instant deadline = rt_.now() + o.timeout;
  // Gives up early: the client hears of a timeout while the copies may still land.
  if (buggify(rt_, kEarlyTimeout)) {
    const Duration patience(rt_.random().between(1'000'000, 50'000'000));
    deadline = std::min(deadline, rt_.now() + patience);
  }
  // Our own write, durable before it was replicated (coordinate()), counts in each ring
  // whose list names us: a forwarded PUT may reach a newcomer, or the ring may have moved
  // during the write.
  std::map<NodeIndex, Answer> answers{{self_, Answer{true, true}}};
  for (int round = 1;; ++round) {
    auto r = replicate_round(key, updated, p.n_val, {w, dw, pw}, o.timeout, deadline, answers);
    if (!r) return r.error();
    if (config_.bug_ack_early) return out;  // planted: no quorum, no durability
    if (r->now.met(w, dw, pw) && r->next.met(w, dw, pw)) {
      if (tombstone && r->now.ok == p.n_val && !r->joint) reaper_.schedule(key, updated);
      return out;
    }
    // A replica with a newer ring refused: with it, the copies go to that ring's owners.
    if (r->stale && round < kRingRounds && rt_.now() < deadline &&
        changes_.exchange(*r->stale, deadline - rt_.now()).ok()) {
      rt_.record(Event("DvvPutRingRound", Severity::debug).detail("key", key.key));
      continue;
    }
    for (const Tally* tally : {&r->now, &r->next}) {
      if (tally->met(w, dw, pw)) continue;
      return make_error(Errc::timed_out, std::to_string(tally->ok) + " of w=" + std::to_string(w) +
                                             " replicas acked (" + std::to_string(tally->durable) +
                                             " durable of dw=" + std::to_string(dw) + ", " +
                                             std::to_string(tally->primaries) +
                                             " primaries of pw=" + std::to_string(pw) +
                                             (tally == &r->next ? ") in the next ring" : ")"));
    }
  }
}

Result<Coordinator::Round> Coordinator::replicate_round(const ObjectKey& key, const Object& updated,
                                                        std::uint32_t n_val, Quorums q,
                                                        Duration timeout, Instant deadline,
                                                        std::map<NodeIndex, Answer>& answers) {
  const auto [w, dw, pw] = q;
  const auto targets = std::make_shared<const std::vector<Target>>(write_targets(key, n_val));
  const auto in_ring =
      std::count_if(targets->begin(), targets->end(), [](const Target& t) { return t.in_ring; });
  const auto in_next =
      std::count_if(targets->begin(), targets->end(), [](const Target& t) { return t.in_next; });
  if (static_cast<std::uint32_t>(std::min(in_ring, in_next)) < w) {
    return unavailable("only " + std::to_string(std::min(in_ring, in_next)) +
                       " replicas are up, w=" + std::to_string(w));
  }
  Round out;
  out.joint =
      in_next != in_ring || std::any_of(targets->begin(), targets->end(),
                                        [](const Target& t) { return t.in_ring != t.in_next; });
  if (out.joint) {
    rt_.record(Event("DvvJointQuorum", Severity::debug).detail("key", key.key));
  }
  const auto count = [&out](const Target& t, Answer a, bool any_primary = false) {
    if (t.in_ring) out.now.count(a.ok, a.durable, t.replica.primary || any_primary);
    if (t.in_next) out.next.count(a.ok, a.durable, t.primary_next || any_primary);
  };
  // A node that took the copy in an earlier round (or is us) counts as it answered then.
  std::size_t answered = 0, sent = 0;
  for (const Target& t : *targets) {
    auto a = answers.find(t.replica.node);
    if (a == answers.end() || !a->second.ok) continue;
    ++answered;
    count(t, a->second);
  }
  auto acks = std::make_shared<Channel<Ack>>(rt_, targets->size());
  for (const Target& t : *targets) {
    auto a = answers.find(t.replica.node);
    if (a != answers.end() && a->second.ok) continue;
    ++sent;
    rt_.spawn("dvv-replicate", [this, acks, targets, &t, key, updated, timeout] {
      // Planted: replication queued for later, the client already told "stored".
      if (config_.bug_ack_early) rt_.sleep(config_.handoff_interval);
      // This replica's copy goes out late, after others were acked.
      (void)buggify_sleep(rt_, kLateReplica, 500ms);
      bool d = false;
      const Status s = replicas_.store(t.replica, key, updated, &d, timeout);
      const bool queued =
          acks->try_push(Ack{&t, s.ok(), s.ok() && d, !s.ok() && s.code() == Errc::stale});
      DOPPEL_ASSERT_MSG(queued, "an ack without room: one slot per replica");
    });
  }
  if (config_.bug_ack_early) return out;  // planted: no quorum, no durability
  while (answered < targets->size() && !(out.now.met(w, dw, pw) && out.next.met(w, dw, pw))) {
    auto ack = acks->pop(deadline);
    if (!ack) break;
    ++answered;
    const Target& t = *ack->target;
    answers[t.replica.node] = Answer{ack->ok, ack->durable};
    if (ack->stale) out.stale = t.replica.node;
    // Planted: a fallback (holding a hint) counted as a primary.
    count(t, Answer{ack->ok, ack->durable}, config_.bug_pw_counts_fallbacks);
  }
  // Every node counts at most once in each ring.
  for (const Tally* tally : {&out.now, &out.next}) {
    DOPPEL_ASSERT(tally->durable <= tally->ok);
    DOPPEL_ASSERT(tally->primaries <= tally->ok);
    DOPPEL_ASSERT(tally->ok <= answered);
  }
  DOPPEL_ASSERT(answered <= targets->size());
  return out;
}

}  // namespace doppel::dvv
