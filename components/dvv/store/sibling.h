#pragma once
// What one sibling holds, as Riak's riak_object metadata + value: the body,
// its content type, when it was written (for last-write-wins), and whether it
// is a tombstone (a DELETE). Encoded into the opaque Value the clocks carry.

#include <cstdint>
#include <optional>
#include <string>

#include "components/dvv/clock/object_clock.h"

namespace doppel::dvv {

struct Sibling {
  std::string body;
  std::string content_type = "application/octet-stream";
  std::int64_t timestamp_ms = 0;
  bool tombstone = false;
};

Value encode_sibling(const Sibling& s);
std::optional<Sibling> decode_sibling(const Value& v);

// Last write wins: the object with only its newest sibling (by timestamp,
// then bytes), keeping the causal history.
Object last_write_wins(const Object& object);

// True when every sibling is a tombstone (a deleted key).
bool all_tombstones(const Object& object);

}  // namespace doppel::dvv
