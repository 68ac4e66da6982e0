#include "components/dvv/store/bucket_props.h"

#include <cctype>
#include <charconv>

#include "components/dvv/store/wire.h"

namespace doppel::dvv {
namespace {

std::string quorum_text(std::uint32_t q) {
  return q == BucketProps::kQuorum ? "\"quorum\"" : std::to_string(q);
}

// A small JSON reader for what props need: objects, strings, integers, booleans.
class Json {
 public:
  explicit Json(std::string_view s) : s_(s) {}
  void ws() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool eat(char c) {
    ws();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool peek(char c) {
    ws();
    return i_ < s_.size() && s_[i_] == c;
  }
  bool string(std::string& out) {
    if (!eat('"')) return false;
    out.clear();
    while (i_ < s_.size() && s_[i_] != '"') {
      if (s_[i_] == '\\') {
        if (++i_ >= s_.size()) return false;
      }
      out += s_[i_++];
    }
    return eat_raw('"');
  }
  // A scalar as text: a string's contents, a number or true/false.
  bool scalar(std::string& out, bool& was_string) {
    ws();
    if (peek('"')) {
      was_string = true;
      return string(out);
    }
    was_string = false;
    const std::size_t start = i_;
    while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '-')) ++i_;
    out = std::string(s_.substr(start, i_ - start));
    return !out.empty();
  }
  bool at_end() {
    ws();
    return i_ == s_.size();
  }

 private:
  bool eat_raw(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  std::string_view s_;
  std::size_t i_ = 0;
};

Error bad(const std::string& what) { return make_error(Errc::invalid_argument, what); }

Result<std::uint32_t> quorum_value(const std::string& field, const std::string& text, bool was_string,
                                   std::uint32_t n_max) {
  if (was_string && (text == "quorum" || text == "default")) return BucketProps::kQuorum;
  if (was_string && text == "all") return n_max;
  if (was_string && text == "one") return 1u;
  std::uint32_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v > BucketProps::kNValMax) {
    return bad(field + ": expected a number up to " + std::to_string(BucketProps::kNValMax) +
               ", \"quorum\", \"one\" or \"all\"");
  }
  return v;
}

}  // namespace

std::string props_to_json(const BucketProps& p) {
  return "{\"props\":{\"n_val\":" + std::to_string(p.n_val) + ",\"allow_mult\":" +
         (p.allow_mult ? "true" : "false") + ",\"clock\":\"" + std::string(clock_kind_name(p.clock)) +
         "\",\"r\":" + quorum_text(p.r) + ",\"w\":" + quorum_text(p.w) + ",\"dw\":" + quorum_text(p.dw) +
         ",\"pr\":" + quorum_text(p.pr) + ",\"pw\":" + quorum_text(p.pw) + "}}";
}

Result<BucketProps> props_from_json(std::string_view json, const BucketProps& base) {
  BucketProps p = base;
  Json j(json);
  std::string name;
  if (!j.eat('{') || !j.string(name) || name != "props" || !j.eat(':') || !j.eat('{')) {
    return bad("expected {\"props\":{...}}");
  }
  if (!j.peek('}')) {
    do {
      std::string field, value;
      bool was_string = false;
      if (!j.string(field) || !j.eat(':') || !j.scalar(value, was_string)) return bad("malformed JSON");
      if (field == "n_val") {
        auto v = quorum_value(field, value, false, BucketProps::kNValMax);
        if (!v || *v == 0 || *v == BucketProps::kQuorum) return bad("n_val: expected 1 to 16");
        p.n_val = *v;
      } else if (field == "allow_mult" || field == "last_write_wins") {
        if (value != "true" && value != "false") return bad(field + ": expected true or false");
        p.allow_mult = field == "allow_mult" ? value == "true" : value != "true";
      } else if (field == "clock") {
        auto kind = parse_clock_kind(value);
        if (!kind) return bad("clock: expected \"dvvset\" or \"vv\"");
        p.clock = *kind;
      } else if (field == "r" || field == "w" || field == "dw" || field == "pr" || field == "pw") {
        auto v = quorum_value(field, value, was_string, p.n_val);
        if (!v) return v.error();
        (field == "r" ? p.r : field == "w" ? p.w : field == "dw" ? p.dw : field == "pr" ? p.pr : p.pw) = *v;
      } else {
        return bad(field + ": unknown bucket property (n_val, allow_mult, clock, r, w, dw, pr, pw)");
      }
    } while (j.eat(','));
  }
  if (!j.eat('}') || !j.eat('}') || !j.at_end()) return bad("malformed JSON");
  for (std::uint32_t q : {p.r, p.w, p.dw, p.pr, p.pw}) {
    if (q != BucketProps::kQuorum && q > p.n_val) return bad("a quorum is larger than n_val");
  }
  ++p.version;
  return p;
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
    for (std::uint32_t* q : {&p.r, &p.w, &p.dw, &p.pr, &p.pw}) *q = static_cast<std::uint32_t>(r.varint());
    p.version = r.varint();
    if (p.n_val == 0 || p.n_val > BucketProps::kNValMax || clock > 1) return make_error(Errc::corrupt, "bucket props");
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
