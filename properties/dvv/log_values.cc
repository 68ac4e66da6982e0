#include "properties/dvv/log_values.h"

#include <algorithm>
#include <cstring>

#include "properties/dvv/log_records.h"

namespace doppel::properties::dvv {
namespace {

constexpr std::uint64_t kRecordBytesMax = 64u << 20;  // the store's limit
constexpr std::uint64_t kCountMax = 1u << 20;         // entries or values in one object

// A bounds-checked reader of the oracle's own: every getter fails (ok_ false) past the end.
class Bytes {
 public:
  explicit Bytes(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool done() const { return ok_ && in_.empty(); }
  std::string_view rest() const { return in_; }

  std::uint8_t u8() {
    if (!ok_ || in_.empty()) return fail(), 0;
    const auto v = static_cast<std::uint8_t>(in_.front());
    in_.remove_prefix(1);
    return v;
  }
  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; ok_; shift += 7) {
      if (in_.empty() || shift > 63) return fail(), 0;
      const auto b = static_cast<unsigned char>(in_.front());
      in_.remove_prefix(1);
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    return 0;
  }
  std::string_view bytes() {
    const std::uint64_t n = varint();
    if (!ok_ || n > in_.size()) return fail(), std::string_view();
    const std::string_view out = in_.substr(0, n);
    in_.remove_prefix(n);
    return out;
  }

