// Client-id version vectors with Riak's pruning; see version_vector.h.
#include "components/dvv/clock/version_vector.h"

#include <algorithm>
#include <iterator>
#include <limits>
#include <utility>

#include "runtime/assert.h"

namespace doppel::dvv::vv {
namespace {

bool actor_ok(const ActorId& actor) {
  return !actor.empty() && actor.size() <= kActorIdBytesMax;
}

// now - then, saturated to the int64 range (timestamps come from other nodes'
// wall clocks and from the wire; they may be anything).
std::int64_t age_s(std::int64_t now_s, std::int64_t then_s) {
  std::int64_t age = 0;
  if (__builtin_sub_overflow(now_s, then_s, &age)) {
    return now_s > then_s ? std::numeric_limits<std::int64_t>::max()
                          : std::numeric_limits<std::int64_t>::min();
  }
  return age;
}

const VvEntry* find(const VersionVector& clock, const ActorId& actor) {
  auto it = std::lower_bound(clock.entries.begin(), clock.entries.end(), actor,
                             [](const VvEntry& e, const ActorId& key) { return e.actor < key; });
  if (it == clock.entries.end() || it->actor != actor) return nullptr;
  return &*it;
}

std::vector<Value> union_sorted(const std::vector<Value>& a, const std::vector<Value>& b) {
  std::vector<Value> out;
  out.reserve(a.size() + b.size());
  std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

}  // namespace

bool descends(const VersionVector& a, const VersionVector& b) {
  // Both sorted: one pass.
  std::size_t i = 0;
  for (const VvEntry& eb : b.entries) {
    while (i < a.entries.size() && a.entries[i].actor < eb.actor) ++i;
    if (i == a.entries.size() || a.entries[i].actor != eb.actor) return false;
    if (a.entries[i].counter < eb.counter) return false;
  }
  return true;
}

bool dominates(const VersionVector& a, const VersionVector& b) {
  return descends(a, b) && !descends(b, a);
}

VersionVector merge(const VersionVector& a, const VersionVector& b) {
  DOPPEL_ASSERT(is_well_formed(a));
  DOPPEL_ASSERT(is_well_formed(b));
  VersionVector out;
  out.entries.reserve(a.entries.size() + b.entries.size());
  std::size_t i = 0, j = 0;
  while (i < a.entries.size() && j < b.entries.size()) {
    const VvEntry& x = a.entries[i];
    const VvEntry& y = b.entries[j];
    if (x.actor < y.actor) {
      out.entries.push_back(x);
      ++i;
    } else if (y.actor < x.actor) {
      out.entries.push_back(y);
      ++j;
    } else {
      if (x.counter != y.counter) {
        out.entries.push_back(x.counter > y.counter ? x : y);
      } else {
        out.entries.push_back(VvEntry{x.actor, x.counter, std::max(x.timestamp_s, y.timestamp_s)});
      }
      ++i;
      ++j;
    }
  }
  out.entries.insert(out.entries.end(), a.entries.begin() + static_cast<std::ptrdiff_t>(i),
                     a.entries.end());
  out.entries.insert(out.entries.end(), b.entries.begin() + static_cast<std::ptrdiff_t>(j),
                     b.entries.end());
  DOPPEL_ASSERT(descends(out, a));
  DOPPEL_ASSERT(descends(out, b));
  return out;
}

VersionVector increment(const VersionVector& clock, const ActorId& actor,
                        std::int64_t timestamp_s) {
  DOPPEL_ASSERT(actor_ok(actor));
  VersionVector out = clock;
  auto it = std::lower_bound(out.entries.begin(), out.entries.end(), actor,
                             [](const VvEntry& e, const ActorId& key) { return e.actor < key; });
  if (it != out.entries.end() && it->actor == actor) {
    DOPPEL_ASSERT(it->counter < std::numeric_limits<std::uint64_t>::max());
    it->counter += 1;
    it->timestamp_s = timestamp_s;
  } else {
    out.entries.insert(it, VvEntry{actor, 1, timestamp_s});
  }
  return out;
}

std::uint64_t counter(const VersionVector& clock, const ActorId& actor) {
  const VvEntry* e = find(clock, actor);
  return e == nullptr ? 0 : e->counter;
}

VersionVector prune(const VersionVector& clock, std::int64_t now_s, const VvPruneOptions& options) {
  DOPPEL_ASSERT(is_well_formed(clock));
  const std::size_t n = clock.entries.size();
  if (n <= options.small_vclock) return clock;
  // Oldest first; the actor breaks ties so that all replicas prune alike.
  std::vector<const VvEntry*> by_age;
  by_age.reserve(n);
  for (const VvEntry& e : clock.entries) by_age.push_back(&e);
  std::sort(by_age.begin(), by_age.end(), [](const VvEntry* x, const VvEntry* y) {
    if (x->timestamp_s != y->timestamp_s) return x->timestamp_s < y->timestamp_s;
    return x->actor < y->actor;
  });
  std::size_t dropped = 0;
  while (n - dropped > options.small_vclock) {
    const std::int64_t age = age_s(now_s, by_age[dropped]->timestamp_s);
    if (age < options.young_vclock_s) break;
    if (n - dropped <= options.big_vclock && age <= options.old_vclock_s) break;
    ++dropped;
  }
  if (dropped == 0) return clock;
  std::vector<ActorId> gone;
  gone.reserve(dropped);
  for (std::size_t k = 0; k < dropped; ++k) gone.push_back(by_age[k]->actor);
  std::sort(gone.begin(), gone.end());
  VersionVector out;
  out.entries.reserve(n - dropped);
  for (const VvEntry& e : clock.entries) {
    if (!std::binary_search(gone.begin(), gone.end(), e.actor)) out.entries.push_back(e);
  }
  DOPPEL_ASSERT(out.entries.size() == n - dropped);
  DOPPEL_ASSERT(out.entries.size() >= std::min(n, options.small_vclock));
  return out;
}

VvObject sync(const VvObject& a, const VvObject& b) {
  DOPPEL_ASSERT(is_well_formed(a));
  DOPPEL_ASSERT(is_well_formed(b));
  if (dominates(a.clock, b.clock)) return a;
  if (dominates(b.clock, a.clock)) return b;
  VvObject out{merge(a.clock, b.clock), union_sorted(a.siblings, b.siblings), std::nullopt};
  if (a.origin && b.origin) out.origin = dvvset::sync(*a.origin, *b.origin);
  return out;
}

VvObject put(const VvObject& stored, const VersionVector* context, Value value,
             const ActorId& client_id, std::int64_t timestamp_s, const VvPruneOptions& options) {
  DOPPEL_ASSERT(actor_ok(client_id));
  VvObject incoming;
  incoming.clock =
      increment(context == nullptr ? VersionVector{} : *context, client_id, timestamp_s);
  incoming.siblings.push_back(std::move(value));
  if (descends(stored.clock, incoming.clock)) return stored;
  VvObject merged = sync(stored, incoming);
  merged.clock = prune(merged.clock, timestamp_s, options);
  return merged;
}

bool is_well_formed(const VersionVector& clock) {
  for (std::size_t i = 0; i < clock.entries.size(); ++i) {
    const VvEntry& e = clock.entries[i];
    if (!actor_ok(e.actor) || e.counter == 0) return false;
    if (i > 0 && !(clock.entries[i - 1].actor < e.actor)) return false;
  }
  return true;
}

bool is_well_formed(const VvObject& object) {
  if (!is_well_formed(object.clock)) return false;
  for (std::size_t i = 1; i < object.siblings.size(); ++i) {
    if (!(object.siblings[i - 1] < object.siblings[i])) return false;
  }
  return !object.origin || dvvset::is_well_formed(*object.origin);
}

}  // namespace doppel::dvv::vv
