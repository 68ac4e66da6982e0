#include "components/dvv/store/sibling.h"

#include <algorithm>

#include "components/dvv/store/wire.h"

namespace doppel::dvv {

Value encode_sibling(const Sibling& s) {
  WireWriter w;
  w.varint(static_cast<std::uint64_t>(s.timestamp_ms));
  w.u8(s.tombstone ? 1 : 0);
  w.bytes(s.content_type);
  w.str() += s.body;
  return w.take();
}

std::optional<Sibling> decode_sibling(const Value& v) {
  WireReader r(v);
  Sibling s;
  s.timestamp_ms = static_cast<std::int64_t>(r.varint());
  s.tombstone = r.u8() != 0;
  s.content_type = std::string(r.bytes(1024));
  if (!r.ok()) return std::nullopt;
  // The body is the rest: its start is where the reader stopped.
  std::size_t header = 0;
  {
    WireWriter w;
    w.varint(static_cast<std::uint64_t>(s.timestamp_ms));
    w.u8(0);
    w.bytes(s.content_type);
    header = w.str().size();
  }
  s.body = v.substr(header);
  return s;
}

namespace {
bool older_or_equal(const Value& a, const Value& b) {
  auto sa = decode_sibling(a), sb = decode_sibling(b);
  const std::int64_t ta = sa ? sa->timestamp_ms : 0, tb = sb ? sb->timestamp_ms : 0;
  return ta != tb ? ta < tb : a <= b;
}
}  // namespace

Object last_write_wins(const Object& object) {
  if (object.sibling_count() <= 1) return object;
  if (object.kind() == ClockKind::dvvset)
    return Object(dvvset::lww(older_or_equal, object.dvvset()));
  VvObject vv = object.vv();
  auto newest =
      std::max_element(vv.siblings.begin(), vv.siblings.end(),
                       [](const Value& a, const Value& b) { return !older_or_equal(b, a); });
  vv.siblings = {*newest};
  return Object(std::move(vv));
}

bool all_tombstones(const Object& object) {
  const auto values = object.siblings();
  if (values.empty()) return false;
  for (const Value& v : values) {
    auto s = decode_sibling(v);
    if (!s || !s->tombstone) return false;
  }
  return true;
}

}  // namespace doppel::dvv
