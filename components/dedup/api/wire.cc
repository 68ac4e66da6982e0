#include "components/dedup/api/wire.h"

#include <limits>

#include "base/json.h"

namespace doppel::dedup {
namespace {

// Each struct's whole-number fields, by name, for writing and reading alike: `f(name, field)`.
template <class S, class F>
void each_field(S& s, F&& f) requires std::is_same_v<std::remove_const_t<S>, StoreStats> {
  f("images", s.images);
  f("versions", s.versions);
  f("segments", s.segments);
  f("complete_segments", s.complete_segments);
  f("logical_bytes", s.logical_bytes);
  f("null_bytes", s.null_bytes);
  f("direct_bytes", s.direct_bytes);
  f("indirect_bytes", s.indirect_bytes);
  f("segment_data_bytes", s.segment_data_bytes);
  f("stored_bytes", s.stored_bytes);
  f("punched_bytes", s.punched_bytes);
  f("compacted_bytes", s.compacted_bytes);
  f("unreferenced_bytes", s.unreferenced_bytes);
  f("segment_deduped_bytes", s.segment_deduped_bytes);
  f("cross_deduped_bytes", s.cross_deduped_bytes);
  f("hook_entries", s.hook_entries);
  f("blocks_reverse_deduped", s.blocks_reverse_deduped);
  f("blocks_cross_deduped", s.blocks_cross_deduped);
  f("blocks_punched", s.blocks_punched);
  f("segments_compacted", s.segments_compacted);
  f("segments_dropped", s.segments_dropped);
  f("intents_replayed", s.intents_replayed);
}

template <class S, class F>
void each_field(S& s, F&& f) requires std::is_same_v<std::remove_const_t<S>, CommitResult> {
  f("version", s.version);
  f("new_segment_refs", s.new_segment_refs);
  f("blocks_reverse_deduped", s.blocks_reverse_deduped);
  f("blocks_cross_deduped", s.blocks_cross_deduped);
  f("blocks_removed", s.blocks_removed);
  f("segments_punched", s.segments_punched);
  f("segments_compacted", s.segments_compacted);
  f("segments_dropped", s.segments_dropped);
}

template <class S, class F>
void each_field(S& s, F&& f) requires std::is_same_v<std::remove_const_t<S>, RemoveResult> {
  f("entries_repointed", s.entries_repointed);
  f("blocks_removed", s.blocks_removed);
  f("bytes_freed", s.bytes_freed);
}

template <class S, class F>
void each_field(S& s, F&& f) requires std::is_same_v<std::remove_const_t<S>, RestoreLayout> {
  f("image_bytes", s.image_bytes);
  f("data_bytes", s.data_bytes);
  f("segments", s.segments);
  f("runs", s.runs);
  f("chain", s.chain);
}

template <class S, class F>
void each_field(S& s, F&& f) requires std::is_same_v<std::remove_const_t<S>, GcReport> {
  f("segments_dropped", s.segments_dropped);
  f("bytes_freed", s.bytes_freed);
}

template <class S, class F>
void each_field(S& s, F&& f) requires std::is_same_v<std::remove_const_t<S>, VersionInfo> {
  f("version", s.version);
  f("bytes", s.image_bytes);
  f("null_bytes", s.null_bytes);
  f("direct_bytes", s.direct_bytes);
  f("indirect_bytes", s.indirect_bytes);
}

template <class S, class F>
void each_field(S& s, F&& f) requires std::is_same_v<std::remove_const_t<S>, ImageSummary> {
  f("versions", s.versions);
  f("oldest", s.oldest);
  f("latest", s.latest);
  f("latest_bytes", s.latest_bytes);
  f("logical_bytes", s.logical_bytes);
}

template <class S, class F>
void each_field(S& s, F&& f) requires std::is_same_v<std::remove_const_t<S>, Damage> {
  f("version", s.version);
  f("offset", s.offset);
  f("length", s.length);
}

template <class S, class F>
void each_field(S& s, F&& f) requires std::is_same_v<std::remove_const_t<S>, VerifyReport> {
  f("segments_checked", s.segments_checked);
  f("blocks_checked", s.blocks_checked);
  f("versions_checked", s.versions_checked);
  f("damage_count", s.damage_count);
}

template <class S>
void write_fields(JsonWriter& w, const S& s) {
  each_field(s, [&](std::string_view name, const auto& field) {
    w.field(name, static_cast<std::uint64_t>(field));
  });
}

template <class S>
Status read_fields(const JsonValue& json, S& s) {
  Status status;
  each_field(s, [&](std::string_view name, auto& field) {
    if (!status) return;
    auto v = json.u64(name);
    if (!v) {
      status = v.error();
    } else if (*v > std::numeric_limits<std::remove_reference_t<decltype(field)>>::max()) {
      status = make_error(Errc::protocol, "json: member \"" + std::string(name) + "\": too large");
    } else {
      field = static_cast<std::remove_reference_t<decltype(field)>>(*v);
    }
  });
  return status;
}

Result<JsonValue> object_of(std::string_view json) {
  auto v = JsonValue::parse(json);
  if (!v) return v.error();
  if (!v->is(JsonValue::Kind::object)) return make_error(Errc::protocol, "json: not an object");
  return v;
}

// A JSON object's fields read into a T.
template <class T>
Result<T> struct_from_json(std::string_view json) {
  auto v = object_of(json);
  if (!v) return v.error();
  T out;
  if (Status s = read_fields(*v, out); !s) return s.error();
  return out;
}

}  // namespace

// --- info

std::string info_to_json(const ServerInfo& info) {
  JsonWriter w;
  w.begin_object()
      .field("hash", hash_kind_name(info.hash))
      .field("segment_bytes", std::uint64_t{info.segment_bytes})
      .field("segment_bytes_max", std::uint64_t{info.segment_bytes_max})
      .field("block_bytes", std::uint64_t{kBlockBytes})
      .field("image_bytes_max", info.image_bytes_max)
      .field("query_fingerprints_max", std::uint64_t{info.query_fingerprints_max})
      .end_object();
  return w.take();
}

Result<ServerInfo> info_from_json(std::string_view json) {
  auto v = object_of(json);
  if (!v) return v.error();
  auto hash = v->string("hash");
  auto segment = v->u64("segment_bytes");
  auto segment_max = v->u64("segment_bytes_max");
  auto image_max = v->u64("image_bytes_max");
  auto query_max = v->u64("query_fingerprints_max");
  if (!hash) return hash.error();
  for (auto* n : {&segment, &segment_max, &image_max, &query_max}) {
    if (!*n) return n->error();
  }
  const auto kind = parse_hash_kind(*hash);
  if (!kind) return make_error(Errc::protocol, "json: hash \"" + *hash + "\" is unknown");
  if (*segment_max > kSegmentBytesMax || *segment > *segment_max || *query_max == 0 ||
      *query_max > std::numeric_limits<std::uint32_t>::max()) {
    return make_error(Errc::protocol, "json: the server's limits are out of range");
  }
  return ServerInfo{*kind, static_cast<std::uint32_t>(*segment),
                    static_cast<std::uint32_t>(*segment_max), *image_max,
                    static_cast<std::uint32_t>(*query_max)};
}

// --- segment queries

std::string encode_fingerprint_lines(std::span<const Fingerprint> fps) {
  std::string out;
  out.reserve(fps.size() * (2 * Fingerprint::kBytesMax + 1));
  for (const Fingerprint& fp : fps) {
    out += fp.hex();
    out += '\n';
  }
  return out;
}

Result<std::vector<Fingerprint>> decode_fingerprint_lines(std::string_view body, HashKind kind,
                                                          std::size_t count_max) {
  std::vector<Fingerprint> out;
  std::size_t line = 0;
  while (!body.empty()) {
    const std::size_t nl = body.find('\n');
    std::string_view text = body.substr(0, nl);
    body = nl == std::string_view::npos ? std::string_view() : body.substr(nl + 1);
    ++line;
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (out.size() >= count_max) {
      return make_error(Errc::too_large,
                        "more than " + std::to_string(count_max) + " fingerprints in one query");
    }
    auto fp = Fingerprint::from_hex(kind, text);
    if (!fp) {
      return make_error(Errc::invalid_argument,
                        "line " + std::to_string(line) + ": not a " +
                            std::string(hash_kind_name(kind)) + " fingerprint (" +
                            std::to_string(2 * digest_bytes(kind)) + " hex digits)");
    }
    out.push_back(*fp);
  }
  return out;
}

std::string encode_presence(const std::vector<bool>& present) {
  std::string out;
  out.reserve(present.size() + 1);
  for (const bool p : present) out += p ? '1' : '0';
  out += '\n';
  return out;
}

Result<std::vector<bool>> decode_presence(std::string_view body, std::size_t count) {
  if (!body.empty() && body.back() == '\n') body.remove_suffix(1);
  if (body.size() != count) {
    return make_error(Errc::protocol, "the query answered " + std::to_string(body.size()) +
                                          " fingerprints of " + std::to_string(count));
  }
  std::vector<bool> out(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (body[i] != '0' && body[i] != '1') {
      return make_error(Errc::protocol, "the query's answer is not 0s and 1s");
    }
    out[i] = body[i] == '1';
  }
  return out;
}

// --- listings

std::string images_to_json(std::span<const ImageSummary> images) {
  JsonWriter w;
  w.begin_object().key("images").begin_array();
  for (const ImageSummary& image : images) {
    w.begin_object().field("name", image.name);
    write_fields(w, image);
    w.end_object();
  }
  w.end_array().end_object();
  return w.take();
}

Result<std::vector<ImageSummary>> images_from_json(std::string_view json) {
  auto v = object_of(json);
  if (!v) return v.error();
  auto images = v->array("images");
  if (!images) return images.error();
  std::vector<ImageSummary> out;
  for (const JsonValue& item : (*images)->items()) {
    ImageSummary s;
    auto name = item.string("name");
    if (!name) return name.error();
    s.name = std::move(*name);
    if (Status st = read_fields(item, s); !st) return st.error();
    out.push_back(std::move(s));
  }
  return out;
}

std::string versions_to_json(std::string_view image, std::span<const VersionInfo> versions) {
  JsonWriter w;
  w.begin_object().field("name", image).key("versions").begin_array();
  for (const VersionInfo& v : versions) {
    w.begin_object();
    write_fields(w, v);
    w.end_object();
  }
  w.end_array().end_object();
  return w.take();
}

Result<std::vector<VersionInfo>> versions_from_json(std::string_view json) {
  auto v = object_of(json);
  if (!v) return v.error();
  auto versions = v->array("versions");
  if (!versions) return versions.error();
  std::vector<VersionInfo> out;
  for (const JsonValue& item : (*versions)->items()) {
    VersionInfo info;
    if (Status st = read_fields(item, info); !st) return st.error();
    out.push_back(info);
  }
  return out;
}

// --- changes

std::string commit_to_json(std::string_view image, const CommitResult& result) {
  JsonWriter w;
  w.begin_object().field("image", image);
  write_fields(w, result);
  w.end_object();
  return w.take();
}

Result<CommitResult> commit_from_json(std::string_view json) {
  return struct_from_json<CommitResult>(json);
}

std::string remove_to_json(std::string_view image, VersionNumber version,
                           const RemoveResult& result) {
  JsonWriter w;
  w.begin_object().field("image", image).field("version", std::uint64_t{version});
  write_fields(w, result);
  w.end_object();
  return w.take();
}

Result<RemoveResult> remove_from_json(std::string_view json) {
  return struct_from_json<RemoveResult>(json);
}

std::string layout_to_json(std::string_view image, VersionNumber version,
                           const RestoreLayout& layout) {
  JsonWriter w;
  w.begin_object().field("image", image).field("version", std::uint64_t{version});
  write_fields(w, layout);
  w.end_object();
  return w.take();
}

Result<RestoreLayout> layout_from_json(std::string_view json) {
  return struct_from_json<RestoreLayout>(json);
}

std::string gc_to_json(const GcReport& report) {
  JsonWriter w;
  w.begin_object();
  write_fields(w, report);
  w.end_object();
  return w.take();
}

Result<GcReport> gc_from_json(std::string_view json) {
  return struct_from_json<GcReport>(json);
}

// --- verify and stats

std::string verify_to_json(const VerifyReport& report) {
  JsonWriter w;
  w.begin_object().field("clean", report.clean());
  write_fields(w, report);
  w.key("problems").begin_array();
  for (const std::string& p : report.problems) w.value(p);
  w.end_array().key("damage").begin_array();
  for (const Damage& d : report.damage) {
    w.begin_object().field("image", d.image);
    write_fields(w, d);
    w.field("what", d.what).end_object();
  }
  w.end_array().end_object();
  return w.take();
}

Result<VerifyReport> verify_from_json(std::string_view json) {
  auto v = object_of(json);
  if (!v) return v.error();
  VerifyReport report;
  if (Status s = read_fields(*v, report); !s) return s.error();
  auto problems = v->array("problems");
  auto damage = v->array("damage");
  if (!problems) return problems.error();
  if (!damage) return damage.error();
  for (const JsonValue& p : (*problems)->items()) {
    if (!p.is(JsonValue::Kind::string)) return make_error(Errc::protocol, "json: a problem");
    report.problems.push_back(p.text());
  }
  for (const JsonValue& item : (*damage)->items()) {
    Damage d;
    auto image = item.string("image");
    auto what = item.string("what");
    if (!image) return image.error();
    if (!what) return what.error();
    d.image = std::move(*image);
    d.what = std::move(*what);
    if (Status s = read_fields(item, d); !s) return s.error();
    report.damage.push_back(std::move(d));
  }
  return report;
}

std::string stats_to_json(const StoreStats& stats) {
  JsonWriter w;
  w.begin_object();
  write_fields(w, stats);
  w.field("balanced", stats.balanced()).end_object();
  return w.take();
}

Result<StoreStats> stats_from_json(std::string_view json) {
  return struct_from_json<StoreStats>(json);
}

}  // namespace doppel::dedup
