// The wire format of objects and contexts (described in object_clock.h).
// Decoding trusts nothing: every length is checked against the bytes left and
// a named limit before anything is allocated, varints must be minimal, and the
// decoded value must pass the representation invariants, so each accepted
// byte string is the one encoding of its value.
#include <cstdint>
#include <string>
#include <string_view>

#include "base/varint.h"
#include "components/dvv/clock/clock_conversion.h"
#include "components/dvv/clock/object_clock.h"
#include "runtime/assert.h"

namespace doppel::dvv {
namespace {

constexpr std::uint8_t kTagDvvObject = 0xD1;
constexpr std::uint8_t kTagDvvContext = 0xD2;
constexpr std::uint8_t kTagVvObject = 0xA1;
constexpr std::uint8_t kTagVvContext = 0xA2;
constexpr std::uint8_t kTagVvObjectWithOrigin = 0xA3;
// --- writing

void put_bytes(std::string& out, std::string_view bytes) {
  put_length_prefixed(out, bytes);
}

void put_values(std::string& out, const std::vector<Value>& values) {
  put_varint(out, values.size());
  for (const Value& v : values) put_bytes(out, v);
}

void put_vv_clock(std::string& out, const VersionVector& clock) {
  put_varint(out, clock.entries.size());
  for (const VvEntry& e : clock.entries) {
    put_bytes(out, e.actor);
    put_varint(out, e.counter);
    put_zigzag(out, e.timestamp_s);
  }
}

// --- reading

class Reader {
 public:
  Reader(std::string_view in, const char* what) : in_(in), what_(what) {}

  bool fail(std::string_view why) {
    if (problem_.empty()) problem_ = std::string(what_) + ": " + std::string(why);
    return false;
  }
  Error error() const { return make_error(Errc::corrupt, problem_); }
  bool at_end() const { return in_.empty(); }

  bool byte(std::uint8_t& b, const char* field) {
    if (in_.empty()) return fail(std::string("truncated at ") + field);
    b = static_cast<std::uint8_t>(in_.front());
    in_.remove_prefix(1);
    return true;
  }

  // Clocks are compared and hashed as bytes: only the minimal encoding is accepted.
  bool varint(std::uint64_t& v, const char* field) {
    const VarintStatus s = take_varint(in_, v, VarintRule::minimal);
    if (s == VarintStatus::truncated) return fail(std::string("truncated at ") + field);
    if (s != VarintStatus::ok) return fail(std::string(varint_status_name(s)) + " at " + field);
    return true;
  }

  bool zigzag(std::int64_t& v, const char* field) {
    std::uint64_t u = 0;
    if (!varint(u, field)) return false;
    v = zigzag_decode(u);
    return true;
  }

  // A count of items that take at least one byte each: at most `max` and at
  // most the bytes left, so that reserving it is bounded by the input.
  bool count(std::size_t& n, std::size_t max, const char* field) {
    std::uint64_t v = 0;
    if (!varint(v, field)) return false;
    if (v > max) return fail(std::string("too many ") + field);
    if (v > in_.size()) return fail(std::string("truncated at ") + field);
    n = static_cast<std::size_t>(v);
    return true;
  }

  bool bytes(std::string& out, std::size_t max, const char* field) {
    std::uint64_t n = 0;
    if (!varint(n, field)) return false;
    if (n > max) return fail(std::string("over-long ") + field);
    if (n > in_.size()) return fail(std::string("truncated at ") + field);
    out.assign(in_.data(), static_cast<std::size_t>(n));
    in_.remove_prefix(static_cast<std::size_t>(n));
    return true;
  }

  // Values share one budget per object, kObjectValuesMax.
  bool values(std::vector<Value>& out, std::size_t& budget, const char* field) {
    std::size_t n = 0;
    if (!count(n, budget, field)) return false;
    budget -= n;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      out.emplace_back();
      if (!bytes(out.back(), in_.size(), field)) return false;
    }
    return true;
  }

 private:
  std::string_view in_;
  const char* what_;
  std::string problem_;
};

bool read_dvv_entries(Reader& r, DvvSet& clock, std::size_t& budget) {
  std::size_t n = 0;
  if (!r.count(n, kClockEntriesMax, "clock entries")) return false;
  clock.entries.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    DvvEntry& e = clock.entries.emplace_back();
    if (!r.bytes(e.id, kReplicaIdBytesMax, "replica id")) return false;
    if (!r.varint(e.counter, "counter")) return false;
    if (!r.values(e.values, budget, "values")) return false;
  }
  return true;
}

bool read_dvv_vector(Reader& r, DvvVector& vector) {
  std::size_t n = 0;
  if (!r.count(n, kClockEntriesMax, "clock entries")) return false;
  vector.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    DvvVectorEntry& e = vector.emplace_back();
    if (!r.bytes(e.id, kReplicaIdBytesMax, "replica id")) return false;
    if (!r.varint(e.counter, "counter")) return false;
  }
  return true;
}

bool read_vv_clock(Reader& r, VersionVector& clock) {
  std::size_t n = 0;
  if (!r.count(n, kClockEntriesMax, "clock entries")) return false;
  clock.entries.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    VvEntry& e = clock.entries.emplace_back();
    if (!r.bytes(e.actor, kActorIdBytesMax, "client id")) return false;
    if (!r.varint(e.counter, "counter")) return false;
    if (!r.zigzag(e.timestamp_s, "timestamp")) return false;
  }
  return true;
}

