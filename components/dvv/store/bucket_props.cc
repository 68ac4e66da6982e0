#include "components/dvv/store/bucket_props.h"

#include "base/json.h"
#include "components/dvv/store/wire.h"

namespace doppel::dvv {
namespace {

Error bad(const std::string& what) {
  return make_error(Errc::invalid_argument, what);
}

// A quorum: a number up to n_val's limit, or "quorum" (also "default"), "one", "all".
Result<std::uint32_t> quorum_value(const std::string& field, const JsonValue& v,
                                   std::uint32_t n_val) {
  if (v.is(JsonValue::Kind::string)) {
    if (v.text() == "quorum" || v.text() == "default") return BucketProps::kQuorum;
    if (v.text() == "all") return n_val;
    if (v.text() == "one") return 1u;
  }
  const auto n = v.as_u64();
  if (!n || *n > BucketProps::kNValMax) {
    return bad(field + ": expected a number up to " + std::to_string(BucketProps::kNValMax) +
               ", \"quorum\", \"one\" or \"all\"");
  }
  return static_cast<std::uint32_t>(*n);
}

// One member of "props" into p.
Status apply_prop(const std::string& field, const JsonValue& value, BucketProps& p) {
  if (field == "n_val") {
    const auto n = value.as_u64();
    if (!n || *n == 0 || *n > BucketProps::kNValMax) return bad("n_val: expected 1 to 16");
    p.n_val = static_cast<std::uint32_t>(*n);
  } else if (field == "allow_mult" || field == "last_write_wins") {
    if (!value.is(JsonValue::Kind::boolean)) return bad(field + ": expected true or false");
    p.allow_mult = field == "allow_mult" ? value.flag() : !value.flag();
  } else if (field == "clock") {
    auto kind = parse_clock_kind(value.is(JsonValue::Kind::string) ? value.text() : "");
    if (!kind) return bad("clock: expected \"dvvset\" or \"vv\"");
    p.clock = *kind;
  } else if (field == "r" || field == "w" || field == "dw" || field == "pr" || field == "pw") {
    auto v = quorum_value(field, value, p.n_val);
    if (!v) return v.error();
    (field == "r"    ? p.r
     : field == "w"  ? p.w
     : field == "dw" ? p.dw
     : field == "pr" ? p.pr
                     : p.pw) = *v;
  } else {
    return bad(field + ": unknown bucket property (n_val, allow_mult, clock, r, w, dw, pr, pw)");
  }
  return {};
}

void quorum_json(JsonWriter& w, std::string_view name, std::uint32_t q) {
  w.key(name);
  if (q == BucketProps::kQuorum) {
    w.value("quorum");
  } else {
    w.value(q);
  }
}

}  // namespace

std::string props_to_json(const BucketProps& p) {
  JsonWriter w;
  w.begin_object().key("props").begin_object();
  w.field("n_val", p.n_val)
      .field("allow_mult", p.allow_mult)
      .field("clock", clock_kind_name(p.clock));
  quorum_json(w, "r", p.r);
  quorum_json(w, "w", p.w);
  quorum_json(w, "dw", p.dw);
  quorum_json(w, "pr", p.pr);
  quorum_json(w, "pw", p.pw);
  w.end_object().end_object();
  return w.take();
}

Result<BucketProps> props_from_json(std::string_view json, const BucketProps& base) {
  constexpr JsonLimits kLimits{4, 64, 256};
  auto doc = JsonValue::parse(json, kLimits);
  if (!doc) return bad("malformed JSON: " + doc.error().what);
  const JsonValue* props = doc->get("props");
  if (!doc->is(JsonValue::Kind::object) || doc->members().size() != 1 || props == nullptr ||
      !props->is(JsonValue::Kind::object)) {
    return bad("expected {\"props\":{...}}");
  }
  BucketProps p = base;
  // n_val first: "all" and the quorum checks below mean the new one.
  if (const JsonValue* n = props->get("n_val")) {
    if (Status s = apply_prop("n_val", *n, p); !s) return s.error();
  }
  for (const auto& [field, value] : props->members()) {
    if (Status s = apply_prop(field, value, p); !s) return s.error();
  }
  for (std::uint32_t q : {p.r, p.w, p.dw, p.pr, p.pw}) {
    if (q != BucketProps::kQuorum && q > p.n_val) return bad("a quorum is larger than n_val");
  }
  ++p.version;
  return p;
}

std::string props_etag(std::uint64_t version) {
  return "\"" + std::to_string(version) + "\"";
}

std::optional<std::uint64_t> props_etag_version(std::string_view etag) {
  constexpr std::size_t kDigitsMax = 19;  // below 2^64
  if (etag.size() < 3 || etag.front() != '"' || etag.back() != '"') return std::nullopt;
  const std::string_view digits = etag.substr(1, etag.size() - 2);
  if (digits.size() > kDigitsMax) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

std::string encode_props(const std::map<std::string, BucketProps>& props) {
  WireWriter w;
  w.varint(props.size());
  for (const auto& [bucket, p] : props) {
    w.bytes(bucket);
    w.varint(p.n_val);
    w.u8(p.allow_mult);
    w.u8(static_cast<std::uint8_t>(p.clock));
    for (std::uint32_t q : {p.r, p.w, p.dw, p.pr, p.pw}) w.varint(q);
    w.varint(p.version);
  }
  return w.take();
}

Result<std::map<std::string, BucketProps>> decode_props(std::string_view bytes) {
  WireReader r(bytes);
  std::map<std::string, BucketProps> out;
  const std::uint64_t n = r.varint();
  for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
    std::string bucket(r.bytes(1024));
    BucketProps p;
    p.n_val = static_cast<std::uint32_t>(r.varint());
    p.allow_mult = r.u8() != 0;
    const std::uint8_t clock = r.u8();
    p.clock = clock == 1 ? ClockKind::vv : ClockKind::dvvset;
    for (std::uint32_t* q : {&p.r, &p.w, &p.dw, &p.pr, &p.pw})
      *q = static_cast<std::uint32_t>(r.varint());
    p.version = r.varint();
    if (p.n_val == 0 || p.n_val > BucketProps::kNValMax || clock > 1)
      return make_error(Errc::corrupt, "bucket props");
    out[bucket] = p;
  }
  if (!r.done()) return make_error(Errc::corrupt, "bucket props");
  return out;
}

namespace {
struct Crc32cTable {
  std::uint32_t t[256];
  constexpr Crc32cTable() : t() {
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1u)));
      t[i] = c;
    }
  }
};
constexpr Crc32cTable kCrc32c;
}  // namespace

std::uint32_t crc32c(std::string_view bytes, std::uint32_t crc) {
  crc = ~crc;
  for (unsigned char c : bytes) crc = kCrc32c.t[(crc ^ c) & 0xff] ^ (crc >> 8);
  return ~crc;
}

}  // namespace doppel::dvv
