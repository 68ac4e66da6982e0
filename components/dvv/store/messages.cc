#include "components/dvv/store/messages.h"

#include <algorithm>

#include "runtime/assert.h"

namespace doppel::dvv {

namespace {

void write_options(WireWriter& w, const RequestOptions& o) {
  // 0 is "unset"; widened first: "quorum" (BucketProps::kQuorum) + 1 overflows 32 bits to 0,
  // which dropped a forwarded PUT's pw=quorum (found by pw-dw-durable).
  for (const auto& q : {o.r, o.w, o.dw, o.pr, o.pw}) w.varint(q ? std::uint64_t{*q} + 1 : 0);
  w.bytes(o.client_id);
  w.varint(static_cast<std::uint64_t>(o.timeout.count() / 1'000'000));
}

RequestOptions read_options(WireReader& r) {
  RequestOptions o;
  for (auto* q : {&o.r, &o.w, &o.dw, &o.pr, &o.pw}) {
    const std::uint64_t v = r.varint();
    if (v > 0) *q = static_cast<std::uint32_t>(v - 1);
  }
  o.client_id = std::string(r.bytes(kClientIdBytesMax));
  o.timeout = std::chrono::milliseconds(std::min<std::uint64_t>(r.varint(), kForwardTimeoutMsMax));
  return o;
}

}  // namespace

std::string encode_key(const ObjectKey& k) {
  WireWriter w;
  w.bytes(k.bucket);
  w.bytes(k.key);
  return w.take();
}

ObjectKey read_key(WireReader& r) {
  return ObjectKey{std::string(r.bytes(kKeyPartBytesMax)), std::string(r.bytes(kKeyPartBytesMax))};
}

std::string encode_store_request(const Replica& replica, const ObjectKey& key, const Object& object,
                                 std::int64_t prune_at_s) {
  // A fallback never stands in for itself: its hints are for another node.
  DOPPEL_ASSERT(replica.primary || replica.hinted_for != replica.node);
  WireWriter w;
  w.u8(replica.primary ? 0 : 1);
  w.varint(replica.hinted_for);
  w.str() += encode_key(key);
  w.bytes(encode_object(object));
  w.varint(static_cast<std::uint64_t>(prune_at_s));
  return w.take();
}

Result<StoreRequest> decode_store_request(std::string_view bytes) {
  WireReader r(bytes);
  StoreRequest q;
  q.hinted = r.u8() != 0;
  q.target = static_cast<NodeIndex>(r.varint());
  q.key = read_key(r);
  auto object = decode_object(r.bytes());
  q.prune_at_s = static_cast<std::int64_t>(r.varint());
  if (!r.done() || !object) return make_error(Errc::protocol, "put");
  q.object = std::move(*object);
  return q;
}

std::string encode_coordinate_request(const ObjectKey& key, const Sibling& value,
                                      const std::optional<std::string>& context,
                                      const RequestOptions& options) {
  WireWriter w;
  w.str() += encode_key(key);
  w.bytes(encode_sibling(value));
  w.u8(context ? 1 : 0);
  if (context) w.bytes(*context);
  write_options(w, options);
  return w.take();
}

Result<CoordinateRequest> decode_coordinate_request(std::string_view bytes) {
  WireReader r(bytes);
  CoordinateRequest q;
  q.key = read_key(r);
  auto value = decode_sibling(std::string(r.bytes()));
  if (r.u8() != 0) q.context = std::string(r.bytes());
  q.options = read_options(r);
  if (!r.done() || !value) return make_error(Errc::protocol, "coordinate");
  q.value = std::move(*value);
  return q;
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

std::string encode_keyed_object(const ObjectKey& key, const Object& object) {
  WireWriter w;
  w.str() += encode_key(key);
  w.bytes(encode_object(object));
  return w.take();
}

Result<KeyedObject> decode_keyed_object(std::string_view bytes, const char* what) {
  WireReader r(bytes);
  KeyedObject q;
  q.key = read_key(r);
  auto object = decode_object(r.bytes());
  if (!r.done() || !object) return make_error(Errc::protocol, what);
  q.object = std::move(*object);
  return q;
}

std::string encode_repairs(const std::vector<std::string>& keyed_objects) {
  DOPPEL_ASSERT(keyed_objects.size() <= kRepairsMax);
  WireWriter w;
  w.varint(keyed_objects.size());
  for (const std::string& o : keyed_objects) w.bytes(o);
  return w.take();
}

Result<std::vector<KeyedObject>> decode_repairs(std::string_view bytes) {
  WireReader r(bytes);
  const std::uint64_t n = r.varint();
  if (!r.ok() || n > kRepairsMax) return make_error(Errc::protocol, "repairs");
  std::vector<KeyedObject> out;
  out.reserve(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    auto q = decode_keyed_object(r.bytes(), "repairs");
    if (!q) return q.error();
    out.push_back(std::move(*q));
  }
  if (!r.done()) return make_error(Errc::protocol, "repairs");
  return out;
}

std::string encode_repairs_reply(const std::vector<bool>& taken) {
  std::string out;
  out.reserve(taken.size());
  for (bool t : taken) out += t ? '\1' : '\0';
  return out;
}

Result<std::vector<bool>> decode_repairs_reply(std::string_view bytes, std::size_t count) {
  if (bytes.size() != count) return make_error(Errc::protocol, "repairs reply");
  std::vector<bool> out;
  out.reserve(count);
  for (char c : bytes) {
    if (c != '\0' && c != '\1') return make_error(Errc::protocol, "repairs reply");
    out.push_back(c == '\1');
  }
  return out;
}

std::string encode_get_reply(const Object* object) {
  WireWriter w;
  w.u8(object != nullptr ? 1 : 0);
  if (object != nullptr) w.bytes(encode_object(*object));
  return w.take();
}

std::string encode_segments_request(std::uint32_t partition) {
  WireWriter w;
  w.varint(partition);
  return w.take();
}

std::string encode_segment_keys_request(std::uint32_t partition, std::uint64_t segment) {
  WireWriter w;
  w.varint(partition);
  w.varint(segment);
  return w.take();
}

}  // namespace doppel::dvv
