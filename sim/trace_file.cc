#include "sim/trace_file.h"

#include <zstd.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include "base/varint.h"
#include "sim/trace_log.h"

namespace doppel::sim {
namespace {

constexpr std::string_view kMagic = "DOPPELTR";
constexpr std::uint32_t kFieldsMax = 64;

void put_u32(std::string& out, std::uint32_t v) {
  out.append(reinterpret_cast<const char*>(&v), 4);
}
void put_u64(std::string& out, std::uint64_t v) {
  out.append(reinterpret_cast<const char*>(&v), 8);
}
void put_field(std::string& out, std::string_view key, std::string_view value) {
  put_length_prefixed(out, key);
  put_length_prefixed(out, value);
}

struct Reader {
  std::string_view in;
  std::string problem;

  bool fail(std::string what) {
    if (problem.empty()) problem = std::move(what);
    return false;
  }
  bool u32(std::uint32_t& v, const char* what) {
    if (in.size() < 4) return fail(std::string("truncated at ") + what);
    std::memcpy(&v, in.data(), 4);
    in.remove_prefix(4);
    return true;
  }
  bool u64(std::uint64_t& v, const char* what) {
    if (in.size() < 8) return fail(std::string("truncated at ") + what);
    std::memcpy(&v, in.data(), 8);
    in.remove_prefix(8);
    return true;
  }
  bool varint(std::uint64_t& v, const char* what) {
    const VarintStatus s = take_varint(in, v);
    if (s == VarintStatus::truncated) return fail(std::string("truncated at ") + what);
    if (s != VarintStatus::ok) return fail(std::string("bad length at ") + what);
    return true;
  }
  bool bytes(std::string_view& out, const char* what) {
    std::uint64_t n = 0;
    if (!varint(n, what)) return false;
    if (n > in.size()) return fail(std::string("truncated at ") + what);
    out = in.substr(0, n);
    in.remove_prefix(n);
    return true;
  }
};

bool parse_u64(std::string_view text, std::uint64_t& out) {
  if (text.empty() || text.size() > 20) return false;
  out = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return true;
}

Error bad(std::string what) {
  return make_error(Errc::corrupt, "not a valid doppel trace: " + what);
}

}  // namespace

std::string encode_trace(const TraceFile& trace) {
  const TraceHeader& h = trace.header;
  std::string raw;
  raw.append(kMagic);
  put_u32(raw, h.branch ? 2 : 1);
  std::vector<std::pair<std::string_view, std::string>> fields = {
      {"build_id", h.build_id},
      {"scenario_name", h.scenario_name},
      {"scenario_path", h.scenario_path},
      {"scenario_toml", h.scenario_toml},
      {"seed", std::to_string(h.seed)},
      {"fault_plan", h.fault_plan_toml},
      {"outcome", h.passed ? "pass" : "fail"},
      {"failed_property", h.failed_property},
      {"failure_detail", h.failure_detail},
      {"trace_hash", std::to_string(h.trace_hash)},
      {"event_count", std::to_string(h.event_count)},
  };
  if (h.branch) {
    fields.emplace_back("branch_at_ns", std::to_string(h.branch->at.count()));
    fields.emplace_back("branch_seed", std::to_string(h.branch->seed));
  }
  put_u32(raw, static_cast<std::uint32_t>(fields.size()));
  for (const auto& [k, v] : fields) put_field(raw, k, v);
  put_u64(raw, trace.records.size());
  for (const std::string& r : trace.records) {
    put_varint(raw, r.size());
    raw.append(r);
  }
  Hasher hasher;
  hasher.mix_bytes(raw);
  put_u64(raw, hasher.value());

  std::string out(ZSTD_compressBound(raw.size()), '\0');
  const std::size_t n = ZSTD_compress(out.data(), out.size(), raw.data(), raw.size(), 3);
  DOPPEL_ASSERT(!ZSTD_isError(n));
  out.resize(n);
  return out;
}

Result<TraceFile> decode_trace(std::string_view file) {
  if (file.size() > kTraceFileBytesMax) return bad("file larger than 1 GiB");
  static constexpr unsigned char kZstdMagic[4] = {0x28, 0xb5, 0x2f, 0xfd};
  if (file.size() < 4 || std::memcmp(file.data(), kZstdMagic, 4) != 0) {
    return bad("not a zstd frame");
  }
  const unsigned long long content = ZSTD_getFrameContentSize(file.data(), file.size());
  if (content == ZSTD_CONTENTSIZE_ERROR) return bad("damaged zstd frame header");
  if (content == ZSTD_CONTENTSIZE_UNKNOWN) return bad("zstd frame without a content size");
  if (content > kTraceContentBytesMax) return bad("content larger than 4 GiB");
  std::string raw(static_cast<std::size_t>(content), '\0');
  const std::size_t n = ZSTD_decompress(raw.data(), raw.size(), file.data(), file.size());
  if (ZSTD_isError(n)) return bad(std::string("zstd: ") + ZSTD_getErrorName(n));
  if (n != raw.size()) return bad("zstd frame shorter than it claims");

  if (raw.size() < kMagic.size() + 8 || std::string_view(raw).substr(0, kMagic.size()) != kMagic) {
    return bad("wrong magic (not written by doppel)");
  }
  {
    Hasher hasher;
    hasher.mix_bytes(std::string_view(raw).substr(0, raw.size() - 8));
    std::uint64_t stored;
    std::memcpy(&stored, raw.data() + raw.size() - 8, 8);
    if (stored != hasher.value()) return bad("checksum mismatch (damaged file)");
  }
  Reader r{std::string_view(raw).substr(kMagic.size(), raw.size() - kMagic.size() - 8), {}};
  TraceFile t;
  std::uint32_t field_count = 0;
  if (!r.u32(t.header.format_version, "version") || !r.u32(field_count, "field count")) {
    return bad(r.problem);
  }
  if (t.header.format_version < 1 || t.header.format_version > kTraceFormatVersion) {
    return bad("format version " + std::to_string(t.header.format_version) +
               ", this build reads 1 to " + std::to_string(kTraceFormatVersion));
  }
  if (field_count > kFieldsMax) return bad("too many header fields");
  std::string outcome;
  for (std::uint32_t i = 0; i < field_count; ++i) {
    std::string_view key, value;
    if (!r.bytes(key, "header key") || !r.bytes(value, "header value")) return bad(r.problem);
    std::uint64_t number = 0;
    if (key == "build_id")
      t.header.build_id = value;
    else if (key == "scenario_name")
      t.header.scenario_name = value;
    else if (key == "scenario_path")
      t.header.scenario_path = value;
    else if (key == "scenario_toml")
      t.header.scenario_toml = value;
    else if (key == "fault_plan")
      t.header.fault_plan_toml = value;
    else if (key == "outcome")
      outcome = value;
    else if (key == "failed_property")
      t.header.failed_property = value;
    else if (key == "failure_detail")
      t.header.failure_detail = value;
    else if (key == "branch_at_ns" || key == "branch_seed") {
      if (!parse_u64(value, number))
        return bad("header field " + std::string(key) + " is not a number");
      if (!t.header.branch) t.header.branch.emplace();
      if (key == "branch_seed") {
        t.header.branch->seed = number;
      } else {
        t.header.branch->at = Duration(static_cast<std::int64_t>(number));
      }
    } else if (key == "seed" || key == "trace_hash" || key == "event_count") {
      if (!parse_u64(value, number))
        return bad("header field " + std::string(key) + " is not a number");
      (key == "seed"         ? t.header.seed
       : key == "trace_hash" ? t.header.trace_hash
                             : t.header.event_count) = number;
    }
    // Unknown fields are skipped: a newer writer may add some.
  }
  if (outcome != "pass" && outcome != "fail") return bad("missing outcome");
  t.header.passed = outcome == "pass";
  std::uint64_t count = 0;
  if (!r.u64(count, "event count")) return bad(r.problem);
  if (count > r.in.size() / (kRecordHashBytes + 1)) return bad("event count larger than the file");
  t.records.reserve(static_cast<std::size_t>(count));
  for (std::uint64_t i = 0; i < count; ++i) {
    std::string_view rec;
    if (!r.bytes(rec, "event")) return bad(r.problem + " (event " + std::to_string(i) + ")");
    if (rec.size() < kRecordHashBytes) return bad("event " + std::to_string(i) + " too short");
    t.records.emplace_back(rec);
  }
  if (!r.in.empty()) return bad("trailing bytes after the events");
  return t;
}

Status write_trace(const std::string& path, const TraceFile& trace) {
  const std::string bytes = encode_trace(trace);
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr)
    return make_error(Errc::io_error, "cannot create " + tmp + ": " + std::strerror(errno));
  const bool ok =
      std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size() && std::fflush(f) == 0;
  std::fclose(f);
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return make_error(Errc::io_error, "cannot write " + path + ": " + std::strerror(errno));
  }
  return {};
}

Result<TraceFile> read_trace(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(Errc::not_found, "cannot open " + path);
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) return make_error(Errc::io_error, "cannot read " + path);
  if (static_cast<std::uint64_t>(size) > kTraceFileBytesMax) {
    return make_error(Errc::corrupt, path + ": not a valid doppel trace: file larger than 1 GiB");
  }
  in.seekg(0);
  std::string bytes(static_cast<std::size_t>(size), '\0');
  if (!in.read(bytes.data(), size)) return make_error(Errc::io_error, "cannot read " + path);
  Result<TraceFile> t = decode_trace(bytes);
  if (!t) return make_error(t.code(), path + ": " + t.error().what);
  return t;
}

const std::string& build_id() {
  static const std::string id = [] {
    std::ifstream in("/proc/self/exe", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    Hasher h;
    h.mix_bytes(bytes);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%016" PRIx64, h.value());
    return std::string(buf);
  }();
  return id;
}

}  // namespace doppel::sim
