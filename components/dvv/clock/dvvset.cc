// DVVSet operations; see dvvset.h. Every loop here is bounded by the sizes of
// its arguments; nothing recurses.
#include "components/dvv/clock/dvvset.h"

#include <algorithm>
#include <utility>

#include "runtime/assert.h"

namespace doppel::dvv::dvvset {
namespace {

bool id_ok(const ReplicaId& id) {
  return !id.empty() && id.size() <= kReplicaIdBytesMax;
}

// merge/5 of the reference: two entries for the same id. Each keeps the values
// of the dots above its "floor" (counter - number of values); the merged entry
// keeps the values above the higher floor, taken from the entry with the
// higher counter (which holds every such dot).
DvvEntry merge_entry(const DvvEntry& a, const DvvEntry& b) {
  DOPPEL_ASSERT(a.id == b.id);
  DOPPEL_ASSERT(a.values.size() <= a.counter);
  DOPPEL_ASSERT(b.values.size() <= b.counter);
  const DvvEntry& high = a.counter >= b.counter ? a : b;
  const DvvEntry& low = a.counter >= b.counter ? b : a;
  const std::uint64_t high_floor = high.counter - high.values.size();
  const std::uint64_t low_floor = low.counter - low.values.size();
  if (high_floor >= low_floor) return high;
  // Keep the high entry's dots above low_floor: counter - low_floor of them,
  // fewer than it has (high_floor < low_floor).
  const std::uint64_t keep = high.counter - low_floor;
  DOPPEL_ASSERT(keep < high.values.size());
  DvvEntry merged{high.id, high.counter, {}};
  merged.values.assign(high.values.begin(),
                       high.values.begin() + static_cast<std::ptrdiff_t>(keep));
  return merged;
}

// sync2/2 of the reference: a merge join of two sorted entry lists.
std::vector<DvvEntry> sync_entries(const std::vector<DvvEntry>& a, const std::vector<DvvEntry>& b) {
  std::vector<DvvEntry> out;
  out.reserve(a.size() + b.size());
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i].id < b[j].id) {
      out.push_back(a[i++]);
    } else if (b[j].id < a[i].id) {
      out.push_back(b[j++]);
    } else {
      out.push_back(merge_entry(a[i++], b[j++]));
    }
  }
  out.insert(out.end(), a.begin() + static_cast<std::ptrdiff_t>(i), a.end());
  out.insert(out.end(), b.begin() + static_cast<std::ptrdiff_t>(j), b.end());
  return out;
}

// greater/3 of the reference: a's history strictly contains b's. An id that
// only `a` has counts as "more" whatever its counter, as in the reference.
bool greater(const std::vector<DvvEntry>& a, const std::vector<DvvEntry>& b) {
  bool strict = false;
  std::size_t i = 0, j = 0;
  while (true) {
    if (i == a.size() && j == b.size()) return strict;
    if (j == b.size()) return true;
    if (i == a.size()) return false;
    if (a[i].id == b[j].id) {
      if (a[i].counter < b[j].counter) return false;
      if (a[i].counter > b[j].counter) strict = true;
      ++i;
      ++j;
    } else if (a[i].id < b[j].id) {
      strict = true;
      ++i;
    } else {
      return false;  // b knows an id that a does not
    }
  }
}

// event/3 of the reference: the next dot of `id` gets `value`.
std::vector<DvvEntry> event(std::vector<DvvEntry> entries, const ReplicaId& id, Value value) {
  auto it = std::lower_bound(entries.begin(), entries.end(), id,
                             [](const DvvEntry& e, const ReplicaId& key) { return e.id < key; });
  if (it != entries.end() && it->id == id) {
    it->counter += 1;
    it->values.insert(it->values.begin(), std::move(value));
  } else {
    entries.insert(it, DvvEntry{id, 1, {std::move(value)}});
  }
  return entries;
}

