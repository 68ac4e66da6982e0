#include "components/dvv/store/object_checks.h"

#include <algorithm>
#include <limits>

namespace doppel::dvv {

namespace {

// Counters of one kind's clock, as (id, counter) pairs sorted by id.
std::vector<std::pair<std::string, std::uint64_t>> counters(const Object& o) {
  std::vector<std::pair<std::string, std::uint64_t>> out;
  if (o.kind() == ClockKind::dvvset) {
    for (const DvvEntry& e : o.dvvset().entries) out.emplace_back(e.id, e.counter);
  } else {
    for (const VvEntry& e : o.vv().clock.entries) out.emplace_back(e.actor, e.counter);
  }
  return out;
}

std::uint64_t counter_of(const std::vector<std::pair<std::string, std::uint64_t>>& cs,
                         const std::string& id) {
  auto it = std::lower_bound(cs.begin(), cs.end(), id, [](const auto& entry, const std::string& x) {
    return entry.first < x;
  });
  return it != cs.end() && it->first == id ? it->second : 0;
}

std::int64_t age_s(std::int64_t now_s, std::int64_t then_s) {
  std::int64_t age = 0;
  if (__builtin_sub_overflow(now_s, then_s, &age)) {
    return now_s > then_s ? std::numeric_limits<std::int64_t>::max()
                          : std::numeric_limits<std::int64_t>::min();
  }
  return age;
}

}  // namespace

std::uint64_t dot_counter(const Object& object, const ReplicaId& id) {
  if (object.kind() != ClockKind::dvvset) return 0;
  return counter_of(counters(object), id);
}

std::uint64_t dot_counter(const Context& context, const ReplicaId& id) {
  if (context.kind() != ClockKind::dvvset) return 0;
  for (const DvvVectorEntry& e : context.dvvset()) {
    if (e.id == id) return e.counter;
  }
  return 0;
}

bool history_covers(const Object& later, const Object& earlier) {
  if (later.kind() != earlier.kind()) return false;
  const auto have = counters(later);
  for (const auto& [id, counter] : counters(earlier)) {
    if (counter_of(have, id) < counter) return false;
  }
  return true;
}

bool kept_counters_not_behind(const Object& later, const Object& earlier) {
  if (later.kind() != earlier.kind()) return false;
  const auto before = counters(earlier);
  for (const auto& [id, counter] : counters(later)) {
    if (counter < counter_of(before, id)) return false;
  }
  return true;
}

std::vector<std::string> clock_ids(const Object& object) {
  std::vector<std::string> out;
  for (auto& [id, counter] : counters(object)) out.push_back(id);
  return out;
}

std::vector<std::string> clock_ids(const Context& context) {
  std::vector<std::string> out;
  if (context.kind() == ClockKind::dvvset) {
    for (const DvvVectorEntry& e : context.dvvset()) out.push_back(e.id);
  } else {
    for (const VvEntry& e : context.vv().entries) out.push_back(e.actor);
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool ids_within(const std::vector<std::string>& ids, const std::vector<std::string>& allowed) {
  for (const std::string& id : ids) {
    if (std::find(allowed.begin(), allowed.end(), id) == allowed.end()) return false;
  }
  return true;
}

bool within_prune_bound(const Object& object, std::int64_t now_s, const VvPruneOptions& options) {
  if (object.kind() != ClockKind::vv) return true;
  const std::vector<VvEntry>& entries = object.vv().clock.entries;
  if (entries.size() <= options.small_vclock) return true;
  // The oldest entry, as prune() orders them: by timestamp, then actor.
  auto oldest =
      std::min_element(entries.begin(), entries.end(), [](const VvEntry& x, const VvEntry& y) {
        return x.timestamp_s != y.timestamp_s ? x.timestamp_s < y.timestamp_s : x.actor < y.actor;
      });
  const std::int64_t age = age_s(now_s, oldest->timestamp_s);
  if (age < options.young_vclock_s) return true;
  return entries.size() <= options.big_vclock && age <= options.old_vclock_s;
}

}  // namespace doppel::dvv
