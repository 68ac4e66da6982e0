// The request paths: GET, PUT, DELETE as their coordinators run them, and
// what a replica does when asked (handle()).

#include "components/dvv/store/node.h"
#include "components/dvv/store/wire.h"
#include "runtime/channel.h"

namespace doppel::dvv {

using namespace std::chrono_literals;

namespace {

std::string encode_key(const ObjectKey& k) {
  WireWriter w;
  w.bytes(k.bucket);
  w.bytes(k.key);
  return w.take();
}

ObjectKey read_key(WireReader& r) { return ObjectKey{std::string(r.bytes(1 << 16)), std::string(r.bytes(1 << 16))}; }

std::vector<Sibling> visible_siblings(const Object& o) {
  std::vector<Sibling> out;
  for (const Value& v : o.siblings()) {
    auto s = decode_sibling(v);
    if (s && !s->tombstone) out.push_back(std::move(*s));
  }
  return out;
}

void put_options(WireWriter& w, const RequestOptions& o) {
  for (const auto& q : {o.r, o.w, o.dw, o.pr, o.pw}) w.varint(q ? *q + 1 : 0);
  w.bytes(o.client_id);
  w.varint(static_cast<std::uint64_t>(o.timeout.count() / 1'000'000));
}

RequestOptions read_options(WireReader& r) {
  RequestOptions o;
  for (auto* q : {&o.r, &o.w, &o.dw, &o.pr, &o.pw}) {
    const std::uint64_t v = r.varint();
    if (v > 0) *q = static_cast<std::uint32_t>(v - 1);
  }
  o.client_id = std::string(r.bytes(256));
  o.timeout = std::chrono::milliseconds(std::min<std::uint64_t>(r.varint(), 60'000));
  return o;
}

std::string encode_put_reply(const PutReply& p) {
  WireWriter w;
  w.bytes(p.context);
  w.varint(p.clock_entries);
  w.varint(p.siblings.size());
  for (const Sibling& s : p.siblings) w.bytes(encode_sibling(s));
  return w.take();
}

Result<PutReply> decode_put_reply(std::string_view bytes) {
  WireReader r(bytes);
  PutReply p;
  p.context = std::string(r.bytes());
  p.clock_entries = r.varint();
  const std::uint64_t n = r.varint();
  for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
    auto s = decode_sibling(std::string(r.bytes()));
    if (s) p.siblings.push_back(std::move(*s));
  }
  if (!r.done()) return make_error(Errc::corrupt, "coordinate reply");
  return p;
}

Error unavailable(const std::string& what) { return make_error(Errc::unreachable, what); }

}  // namespace

// --- replica side

// sync(), and what to do when a bucket's clock kind changed under its objects:
// the object of the bucket's current kind wins (the other cannot be merged).
Object DvvNode::merge(const ObjectKey& key, const Object& a, const Object& b) {
  if (a.kind() == b.kind()) return sync(a, b);
  const ClockKind want = props(key.bucket).clock;
  rt_.record(Event("DvvClockKindMismatch").detail("key", key.key).detail("want", clock_kind_name(want)));
  return a.kind() == want ? a : b;
}

Status DvvNode::sync_in(const ObjectKey& key, const Object& incoming, bool durable,
                        std::optional<std::int64_t> prune_at) {
  KeyLock guard(*this, key);
  const StoredObject* local = log_->find(key);
  Object merged = local ? merge(key, local->object, incoming) : incoming;
  if (prune_at) merged = prune(merged, *prune_at, ClockOptions{merged.kind(), {}});
  if (local && local->object == merged) return {};
  return log_->put(key, merged, durable);
}

Result<std::string> DvvNode::handle(RpcKind kind, std::string_view payload) {
  WireReader r(payload);
  switch (kind) {
    case RpcKind::ping:
      return std::string();
    case RpcKind::get: {
      const ObjectKey key = read_key(r);
      if (!r.done()) return make_error(Errc::protocol, "get");
      const StoredObject* s = log_->find(key);
      WireWriter w;
      w.u8(s ? 1 : 0);
      if (s) w.bytes(encode_object(s->object));
      return w.take();
    }
    case RpcKind::put: {
      // buggify: a replica too busy to take the write; the coordinator must
      // count it as a missing ack, not as a success.
      if (buggify(rt_)) return make_error(Errc::io_error, "replica busy (buggify)");
      const bool hinted = r.u8() != 0;
      const auto target = static_cast<NodeIndex>(r.varint());
      const ObjectKey key = read_key(r);
      auto object = decode_object(r.bytes());
      const std::int64_t prune_at = static_cast<std::int64_t>(r.varint());
      if (!r.done() || !object) return make_error(Errc::protocol, "put");
      Status s;
      if (hinted) {
        const auto* held = log_->hints_for(target);
        const StoredObject* prev = nullptr;
        if (held != nullptr) {
          auto it = held->find(key);
          if (it != held->end()) prev = &it->second;
        }
        s = log_->put_hint(target, key, prev ? merge(key, prev->object, *object) : *object);
      } else {
        s = sync_in(key, *object, true, prune_at > 0 ? std::optional<std::int64_t>(prune_at) : std::nullopt);
      }
      if (!s) return s.error();
      return std::string(1, '\1');  // durable
    }
    case RpcKind::coordinate: {
      const ObjectKey key = read_key(r);
      auto value = decode_sibling(std::string(r.bytes()));
      std::optional<std::string> context;
      if (r.u8() != 0) context = std::string(r.bytes());
      const RequestOptions o = read_options(r);
      if (!r.done() || !value) return make_error(Errc::protocol, "coordinate");
      auto reply = coordinate(key, std::move(*value), std::move(context), o);
      if (!reply) return reply.error();
      return encode_put_reply(*reply);
    }
    case RpcKind::repair: {
      const ObjectKey key = read_key(r);
      auto object = decode_object(r.bytes());
      if (!r.done() || !object) return make_error(Errc::protocol, "repair");
      if (Status s = sync_in(key, *object, false, std::nullopt); !s) return s.error();
      return std::string();
    }
    case RpcKind::reap: {
      const ObjectKey key = read_key(r);
      auto object = decode_object(r.bytes());
      if (!r.done() || !object) return make_error(Errc::protocol, "reap");
      const StoredObject* s = log_->find(key);
      if (s == nullptr || !(s->object == *object) || !all_tombstones(s->object)) return std::string(1, '\0');
      if (Status st = log_->remove(key, true); !st) return st.error();
      return std::string(1, '\1');
    }
    case RpcKind::aae_segments: {
      const auto partition = static_cast<std::uint32_t>(r.varint());
      if (!r.done() || partition >= ring_.partitions()) return make_error(Errc::protocol, "aae_segments");
      WireWriter w;
      for (std::uint64_t h : segment_hashes(partition)) w.varint(h);
      return w.take();
    }
    case RpcKind::aae_keys: {
      const auto partition = static_cast<std::uint32_t>(r.varint());
      const auto segment = r.varint();
      if (!r.done()) return make_error(Errc::protocol, "aae_keys");
      WireWriter w;
      if (const auto* keys = log_->keys_of(partition)) {
        for (const ObjectKey& k : *keys) {
          if (hash64(k.bucket + '\0' + k.key) % kAaeSegments != segment) continue;
          w.bytes(encode_key(k));
          w.varint(log_->find(k)->hash);
        }
      }
      return w.take();
    }
    case RpcKind::props: {
      auto theirs = decode_props(payload);
      if (!theirs) return theirs.error();
      bool changed = false;
      for (auto& [bucket, p] : *theirs) {
        if (p.version > props(bucket).version) {
          props_[bucket] = p;
          changed = true;
        }
      }
      if (changed) (void)save_props();
      return encode_props(props_);
    }
  }
  return make_error(Errc::protocol, "unknown request");
}

// --- talking to one replica (ourselves included)

Result<Object> DvvNode::read_replica(NodeIndex node, const ObjectKey& key, Duration timeout) {
  const ClockKind kind = props(key.bucket).clock;
  if (node == self_) {
    const StoredObject* s = log_->find(key);
    return s && s->object.kind() == kind ? s->object : Object::empty(kind);
  }
  auto reply = peer(node).call(RpcKind::get, encode_key(key), timeout);
  if (!reply) {
    rt_.record(Event("DvvReplicaUnanswered").detail("node", node).detail("why", reply.error().message()));
    return reply.error();
  }
  WireReader r(*reply);
  if (r.u8() == 0) return Object::empty(kind);
  auto o = decode_object(r.bytes());
  if (!o || !r.done()) {
    // A peer that answers garbage is a bug (or another version): say so loudly.
    rt_.record(Event("DvvCorruptReply", Severity::error).detail("node", node));
    return make_error(Errc::corrupt, "a corrupt object from n" + std::to_string(node));
  }
  if (o->kind() != kind) return Object::empty(kind);  // the bucket's clock kind changed
  return std::move(*o);
}

Status DvvNode::store_replica(const Replica& rep, const ObjectKey& key, const Object& object, bool* durable,
                              Duration timeout) {
  const std::int64_t prune_at = now_ms() / 1000;
  if (rep.node == self_ && rep.primary) {
    *durable = true;
    return sync_in(key, object, true, prune_at);
  }
  WireWriter w;
  w.u8(rep.primary ? 0 : 1);
  w.varint(rep.hinted_for);
  w.str() += encode_key(key);
  w.bytes(encode_object(object));
  w.varint(static_cast<std::uint64_t>(prune_at));
  if (rep.node == self_) {
    auto r = handle(RpcKind::put, w.str());
    if (!r) return r.error();
    *durable = true;
    return {};
  }
  auto reply = peer(rep.node).call(RpcKind::put, w.take(), timeout);
  if (!reply) return reply.error();
  *durable = !reply->empty() && (*reply)[0] == '\1';
  return {};
}

// --- GET

Result<GetReply> DvvNode::get(const ObjectKey& key, const RequestOptions& o) {
  const BucketProps p = props(key.bucket);
  const std::uint32_t r = p.resolve(o.r.value_or(p.r)), pr = p.resolve(o.pr.value_or(p.pr));
  const auto pref = ring_.preference_list(ring_.partition_of(key.bucket, key.key), p.n_val,
                                          [this](NodeIndex n) { return peer_up(n); });
  if (pref.size() < r) return unavailable("only " + std::to_string(pref.size()) + " replicas are up, r=" + std::to_string(r));
  struct Reply {
    NodeIndex node;
    bool primary;
    Result<Object> object;
  };
  // Replies may outlive this call (read repair waits for the late ones).
  auto replies = std::make_shared<Channel<Reply>>(rt_, pref.size());
  for (const Replica& rep : pref) {
    rt_.spawn("dvv-get", [this, replies, rep, key, timeout = o.timeout] {
      (void)replies->try_push(Reply{rep.node, rep.primary, read_replica(rep.node, key, timeout)});
    });
  }
  const Instant deadline = rt_.now() + o.timeout;
  std::vector<std::pair<NodeIndex, Object>> seen;
  std::uint32_t ok = 0, primaries = 0, answered = 0;
  Object merged = Object::empty(p.clock);
  while (answered < pref.size() && (ok < r || primaries < pr)) {
    auto reply = replies->pop(deadline);
    if (!reply) break;
    ++answered;
    if (!reply->object) continue;
    ++ok;
    primaries += reply->primary ? 1 : 0;
    merged = merge(key, merged, *reply->object);
    seen.emplace_back(reply->node, std::move(*reply->object));
  }
  if (ok < r || primaries < pr) {
    return make_error(Errc::timed_out, std::to_string(ok) + " of r=" + std::to_string(r) + " replicas answered (" +
                                           std::to_string(primaries) + " primaries, pr=" + std::to_string(pr) + ")");
  }
  GetReply out;
  out.siblings = visible_siblings(merged);
  out.found = !out.siblings.empty();
  out.context = encode_context(merged.context());
  out.clock_entries = merged.clock_entry_count();
  out.clock_bytes = out.context.size();
  // Read repair: once the others answer (or the deadline passes), bring the
  // replicas that were behind up to the merged object.
  const std::size_t expected = pref.size();
  if (all_tombstones(merged) && seen.size() == expected) schedule_reap(key, merged);
  rt_.spawn("dvv-read-repair", [this, key, merged, seen = std::move(seen), replies, expected, deadline,
                                answered]() mutable {
    std::size_t got = answered;
    while (got < expected) {
      auto reply = replies->pop(deadline);
      if (!reply) break;
      ++got;
      if (reply->object) {
        merged = merge(key, merged, *reply->object);
        seen.emplace_back(reply->node, std::move(*reply->object));
      }
    }
    read_repair(key, merged, std::move(seen));
  });
  return out;
}

void DvvNode::read_repair(const ObjectKey& key, const Object& merged, std::vector<std::pair<NodeIndex, Object>> seen) {
  for (const auto& [node, object] : seen) {
    if (object == merged) continue;
    rt_.record(Event("DvvReadRepair").detail("node", node).detail("key", key.key));
    if (config_.bug_no_repair) continue;  // planted: found, never fixed
    if (node == self_) {
      (void)sync_in(key, merged, false, std::nullopt);
      continue;
    }
    WireWriter w;
    w.str() += encode_key(key);
    w.bytes(encode_object(merged));
    (void)peer(node).call(RpcKind::repair, w.take(), config_.request_timeout);
  }
}

// --- PUT and DELETE

Result<PutReply> DvvNode::put(const ObjectKey& key, Sibling value, std::optional<std::string> context,
                              const RequestOptions& o) {
  if (value.body.size() > config_.value_bytes_max) return make_error(Errc::too_large, "value over the limit");
  value.timestamp_ms = now_ms();
  const BucketProps p = props(key.bucket);
  const std::uint32_t partition = ring_.partition_of(key.bucket, key.key);
  const auto primaries = ring_.primaries(partition, p.n_val);
  if (std::find(primaries.begin(), primaries.end(), self_) != primaries.end()) {
    return coordinate(key, std::move(value), std::move(context), o);
  }
  // Not a replica: forward to the first primary that is up (the paper's rule).
  for (NodeIndex n : primaries) {
    if (!peer_up(n)) continue;
    WireWriter w;
    w.str() += encode_key(key);
    w.bytes(encode_sibling(value));
    w.u8(context ? 1 : 0);
    if (context) w.bytes(*context);
    put_options(w, o);
    rt_.record(Event("DvvForwardPut").detail("to", n));
    auto reply = peer(n).call(RpcKind::coordinate, w.take(), o.timeout + config_.request_timeout);
    if (!reply) return reply.error();
    return decode_put_reply(*reply);
  }
  return unavailable("no primary of the key is up to coordinate the PUT");
}

Result<PutReply> DvvNode::remove(const ObjectKey& key, std::optional<std::string> context, const RequestOptions& o) {
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

Result<PutReply> DvvNode::coordinate(const ObjectKey& key, Sibling value, std::optional<std::string> context_bytes,
                                     const RequestOptions& o) {
  const BucketProps p = props(key.bucket);
  std::optional<Context> context;
  if (context_bytes && !config_.bug_ignore_context) {
    auto c = decode_context(*context_bytes, p.clock);
    if (!c) return make_error(Errc::invalid_argument, "X-Riak-Vclock: " + c.error().what);
    context = std::move(*c);
  }
  Write write;
  write.value = encode_sibling(value);
  write.context = std::move(context);
  write.coordinator = config_.bug_dot_per_write ? self_id_ + "." + std::to_string(++dots_) : self_id_;
  // Riak 0.13 gave a blind PUT without a client id a fresh one; so do we.
  write.client_id = !o.client_id.empty() ? o.client_id : self_id_ + "-" + std::to_string(rt_.random().next());
  write.timestamp_s = now_ms() / 1000;
  if (Status s = check_write(write, p.clock); !s) return make_error(Errc::invalid_argument, s.error().what);

  // The new dot is durable before anyone sees it: after a crash this node
  // must not hand out the same dot for another value.
  Object updated = Object::empty(p.clock);
  {
    KeyLock guard(*this, key);
    const StoredObject* local = log_->find(key);
    const bool usable = local != nullptr && local->object.kind() == p.clock;
    updated = dvv::put(usable ? local->object : Object::empty(p.clock), write, ClockOptions{p.clock, {}});
    if (!p.allow_mult) updated = last_write_wins(updated);
    if (updated.sibling_count() > config_.siblings_max) {
      return make_error(Errc::too_large, "the key would keep more than " + std::to_string(config_.siblings_max) + " siblings");
    }
    if (Status s = log_->put(key, updated, !config_.bug_ack_early); !s) return s.error();
  }
  PutReply out;
  out.context = encode_context(updated.context());
  out.siblings = visible_siblings(updated);
  out.clock_entries = updated.clock_entry_count();

  const std::uint32_t w = p.resolve(o.w.value_or(p.w)), dw = p.resolve(o.dw.value_or(p.dw)),
                      pw = p.resolve(o.pw.value_or(p.pw));
  auto pref = ring_.preference_list(ring_.partition_of(key.bucket, key.key), p.n_val,
                                    [this](NodeIndex n) { return peer_up(n); });
  if (pref.size() < w) return unavailable("only " + std::to_string(pref.size()) + " replicas are up, w=" + std::to_string(w));
  struct Ack {
    bool ok, durable, primary;
  };
  auto acks = std::make_shared<Channel<Ack>>(rt_, pref.size());
  std::uint32_t ok = 1, durable = 1, primaries = 1;  // our own write
  for (const Replica& rep : pref) {
    if (rep.node == self_) continue;
    rt_.spawn("dvv-replicate", [this, acks, rep, key, updated, timeout = o.timeout] {
      // Planted: replication queued for later, the client already told "stored".
      if (config_.bug_ack_early) rt_.sleep(config_.handoff_interval);
      // buggify: this replica's copy goes out late, after others were acked.
      if (buggify(rt_)) rt_.sleep(Duration(rt_.random().between(1'000'000, 500'000'000)));
      bool d = false;
      const Status s = store_replica(rep, key, updated, &d, timeout);
      (void)acks->try_push(Ack{s.ok(), s.ok() && d, rep.primary});
    });
  }
  if (config_.bug_ack_early) return out;  // planted: no quorum, no durability
  const Instant deadline = rt_.now() + o.timeout;
  std::uint32_t answered = 1;
  while (answered < pref.size() && (ok < w || durable < dw || primaries < pw)) {
    auto ack = acks->pop(deadline);
    if (!ack) break;
    ++answered;
    ok += ack->ok;
    durable += ack->durable;
    primaries += ack->ok && ack->primary;
  }
  if (ok < w || durable < dw || primaries < pw) {
    return make_error(Errc::timed_out, std::to_string(ok) + " of w=" + std::to_string(w) + " replicas acked (" +
                                           std::to_string(durable) + " durable of dw=" + std::to_string(dw) + ")");
  }
  if (value.tombstone && ok == p.n_val) schedule_reap(key, updated);
  return out;
}

void DvvNode::schedule_reap(const ObjectKey& key, const Object& tombstone) {
  rt_.spawn("dvv-reap", [this, key, tombstone] {
    rt_.sleep(config_.reap_delay);
    const BucketProps p = props(key.bucket);
    // Every primary must still hold exactly this tombstone; otherwise keep it.
    const auto primaries = ring_.primaries(ring_.partition_of(key.bucket, key.key), p.n_val);
    for (NodeIndex n : primaries) {
      auto o = read_replica(n, key, config_.request_timeout);
      if (!o || !(*o == tombstone)) return;
    }
    WireWriter w;
    w.str() += encode_key(key);
    w.bytes(encode_object(tombstone));
    for (NodeIndex n : primaries) {
      if (n == self_) {
        (void)handle(RpcKind::reap, w.str());
      } else {
        (void)peer(n).call(RpcKind::reap, w.str(), config_.request_timeout);
      }
    }
    rt_.record(Event("DvvTombstoneReaped").detail("key", key.key));
  });
}

}  // namespace doppel::dvv
