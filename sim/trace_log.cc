#include "sim/trace_log.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "base/varint.h"

namespace doppel::sim {
namespace {

void put_text(std::string& out, std::string_view s) {
  put_length_prefixed(out, s);
}

// A cursor that never reads past the end: every getter fails instead.
struct Cursor {
  std::string_view in;
  bool ok = true;

  std::uint64_t varint() {
    std::uint64_t v = 0;
    if (take_varint(in, v) == VarintStatus::ok) return v;
    ok = false;
    return 0;
  }
  std::string_view text() {
    const std::uint64_t n = varint();
    if (!ok || n > in.size()) {
      ok = false;
      return {};
    }
    std::string_view s = in.substr(0, n);
    in.remove_prefix(n);
    return s;
  }
};

}  // namespace

void Hasher::mix_bytes(std::string_view bytes) {
  std::size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, bytes.data() + i, 8);
    mix(w);
  }
  std::uint64_t tail = bytes.size() - i;
  for (; i < bytes.size(); ++i) tail = (tail << 8) | static_cast<unsigned char>(bytes[i]);
  mix(tail ^ (static_cast<std::uint64_t>(bytes.size()) << 56));
}

// Layout: varint time_ns, varint node+1 (0 = the world itself), varint core,
// byte error (1) or not (0), text name, varint detail count, then per detail: text key,
// byte kind (0 number, 1 text), zigzag varint or text value.
void encode_event(std::string& out, Instant at, NodeId node, CoreId core, const Event& event) {
  put_varint(out, static_cast<std::uint64_t>(to_ns(at)));
  put_varint(out, node == kNoNode ? 0 : static_cast<std::uint64_t>(node) + 1);
  put_varint(out, core);
  // Whether it failed the run, not its log level: the log levels came later, and a trace of
  // the same run must stay the same bytes.
  out += static_cast<char>(event.severity() == Severity::error ? 1 : 0);
  put_text(out, event.name());
  put_varint(out, static_cast<std::uint64_t>(event.detail_count()));
  for (int i = 0; i < event.detail_count(); ++i) {
    const Event::Detail& d = event.detail_at(i);
    put_text(out, d.key);
    out += static_cast<char>(d.is_text ? 1 : 0);
    if (d.is_text) {
      put_text(out, d.text);
    } else {
      put_zigzag(out, d.number);
    }
  }
}

void TraceLog::add(Instant at, NodeId node, CoreId core, const Event& event) {
  scratch_.clear();
  encode_event(scratch_, at, node, core, event);
  hasher_.mix_bytes(scratch_);
  ++count_;
  if (!keep_ || records_.size() >= kStoredEventsMax) return;
  const std::uint64_t h = hasher_.value();
  scratch_.append(reinterpret_cast<const char*>(&h), kRecordHashBytes);
  records_.push_back(scratch_);
}

std::uint64_t record_hash(std::string_view record) {
  if (record.size() < kRecordHashBytes) return 0;
  std::uint64_t h;
  std::memcpy(&h, record.data() + record.size() - kRecordHashBytes, kRecordHashBytes);
  return h;
}

std::optional<DecodedRecord> decode_record(std::string_view record) {
  if (record.size() < kRecordHashBytes) return std::nullopt;
  Cursor c{record.substr(0, record.size() - kRecordHashBytes)};
  DecodedRecord out;
  out.t_ns = c.varint();
  const std::uint64_t node = c.varint();
  out.core = static_cast<CoreId>(c.varint());
  if (!c.ok || c.in.empty()) return std::nullopt;
  if (node != 0) out.node = static_cast<NodeId>(node - 1);
  out.error = static_cast<unsigned char>(c.in.front()) != 0;
  c.in.remove_prefix(1);
  out.name = std::string(c.text());
  const std::uint64_t n = c.varint();
  if (!c.ok || n > Event::kDetailsMax) return std::nullopt;
  for (std::uint64_t i = 0; i < n && c.ok; ++i) {
    DecodedDetail d;
    d.key = std::string(c.text());
    if (!c.ok || c.in.empty()) {
      out.truncated = true;
      break;
    }
    d.is_text = c.in.front() != 0;
    c.in.remove_prefix(1);
    if (d.is_text) {
      d.text = std::string(c.text());
    } else {
      d.number = zigzag_decode(c.varint());
    }
    if (c.ok) out.details.push_back(std::move(d));
  }
  if (!c.ok) out.truncated = true;
  return out;
}

std::string format_record(std::string_view record) {
  if (record.size() < kRecordHashBytes) return "<record too short>";
  const std::optional<DecodedRecord> e = decode_record(record);
  if (!e) return "<undecodable record>";
  char head[96];
  std::snprintf(head, sizeof head, "t=%" PRIu64 ".%09" PRIu64 " ", e->t_ns / 1'000'000'000,
                e->t_ns % 1'000'000'000);
  std::string out = head;
  out += e->node ? "n" + std::to_string(*e->node) + "/c" + std::to_string(e->core)
                 : std::string("world");
  out += ' ';
  if (e->error) out += "ERROR ";
  out += e->name;
  for (const DecodedDetail& d : e->details) {
    out += ' ';
    out += d.key;
    out += '=';
    if (!d.is_text) {
      out += std::to_string(d.number);
      continue;
    }
    out += '"';
    for (char ch : d.text) {
      if (static_cast<unsigned char>(ch) < 0x20 || ch == '"' || ch == '\\') {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(ch));
        out += buf;
      } else {
        out += ch;
      }
    }
    out += '"';
  }
  if (e->truncated) out += " <truncated>";
  return out;
}

}  // namespace doppel::sim