// The reference keeps "all unique anonymous values" through an Erlang set,
// whose order is unspecified. We keep them sorted: the same set, an order that
// does not depend on the argument order, so sync(a, b) == sync(b, a) exactly.
std::vector<Value> union_sorted(const std::vector<Value>& a, const std::vector<Value>& b) {
  std::vector<Value> out;
  out.reserve(a.size() + b.size());
  out.insert(out.end(), a.begin(), a.end());
  out.insert(out.end(), b.begin(), b.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// The winner of last/lww (find_entry of the reference).
struct Winner {
  const Value* value = nullptr;
  bool anonymous = false;
  std::size_t entry = 0;  // when not anonymous
};

Winner find_winner(const LessOrEqual& less_or_equal, const DvvSet& clock) {
  DOPPEL_ASSERT_MSG(size(clock) > 0, "last/lww of a clock without values");
  Winner w;
  for (std::size_t i = 0; i < clock.entries.size(); ++i) {
    const DvvEntry& e = clock.entries[i];
    if (e.values.empty()) continue;
    if (w.value == nullptr || less_or_equal(*w.value, e.values.front())) {
      w = Winner{&e.values.front(), false, i};
    }
  }
  for (const Value& v : clock.anonymous) {
    if (w.value == nullptr || less_or_equal(*w.value, v)) w = Winner{&v, true, 0};
  }
  DOPPEL_ASSERT(w.value != nullptr);
  return w;
}

}  // namespace

DvvSet make(Value value) {
  DvvSet clock;
  clock.anonymous.push_back(std::move(value));
  return clock;
}

DvvSet make_list(std::vector<Value> values) {
  return DvvSet{{}, std::move(values)};
}

DvvSet make(const DvvVector& context, Value value) {
  std::vector<Value> values;
  values.push_back(std::move(value));
  return make_list(context, std::move(values));
}

DvvSet make_list(const DvvVector& context, std::vector<Value> values) {
  DvvVector sorted = context;
  std::sort(sorted.begin(), sorted.end(),
            [](const DvvVectorEntry& x, const DvvVectorEntry& y) { return x.id < y.id; });
  DOPPEL_ASSERT_MSG(is_well_formed(sorted), "a context with an empty, long or repeated id");
  DvvSet clock;
  clock.entries.reserve(sorted.size());
  for (DvvVectorEntry& e : sorted)
    clock.entries.push_back(DvvEntry{std::move(e.id), e.counter, {}});
  clock.anonymous = std::move(values);
  return clock;
}

DvvSet sync(const DvvSet& a, const DvvSet& b) {
  DOPPEL_ASSERT(is_well_formed(a));
  DOPPEL_ASSERT(is_well_formed(b));
  DvvSet out;
  if (less(a, b)) {
    out.anonymous = b.anonymous;
  } else if (less(b, a)) {
    out.anonymous = a.anonymous;
  } else {
    out.anonymous = union_sorted(a.anonymous, b.anonymous);
  }
  out.entries = sync_entries(a.entries, b.entries);
  DOPPEL_ASSERT(is_well_formed(out));
  return out;
}

DvvSet sync(std::span<const DvvSet> clocks) {
  if (clocks.empty()) return DvvSet{};
  DvvSet out = clocks.front();
  for (std::size_t i = 1; i < clocks.size(); ++i) out = sync(out, clocks[i]);
  return out;
}

DvvVector join(const DvvSet& clock) {
  DvvVector vector;
  vector.reserve(clock.entries.size());
  for (const DvvEntry& e : clock.entries) vector.push_back(DvvVectorEntry{e.id, e.counter});
  return vector;
}

DvvSet update(const DvvSet& client, const ReplicaId& id) {
  DOPPEL_ASSERT_MSG(client.anonymous.size() == 1, "update: the client clock holds one value");
  DOPPEL_ASSERT(id_ok(id));
  DOPPEL_ASSERT(is_well_formed(client));
  DvvSet out;
  out.entries = event(client.entries, id, client.anonymous.front());
  return out;
}

DvvSet update(const DvvSet& client, const DvvSet& server, const ReplicaId& id) {
  DOPPEL_ASSERT_MSG(client.anonymous.size() == 1, "update: the client clock holds one value");
  DOPPEL_ASSERT(id_ok(id));
  // Sync without the new value; the server's anonymous values that survive stay.
  DvvSet synced = sync(DvvSet{client.entries, {}}, server);
  synced.entries = event(std::move(synced.entries), id, client.anonymous.front());
  DOPPEL_ASSERT(less(server, synced));
  return synced;
}

std::size_t size(const DvvSet& clock) {
  std::size_t n = clock.anonymous.size();
  for (const DvvEntry& e : clock.entries) n += e.values.size();
  return n;
}

std::vector<ReplicaId> ids(const DvvSet& clock) {
  std::vector<ReplicaId> out;
  out.reserve(clock.entries.size());
  for (const DvvEntry& e : clock.entries) out.push_back(e.id);
  return out;
}

std::vector<Value> values(const DvvSet& clock) {
  std::vector<Value> out;
  out.reserve(size(clock));
  out.insert(out.end(), clock.anonymous.begin(), clock.anonymous.end());
  for (const DvvEntry& e : clock.entries) out.insert(out.end(), e.values.begin(), e.values.end());
  return out;
}

bool less(const DvvSet& a, const DvvSet& b) {
  return greater(b.entries, a.entries);
}

bool equal(const DvvSet& a, const DvvSet& b) {
  if (a.entries.size() != b.entries.size()) return false;
  for (std::size_t i = 0; i < a.entries.size(); ++i) {
    const DvvEntry& x = a.entries[i];
    const DvvEntry& y = b.entries[i];
    if (x.id != y.id || x.counter != y.counter || x.values.size() != y.values.size()) return false;
  }
  return true;
}

Value last(const LessOrEqual& less_or_equal, const DvvSet& clock) {
  return *find_winner(less_or_equal, clock).value;
}

DvvSet lww(const LessOrEqual& less_or_equal, const DvvSet& clock) {
  const Winner w = find_winner(less_or_equal, clock);
  if (w.anonymous) return make(join(clock), *w.value);
  DvvSet out;
  out.entries.reserve(clock.entries.size());
  for (std::size_t i = 0; i < clock.entries.size(); ++i) {
    const DvvEntry& e = clock.entries[i];
    DvvEntry kept{e.id, e.counter, {}};
    if (i == w.entry) kept.values.push_back(*w.value);
    out.entries.push_back(std::move(kept));
  }
  return out;
}

DvvSet reconcile(const Reconciler& reconciler, const DvvSet& clock) {
  return make(join(clock), reconciler(values(clock)));
}

bool is_well_formed(const DvvSet& clock) {
  for (std::size_t i = 0; i < clock.entries.size(); ++i) {
    const DvvEntry& e = clock.entries[i];
    if (!id_ok(e.id) || e.values.size() > e.counter) return false;
    if (i > 0 && !(clock.entries[i - 1].id < e.id)) return false;
  }
  return true;
}

bool is_well_formed(const DvvVector& vector) {
  for (std::size_t i = 0; i < vector.size(); ++i) {
    if (!id_ok(vector[i].id)) return false;
    if (i > 0 && !(vector[i - 1].id < vector[i].id)) return false;
  }
  return true;
}

}  // namespace doppel::dvv::dvvset