bool read_dvvset(Reader& r, DvvSet& clock) {
  std::size_t budget = kObjectValuesMax;
  if (!read_dvv_entries(r, clock, budget) || !r.values(clock.anonymous, budget, "values")) {
    return false;
  }
  if (!dvvset::is_well_formed(clock)) {
    return r.fail("ids out of order, empty, or more values than dots");
  }
  return true;
}

Result<Object> decode_dvv_object(Reader& r) {
  DvvSet clock;
  if (!read_dvvset(r, clock)) return r.error();
  if (!r.at_end()) r.fail("bytes after the object");
  if (!r.at_end()) return r.error();
  return Object(std::move(clock));
}

Result<Object> decode_vv_object(Reader& r, bool with_origin) {
  VvObject object;
  std::size_t budget = kObjectValuesMax;
  if (!read_vv_clock(r, object.clock) || !r.values(object.siblings, budget, "siblings")) {
    return r.error();
  }
  if (with_origin && !read_dvvset(r, object.origin.emplace())) return r.error();
  if (!r.at_end()) r.fail("bytes after the object");
  if (!vv::is_well_formed(object))
    r.fail("ids out of order or empty, a zero counter, or siblings not sorted");
  if (!r.at_end() || !vv::is_well_formed(object)) return r.error();
  return Object(std::move(object));
}

void put_dvvset(std::string& out, const DvvSet& clock) {
  DOPPEL_ASSERT(dvvset::is_well_formed(clock));
  put_varint(out, clock.entries.size());
  for (const DvvEntry& e : clock.entries) {
    put_bytes(out, e.id);
    put_varint(out, e.counter);
    put_values(out, e.values);
  }
  put_values(out, clock.anonymous);
}

void check_limits(std::size_t entries, std::size_t values) {
  DOPPEL_ASSERT_MSG(entries <= kClockEntriesMax, "encode: more clock entries than decode takes");
  DOPPEL_ASSERT_MSG(values <= kObjectValuesMax, "encode: more values than decode takes");
}

}  // namespace

std::string encode_object(const Object& object) {
  std::string out;
  check_limits(object.clock_entry_count(), object.sibling_count());
  if (object.kind() == ClockKind::dvvset) {
    out += static_cast<char>(kTagDvvObject);
    put_dvvset(out, object.dvvset());
    return out;
  }
  const VvObject& vv_object = object.vv();
  DOPPEL_ASSERT(vv::is_well_formed(vv_object));
  out += static_cast<char>(vv_object.origin ? kTagVvObjectWithOrigin : kTagVvObject);
  put_vv_clock(out, vv_object.clock);
  put_values(out, vv_object.siblings);
  if (vv_object.origin) {
    check_limits(vv_object.origin->entries.size(), dvvset::size(*vv_object.origin));
    put_dvvset(out, *vv_object.origin);
  }
  return out;
}

Result<Object> decode_object(std::string_view bytes) {
  Reader r(bytes, "dvv object");
  std::uint8_t tag = 0;
  if (!r.byte(tag, "tag")) return r.error();
  if (tag == kTagDvvObject) return decode_dvv_object(r);
  if (tag == kTagVvObject || tag == kTagVvObjectWithOrigin) {
    return decode_vv_object(r, tag == kTagVvObjectWithOrigin);
  }
  r.fail("unknown tag");
  return r.error();
}

std::string encode_context(const Context& context) {
  std::string out;
  if (context.kind() == ClockKind::dvvset) {
    const DvvVector& vector = context.dvvset();
    DOPPEL_ASSERT(dvvset::is_well_formed(vector));
    check_limits(vector.size(), 0);
    out += static_cast<char>(kTagDvvContext);
    put_varint(out, vector.size());
    for (const DvvVectorEntry& e : vector) {
      put_bytes(out, e.id);
      put_varint(out, e.counter);
    }
    return out;
  }
  DOPPEL_ASSERT(vv::is_well_formed(context.vv()));
  check_limits(context.vv().entries.size(), 0);
  out += static_cast<char>(kTagVvContext);
  put_vv_clock(out, context.vv());
  return out;
}

Result<Context> decode_context(std::string_view bytes, ClockKind expected) {
  Reader r(bytes, "dvv context");
  std::uint8_t tag = 0;
  if (!r.byte(tag, "tag")) return r.error();
  if (tag != kTagDvvContext && tag != kTagVvContext) {
    r.fail("unknown tag");
    return r.error();
  }
  const ClockKind kind = tag == kTagDvvContext ? ClockKind::dvvset : ClockKind::vv;
  DvvVector vector;
  VersionVector clock;
  const bool read =
      kind == ClockKind::dvvset ? read_dvv_vector(r, vector) : read_vv_clock(r, clock);
  if (!read) return r.error();
  if (!r.at_end()) r.fail("bytes after the context");
  const bool formed =
      kind == ClockKind::dvvset ? dvvset::is_well_formed(vector) : vv::is_well_formed(clock);
  if (!formed) r.fail("ids out of order or empty, or a zero counter");
  if (!r.at_end() || !formed) return r.error();
  // A context of the other kind was handed out before the bucket's clock kind changed.
  if (kind == ClockKind::dvvset) return convert(Context(std::move(vector)), expected);
  return convert(Context(std::move(clock)), expected);
}

}  // namespace doppel::dvv