 private:
  void fail() { ok_ = false; }
  std::string_view in_;
  bool ok_ = true;
};

// The body of one sibling value; false for a tombstone or bytes that do not decode.
bool sibling_body(std::string_view value, std::string* body) {
  Bytes r(value);
  (void)r.varint();  // timestamp_ms
  const std::uint8_t tombstone = r.u8();
  (void)r.bytes();  // content type
  if (!r.ok() || tombstone != 0) return false;
  *body = std::string(r.rest());
  return true;
}

// What one record's object says: its sibling bodies, and (DVVSet) its
// clock's counter per replica id and the dot of each value that has one.
struct Decoded {
  std::vector<std::string> bodies;
  std::map<std::string, std::uint64_t> clock;
  std::map<std::string, Dot> dots;
};

// `count` values, each as bytes; their bodies into `out`, and if `entry` is
// given (a DVVSet entry) their dots: the j-th is (id, counter - j).
bool read_values(Bytes& r, std::uint64_t count, Decoded& out, const Dot* entry) {
  if (count > kCountMax || (entry != nullptr && count > entry->counter)) return false;
  for (std::uint64_t j = 0; j < count && r.ok(); ++j) {
    const std::string_view v = r.bytes();
    std::string body;
    if (!r.ok() || !sibling_body(v, &body)) continue;
    if (entry != nullptr) out.dots[body] = Dot{entry->id, entry->counter - j};
    out.bodies.push_back(std::move(body));
  }
  return r.ok();
}

bool decode_object(std::string_view object, Decoded& out) {
  Bytes r(object);
  const std::uint8_t tag = r.u8();
  if (tag != 0xD1 && tag != 0xA1) return false;
  const std::uint64_t entries = r.varint();
  if (!r.ok() || entries > kCountMax) return false;
  for (std::uint64_t i = 0; i < entries && r.ok(); ++i) {
    Dot entry{std::string(r.bytes()), r.varint()};  // replica id or actor, counter
    if (tag == 0xD1) {
      if (!read_values(r, r.varint(), out, &entry)) return false;  // the entry's values
      out.clock[entry.id] = entry.counter;
    } else {
      (void)r.varint();  // zigzag timestamp
    }
  }
  if (!read_values(r, r.varint(), out, nullptr)) return false;  // anonymous values / siblings
  return r.done();
}

// The payload of the record at `at` if it checks; *end is where the next one starts.
bool record_payload(std::string_view log, std::uint64_t at, std::string_view* payload,
                    std::uint64_t* end) {
  if (at + 5 > log.size()) return false;
  std::uint32_t crc;
  std::memcpy(&crc, log.data() + at, 4);
  Bytes r(log.substr(at + 4));
  const std::uint64_t len = r.varint();
  if (!r.ok() || len == 0 || len > kRecordBytesMax || len > r.rest().size()) return false;
  const std::string_view p = r.rest().substr(0, len);
  if (crc32c_bitwise(p) != crc) return false;
  *payload = p;
  *end = static_cast<std::uint64_t>(p.data() + p.size() - log.data());
  return true;
}

std::string key_name(std::string_view bucket, std::string_view key) {
  std::string out(bucket);
  out += '/';
  out += key;
  return out;
}

}  // namespace

void LogValues::read(std::uint64_t file, std::string_view log,
                     const std::vector<std::uint64_t>& flipped) {
  const std::uint64_t tail_at = end_ - tail_.size();
  const bool grown = file == file_ && log.size() >= end_ &&
                     log.substr(tail_at, tail_.size()) == std::string_view(tail_);
  if (!grown) {
    file_ = file;
    end_ = 0;
    holes_.clear();
    last_.clear();
  }
  // Holes first, each read as if the file ended where it does (a record there fits in it).
  std::vector<Hole> still;
  const std::uint64_t end = end_;
  for (const Hole& h : holes_) {
    found_.clear();
    read_from(log.substr(0, h.end), h.begin, /*tail_is_hole=*/true, flipped);
    still.insert(still.end(), found_.begin(), found_.end());
  }
  end_ = end;
  found_.clear();
  read_from(log, end_, /*tail_is_hole=*/false, flipped);
  still.insert(still.end(), found_.begin(), found_.end());
  if (still.size() > kHolesMax) still.resize(kHolesMax);
  holes_ = std::move(still);
  const std::uint64_t keep = std::min<std::uint64_t>(end_, kTailBytes);
  tail_.assign(log.substr(end_ - keep, keep));
}

const LoggedKey* LogValues::find(std::string_view bucket, std::string_view key) const {
  auto it = keys_.find(key_name(bucket, key));
  return it == keys_.end() ? nullptr : &it->second;
}

const LoggedKey* LogValues::last_replica(std::string_view bucket, std::string_view key) const {
  auto it = last_.find(key_name(bucket, key));
  return it == last_.end() ? nullptr : &it->second.held;
}

bool LogValues::mend(std::string_view log, std::uint64_t at,
                     const std::vector<std::uint64_t>& flipped, std::string* mended) const {
  constexpr std::uint64_t kMendBytesMax = 1u << 20;  // records here are far smaller
  for (std::uint64_t b : flipped) {
    if (b < at || b - at >= kMendBytesMax || b >= log.size()) continue;
    const std::uint64_t window = std::min<std::uint64_t>(log.size() - at, kMendBytesMax);
    *mended = std::string(log.substr(at, window));
    for (int bit = 0; bit < 8; ++bit) {
      (*mended)[b - at] = static_cast<char>(log[b] ^ (1 << bit));
      std::string_view payload;
      std::uint64_t end = 0;
      if (record_payload(*mended, 0, &payload, &end)) {
        mended->resize(end);
        return true;
      }
    }
  }
  return false;
}

void LogValues::read_from(std::string_view log, std::uint64_t at, bool tail_is_hole,
                          const std::vector<std::uint64_t>& flipped) {
  std::uint64_t end = 0;
  std::string_view payload;
  std::string mended;
  bool at_record = true;  // `at` is where a record starts (not a byte inside damage)
  std::uint64_t hole = at;
  while (at + 5 <= log.size()) {
    const std::uint64_t begin = at;
    if (record_payload(log, at, &payload, &end)) {
      at = end;
    } else if (at_record && !flipped.empty() && mend(log, at, flipped, &mended)) {
      (void)record_payload(mended, 0, &payload, &end);
      at += end;
    } else {
      if (at_record) hole = at;
      ++at;
      at_record = false;
      continue;
    }
    end_ = at;
    if (!at_record) found_.push_back(Hole{hole, begin});
    at_record = true;
    take(payload, begin);
  }
  // Fewer bytes than the smallest record can never hold one.
  if (tail_is_hole && !at_record && log.size() - hole >= 5)
    found_.push_back(Hole{hole, log.size()});
}

void LogValues::take(std::string_view payload, std::uint64_t at) {
  Bytes r(payload);
  const std::uint8_t kind = r.u8();
  if (kind != 1 && kind != 3) return;  // only puts carry an object
  (void)r.varint();                    // target
  const std::string_view bucket = r.bytes(), key = r.bytes();
  const std::string_view object = r.bytes();
  if (!r.done()) return;
  Decoded d;
  if (!decode_object(object, d)) return;
  const std::string name = key_name(bucket, key);
  if (keys_.size() >= kKeysMax && keys_.count(name) == 0) return;  // past the oracle's limit
  LoggedKey& k = keys_[name];
  auto& bodies = kind == 1 ? k.own_bodies : k.hint_bodies;
  auto& clock = kind == 1 ? k.own_clock : k.hint_clock;
  bodies.insert(d.bodies.begin(), d.bodies.end());
  for (const auto& [id, counter] : d.clock) clock[id] = std::max(clock[id], counter);
  for (auto& [body, dot] : d.dots) k.dots.insert_or_assign(body, dot);
  if (kind != 1) return;
  auto [last, fresh] = last_.try_emplace(name);
  if (!fresh && last->second.at > at) return;  // a hole's record, older than the one read
  last->second.at = at;
  last->second.held = LoggedKey{};
  last->second.held.own_bodies.insert(d.bodies.begin(), d.bodies.end());
  last->second.held.own_clock = std::move(d.clock);
  last->second.held.dots = std::move(d.dots);
}

}  // namespace doppel::properties::dvv
