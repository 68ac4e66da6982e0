// Conversion between DVVSet and the vv baseline; see clock_conversion.h.
#include "components/dvv/clock/clock_conversion.h"

#include <algorithm>
#include <map>

#include "runtime/assert.h"

namespace doppel::dvv {

namespace {

constexpr std::string_view kFromVv = "vv:";    // a DVVSet id that was an actor
constexpr std::string_view kFromDvv = "dvv:";  // an actor that was a DVVSet id

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

// Renamed (id, counter) pairs, merged by the larger counter where two names
// meet and without names too long for the target: sorted by name, unique.
template <typename Rename>
std::map<std::string, std::uint64_t> renamed_counters(
    const std::vector<std::pair<std::string_view, std::uint64_t>>& in, Rename rename,
    std::size_t name_bytes_max) {
  std::map<std::string, std::uint64_t> out;
  for (const auto& [name, counter] : in) {
    std::string renamed = rename(name);
    if (renamed.empty() || renamed.size() > name_bytes_max || counter == 0) continue;
    std::uint64_t& c = out[std::move(renamed)];
    c = std::max(c, counter);
  }
  return out;
}

VersionVector to_vv_clock(const std::vector<std::pair<std::string_view, std::uint64_t>>& pairs) {
  VersionVector clock;
  for (auto& [actor, counter] : renamed_counters(pairs, actor_of_replica_id, kActorIdBytesMax)) {
    clock.entries.push_back(VvEntry{actor, counter, 0});
  }
  DOPPEL_ASSERT(vv::is_well_formed(clock));
  return clock;
}

std::vector<DvvVectorEntry> to_dvv_vector(
    const std::vector<std::pair<std::string_view, std::uint64_t>>& pairs) {
  std::vector<DvvVectorEntry> out;
  for (auto& [id, counter] : renamed_counters(pairs, replica_id_of_actor, kReplicaIdBytesMax)) {
    out.push_back(DvvVectorEntry{id, counter});
  }
  return out;
}

// FNV-1a over `bytes`, then a final avalanche (splitmix64's), from `basis`.
std::uint64_t fnv_mixed(std::string_view bytes, std::uint64_t basis) {
  std::uint64_t h = basis;
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

// The id of the dot a vv sibling gets: the same for the same sibling of the
// same clock, on every replica. Timestamps are left out: replicas may hold
// the same counters with different times.
std::string sibling_dot_id(const Value& value, const VersionVector& clock) {
  std::string bytes;
  for (const VvEntry& e : clock.entries) {
    bytes += e.actor;
    bytes.push_back('\0');
    bytes += std::to_string(e.counter);
    bytes.push_back('\0');
  }
  bytes += value;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "vv~";
  for (const std::uint64_t basis : {0xcbf29ce484222325ULL, 0x84222325cbf29ce4ULL}) {
    const std::uint64_t h = fnv_mixed(bytes, basis);
    for (int shift = 60; shift >= 0; shift -= 4) id.push_back(kHex[(h >> shift) & 0xf]);
  }
  return id;
}

std::vector<std::pair<std::string_view, std::uint64_t>> counters_of(const VersionVector& clock) {
  std::vector<std::pair<std::string_view, std::uint64_t>> out;
  for (const VvEntry& e : clock.entries) out.emplace_back(e.actor, e.counter);
  return out;
}

// The vv object a DVVSet becomes, without its origin.
VvObject vv_of(const DvvSet& clock) {
  std::vector<std::pair<std::string_view, std::uint64_t>> pairs;
  for (const DvvEntry& e : clock.entries) pairs.emplace_back(e.id, e.counter);
  VvObject out;
  out.clock = to_vv_clock(pairs);
  out.siblings = dvvset::values(clock);
  std::sort(out.siblings.begin(), out.siblings.end());
  out.siblings.erase(std::unique(out.siblings.begin(), out.siblings.end()), out.siblings.end());
  return out;
}

// Whether `vv` holds what `origin` converts to: the same siblings and the same counters (the
// timestamps are ones merges gave the entries since). Then `origin` is what `vv` was converted
// from, or the sync of such DVVSets, with nothing written or pruned under vv since.
bool is_conversion_of(const VvObject& vv, const DvvSet& origin) {
  const VvObject expected = vv_of(origin);
  return expected.siblings == vv.siblings && vv::descends(expected.clock, vv.clock) &&
         vv::descends(vv.clock, expected.clock);
}

}  // namespace

std::string actor_of_replica_id(std::string_view id) {
  if (starts_with(id, kFromVv)) return std::string(id.substr(kFromVv.size()));
  return std::string(kFromDvv) + std::string(id);
}

std::string replica_id_of_actor(std::string_view actor) {
  if (starts_with(actor, kFromDvv)) return std::string(actor.substr(kFromDvv.size()));
  return std::string(kFromVv) + std::string(actor);
}

Object convert(const Object& object, ClockKind to) {
  if (object.kind() == to) return object;
  if (to == ClockKind::vv) {
    VvObject out = vv_of(object.dvvset());
    out.origin = object.dvvset();
    Object converted(std::move(out));
    DOPPEL_ASSERT(converted.sibling_count() <= object.sibling_count());
    return converted;
  }
  const VvObject& vv = object.vv();
  if (vv.origin && is_conversion_of(vv, *vv.origin)) return Object(*vv.origin);
  std::map<std::string, DvvEntry> entries;
  for (DvvVectorEntry& e : to_dvv_vector(counters_of(vv.clock))) {
    entries[e.id] = DvvEntry{e.id, e.counter, {}};
  }
  for (const Value& v : vv.siblings) {
    const std::string id = sibling_dot_id(v, vv.clock);
    DvvEntry& e = entries[id];
    e.id = id;
    e.counter = std::max<std::uint64_t>(e.counter, 1);
    e.values = {v};  // the dot (id, counter) is this value's
  }
  DvvSet out;
  for (auto& [id, e] : entries) out.entries.push_back(std::move(e));
  Object converted(std::move(out));
  DOPPEL_ASSERT(converted.sibling_count() == object.sibling_count());
  return converted;
}

Context convert(const Context& context, ClockKind to) {
  if (context.kind() == to) return context;
  if (to == ClockKind::vv) {
    std::vector<std::pair<std::string_view, std::uint64_t>> pairs;
    for (const DvvVectorEntry& e : context.dvvset()) pairs.emplace_back(e.id, e.counter);
    return Context(to_vv_clock(pairs));
  }
  DvvVector vector = to_dvv_vector(counters_of(context.vv()));
  DOPPEL_ASSERT(dvvset::is_well_formed(vector));
  return Context(std::move(vector));
}

}  // namespace doppel::dvv
