#pragma once
// The one interface the store uses over both kinds of clock. A bucket property
// picks the kind: "dvvset" (the paper's DVVSet, one dot per sibling, ids are
// replicas) or "vv" (the Riak 0.13 baseline: one merged client-id version
// vector per object, pruned). The store never looks inside; it
//
//   GET:   merges the replies with sync(), lists siblings(), hands out
//          encode_context(object.context()) (base64 in X-Riak-Vclock);
//   PUT:   the coordinating replica runs put(local, write) and sends the
//          result to the other replicas;
//   a replica receiving a coordinator's object stores
//          prune(sync(local, incoming), write.timestamp_s) — Riak 0.13 pruned
//          at every replica's PUT; prune() does nothing to a DVVSet;
//   read repair, hinted handoff, anti-entropy: sync() (Riak did not prune there);
//   disk and wire: encode_object / decode_object.
//
// Everything is a value; nothing here does I/O or reads a clock. Bad bytes are
// Result errors; broken preconditions (a mix of kinds, an empty id) are
// assertions — check_write() lets a caller vet a write from the outside first.
//
// Wire format (one byte of tag, then the body; "bytes" is a varint length and
// the bytes; varints are LEB128, minimal, at most 64 bits):
//   0xD1 DVVSet object:  n, n x (bytes id, counter, k, k x bytes value), m, m x bytes value
//   0xD2 DVVSet context: n, n x (bytes id, counter)
//   0xA1 VV object:      n, n x (bytes actor, counter, zigzag timestamp_s), m, m x bytes value
//   0xA3 VV object with the DVVSet it was converted from: the 0xA1 body, then a 0xD1 body
//   0xA2 VV context:     n, n x (bytes actor, counter, zigzag timestamp_s)
// Every well-formed value has exactly one encoding and decode checks all of
// dvvset.h's and version_vector.h's invariants, so decode(encode(x)) == x and
// encode(decode(b)) == b for every b that decodes.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "components/dvv/clock/dvvset.h"
#include "components/dvv/clock/version_vector.h"
#include "runtime/result.h"

namespace doppel::dvv {

enum class ClockKind : std::uint8_t { dvvset, vv };

std::string_view clock_kind_name(ClockKind kind);  // "dvvset" | "vv"
// invalid_argument for any other name.
Result<ClockKind> parse_clock_kind(std::string_view name);

// Decoding limits (a stored object or a context from a client may be anything).
inline constexpr std::size_t kClockEntriesMax = 1u << 16;  // clock entries per object
inline constexpr std::size_t kObjectValuesMax = 1u << 16;  // siblings per object

struct ClockOptions {
  ClockKind kind = ClockKind::dvvset;
  VvPruneOptions prune;  // vv only
};

// The causal context of a GET, handed back with a PUT.
class Context {
 public:
  explicit Context(DvvVector vector) : v_(std::move(vector)) {}
  explicit Context(VersionVector clock) : v_(std::move(clock)) {}

  ClockKind kind() const { return v_.index() == 0 ? ClockKind::dvvset : ClockKind::vv; }
  const DvvVector& dvvset() const;  // kind() == dvvset
  const VersionVector& vv() const;  // kind() == vv

  bool operator==(const Context&) const = default;

 private:
  std::variant<DvvVector, VersionVector> v_;
};

// One client write as the coordinating replica sees it.
struct Write {
  Value value;
  std::optional<Context> context;  // from a GET; none for a blind PUT
  ReplicaId coordinator;           // dvvset: the replica running the PUT (its dots)
  ActorId client_id;               // vv: X-Riak-ClientId, the actor incremented
  std::int64_t timestamp_s = 0;    // vv: the entry's timestamp and the prune time
};

// A stored object: the clock and its siblings.
class Object {
 public:
  explicit Object(DvvSet clock);
  explicit Object(VvObject object);
  static Object empty(ClockKind kind);  // no siblings, no history: a missing key

  ClockKind kind() const { return v_.index() == 0 ? ClockKind::dvvset : ClockKind::vv; }
  // The values a GET returns. dvvset: dvvset::values(); vv: sorted.
  std::vector<Value> siblings() const;
  std::size_t sibling_count() const;
  // The context for a GET: dvvset::join(clock), or the merged vv clock.
  Context context() const;
  // Entries of the clock (the paper's clock size, in entries).
  std::size_t clock_entry_count() const;

  const DvvSet& dvvset() const;  // kind() == dvvset
  const VvObject& vv() const;    // kind() == vv

  // Structural: the same clock and the same siblings in the same order.
  bool operator==(const Object&) const = default;

 private:
  std::variant<DvvSet, VvObject> v_;
};

// ok, or invalid_argument naming what a put() would assert on: the context's
// kind, an empty or over-long coordinator (dvvset) or client id (vv).
Status check_write(const Write& write, ClockKind kind);

// The coordinator's PUT: `stored` is its current object (Object::empty() for a
// missing key). dvvset: update(make(context, value), stored, coordinator).
// vv: vv::put() — increment the context at client_id, merge unless already
// seen, prune at timestamp_s.
Object put(const Object& stored, const Write& write, const ClockOptions& options);

// Merges two replicas' objects: what each has made obsolete goes, concurrent
// siblings stay. Both objects are of one kind. Commutative and idempotent for
// both kinds; associative for dvvset only — a merged vv clock cannot tell
// which sibling saw what, so the order of merges can keep an obsolete sibling
// (see the tests).
Object sync(const Object& a, const Object& b);

// vv: vv::prune() of the clock at `now_s`; dvvset: the object unchanged.
Object prune(const Object& object, std::int64_t now_s, const ClockOptions& options);

std::string encode_object(const Object& object);
// corrupt for anything but one whole object of either kind.
Result<Object> decode_object(std::string_view bytes);

std::string encode_context(const Context& context);
// corrupt for bad bytes. A well-formed context of the other kind (the bucket's
// clock kind changed since the GET) is converted (clock_conversion.h).
Result<Context> decode_context(std::string_view bytes, ClockKind expected);

}  // namespace doppel::dvv
