#pragma once
// The bodies of the node-to-node messages; rpc.h frames them. For each kind
// the request and its reply ("key" is bytes bucket then bytes key; "bytes" a
// varint length and the bytes; an error reply is the frame's, see rpc.cc):
//
//   ping          (empty)                                   -> (empty)
//   get           key                                       -> u8 found, [bytes object]
//   put           u8 hinted, varint target, key, bytes object, varint prune_at_s
//                                                           -> u8 durable (1)
//   coordinate    key, bytes sibling, u8 has_context, [bytes context], options
//                                                           -> put reply
//   repair        key, bytes object                         -> (empty)
//   repairs       varint n, n x bytes (key, bytes object)   -> n x u8 taken, once synced
//                                                              (handoff's batches)
//   reap          key, bytes object (the tombstone)         -> u8 reaped
//   aae_segments  varint partition                          -> kAaeSegments x varint hash
//   aae_keys      varint partition, varint segment          -> (bytes key, varint hash)...
//   props         encode_props(all)                         -> encode_props(all)
//   ring          encode_ring_state                         -> encode_ring_state (the newer)
//   cluster       u8 op, u8 has_change, [u8 kind, varint node, varint with]
//                                                           -> text for the operator
//   handed_off    varint node, varint ring version          -> (empty)
//
// options: five varints r, w, dw, pr, pw (0 unset, else q + 1), bytes
// client_id, varint timeout_ms. put reply: bytes context, varint
// clock_entries, varint n, n x bytes sibling.
//
// Decoders take any bytes: what does not parse is an error value, never an
// assertion (a peer may run another version).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "components/dvv/clock/object_clock.h"
#include "components/dvv/store/object_log.h"
#include "components/dvv/store/requests.h"
#include "components/dvv/store/ring.h"
#include "components/dvv/store/sibling.h"
#include "components/dvv/store/wire.h"
#include "runtime/result.h"

namespace doppel::dvv {

// Decoding limits of the fields a message carries.
inline constexpr std::size_t kKeyPartBytesMax = 1u << 16;  // a bucket or a key
inline constexpr std::size_t kClientIdBytesMax = 256;
inline constexpr std::uint64_t kForwardTimeoutMsMax = 60'000;

std::string encode_key(const ObjectKey& key);
ObjectKey read_key(WireReader& r);

// put: what a coordinator sends a replica to store.
struct StoreRequest {
  bool hinted = false;   // a fallback: keep it as a hint for `target`
  NodeIndex target = 0;  // the primary a fallback stands in for
  ObjectKey key;
  std::optional<Object> object;  // set once decoded
  std::int64_t prune_at_s = 0;   // 0: do not prune
};
std::string encode_store_request(const Replica& replica, const ObjectKey& key, const Object& object,
                                 std::int64_t prune_at_s);
Result<StoreRequest> decode_store_request(std::string_view bytes);

// coordinate: a PUT forwarded to a primary.
struct CoordinateRequest {
  ObjectKey key;
  Sibling value;
  std::optional<std::string> context;
  RequestOptions options;
};
std::string encode_coordinate_request(const ObjectKey& key, const Sibling& value,
                                      const std::optional<std::string>& context,
                                      const RequestOptions& options);
Result<CoordinateRequest> decode_coordinate_request(std::string_view bytes);
std::string encode_put_reply(const PutReply& reply);
Result<PutReply> decode_put_reply(std::string_view bytes);

// repair and reap: a key and an object; `what` names the kind in errors.
struct KeyedObject {
  ObjectKey key;
  std::optional<Object> object;  // set once decoded
};
std::string encode_keyed_object(const ObjectKey& key, const Object& object);
Result<KeyedObject> decode_keyed_object(std::string_view bytes, const char* what);

// repairs: many keyed objects (each encode_keyed_object's bytes) in one message, at most
// kRepairsMax; the reply says, for each in order, whether the replica took it.
inline constexpr std::size_t kRepairsMax = 1024;
std::string encode_repairs(const std::vector<std::string>& keyed_objects);
Result<std::vector<KeyedObject>> decode_repairs(std::string_view bytes);
std::string encode_repairs_reply(const std::vector<bool>& taken);
Result<std::vector<bool>> decode_repairs_reply(std::string_view bytes, std::size_t count);

// get's reply: the replica's object, if it has one.
std::string encode_get_reply(const Object* object);

// aae_segments and aae_keys requests.
std::string encode_segments_request(std::uint32_t partition);
std::string encode_segment_keys_request(std::uint32_t partition, std::uint64_t segment);

}  // namespace doppel::dvv
