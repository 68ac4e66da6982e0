// The object interface over DVVSet and the version vector baseline; see
// object_clock.h. Encoding and decoding live in codec.cc.
#include "components/dvv/clock/object_clock.h"

#include <algorithm>

#include "runtime/assert.h"

namespace doppel::dvv {

std::string_view clock_kind_name(ClockKind kind) {
  switch (kind) {
    case ClockKind::dvvset:
      return "dvvset";
    case ClockKind::vv:
      return "vv";
  }
  return "?";
}

Result<ClockKind> parse_clock_kind(std::string_view name) {
  if (name == "dvvset") return ClockKind::dvvset;
  if (name == "vv") return ClockKind::vv;
  return make_error(Errc::invalid_argument,
                    "clock kind '" + std::string(name) + "': expected dvvset or vv");
}

const DvvVector& Context::dvvset() const {
  DOPPEL_ASSERT(kind() == ClockKind::dvvset);
  return std::get<0>(v_);
}

const VersionVector& Context::vv() const {
  DOPPEL_ASSERT(kind() == ClockKind::vv);
  return std::get<1>(v_);
}

Object::Object(DvvSet clock) : v_(std::move(clock)) {
  DOPPEL_ASSERT(dvvset::is_well_formed(std::get<0>(v_)));
}

Object::Object(VvObject object) : v_(std::move(object)) {
  DOPPEL_ASSERT(vv::is_well_formed(std::get<1>(v_)));
}

Object Object::empty(ClockKind kind) {
  return kind == ClockKind::dvvset ? Object(DvvSet{}) : Object(VvObject{});
}

std::vector<Value> Object::siblings() const {
  if (kind() == ClockKind::dvvset) return dvvset::values(dvvset());
  return vv().siblings;
}

std::size_t Object::sibling_count() const {
  if (kind() == ClockKind::dvvset) return dvvset::size(dvvset());
  return vv().siblings.size();
}

Context Object::context() const {
  if (kind() == ClockKind::dvvset) return Context(dvvset::join(dvvset()));
  return Context(vv().clock);
}

std::size_t Object::clock_entry_count() const {
  if (kind() == ClockKind::dvvset) return dvvset().entries.size();
  return vv().clock.entries.size();
}

const DvvSet& Object::dvvset() const {
  DOPPEL_ASSERT(kind() == ClockKind::dvvset);
  return std::get<0>(v_);
}

const VvObject& Object::vv() const {
  DOPPEL_ASSERT(kind() == ClockKind::vv);
  return std::get<1>(v_);
}

Status check_write(const Write& write, ClockKind kind) {
  if (write.context && write.context->kind() != kind) {
    return make_error(Errc::invalid_argument,
                      "a " + std::string(clock_kind_name(write.context->kind())) +
                          " context for a " + std::string(clock_kind_name(kind)) + " bucket");
  }
  if (kind == ClockKind::dvvset &&
      (write.coordinator.empty() || write.coordinator.size() > kReplicaIdBytesMax)) {
    return make_error(Errc::invalid_argument, "coordinator id: 1 to 255 bytes");
  }
  if (kind == ClockKind::vv &&
      (write.client_id.empty() || write.client_id.size() > kActorIdBytesMax)) {
    return make_error(Errc::invalid_argument, "client id: 1 to 255 bytes");
  }
  // The prefixes clock_conversion.h gives ids that cross between the kinds:
  // an actor "dvv:n1" would become replica n1 and claim its dots.
  if (kind == ClockKind::vv && write.client_id.rfind("dvv:", 0) == 0) {
    return make_error(Errc::invalid_argument, "client id: must not begin with \"dvv:\"");
  }
  if (kind == ClockKind::dvvset && write.coordinator.rfind("vv:", 0) == 0) {
    return make_error(Errc::invalid_argument, "coordinator id: must not begin with \"vv:\"");
  }
  return {};
}

Object put(const Object& stored, const Write& write, const ClockOptions& options) {
  DOPPEL_ASSERT(stored.kind() == options.kind);
  DOPPEL_ASSERT_MSG(check_write(write, options.kind).ok(), "put: check_write fails");
  if (options.kind == ClockKind::dvvset) {
    const DvvSet client = write.context ? dvvset::make(write.context->dvvset(), write.value)
                                        : dvvset::make(write.value);
    Object out(dvvset::update(client, stored.dvvset(), write.coordinator));
    // The new value is one of the siblings, and nothing it had not seen went.
    DOPPEL_ASSERT(out.sibling_count() >= 1);
    return out;
  }
  const VersionVector* context = write.context ? &write.context->vv() : nullptr;
  return Object(vv::put(stored.vv(), context, write.value, write.client_id, write.timestamp_s,
                        options.prune));
}

Object sync(const Object& a, const Object& b) {
  DOPPEL_ASSERT_MSG(a.kind() == b.kind(), "sync of two kinds of clock");
  if (a.kind() == ClockKind::dvvset) return Object(dvvset::sync(a.dvvset(), b.dvvset()));
  return Object(vv::sync(a.vv(), b.vv()));
}

Object prune(const Object& object, std::int64_t now_s, const ClockOptions& options) {
  DOPPEL_ASSERT(object.kind() == options.kind);
  if (object.kind() == ClockKind::dvvset) return object;
  VvObject pruned = object.vv();
  pruned.clock = vv::prune(pruned.clock, now_s, options.prune);
  return Object(std::move(pruned));
}

}  // namespace doppel::dvv
