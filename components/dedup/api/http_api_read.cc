// Reads of versions: GET|HEAD /images/{name}/versions/{v}, streamed from the store in pieces,
// with one byte range (RFC 9110 14).

#include <algorithm>
#include <charconv>

#include "components/dedup/api/http_api.h"
#include "components/dedup/api/http_api_internal.h"
#include "components/http/codec.h"
#include "runtime/future.h"

namespace doppel::dedup {

using namespace std::chrono_literals;

namespace {

using http::Request;
using http::Response;

Result<VersionNumber> parse_version(std::string_view text) {
  VersionNumber v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v == 0 || v > kVersionNumberMax) {
    return make_error(Errc::invalid_argument, "version '" + std::string(text.substr(0, 20)) +
                                                  "': expected a number from 1");
  }
  return v;
}

}  // namespace

Result<DedupApi::Target> DedupApi::target(const Request& r, bool latest_allowed) {
  Target t;
  t.image = std::string(r.param("name"));
  if (Status s = check_image_name(t.image); !s) return s.error();
  const std::string_view v = r.param("v");
  if (v == "latest" && latest_allowed) {
    auto versions = store_.list_versions(t.image);
    if (!versions) return versions.error();
    if (versions->empty()) return make_error(Errc::not_found, "image " + t.image);
    t.version = versions->back().version;
    t.info = versions->back();
    return t;
  }
  auto number = parse_version(v);
  if (!number) return number.error();
  t.version = *number;
  auto info = store_.version_info(t.image, t.version);
  if (!info) {
    // Say which: the image is unknown, or only this version of it.
    if (info.code() == Errc::not_found && !store_.list_versions(t.image)) {
      return make_error(Errc::not_found, "image " + t.image);
    }
    return info.error();
  }
  t.info = *info;
  return t;
}

namespace {

// BUGGIFY (runtime/buggify.h): a reader slower than the writers, so that
// commits and removals land between the pieces of one version's download.
const BuggifySite kSlowPiece{"dedup.read.slow_piece",
                             "a download waits up to 300 ms before reading its next piece"};
// What the paper's reverse dedup makes delicate: a version read while a commit compacts the
// segments it was reading from.
const SometimesSite kCompactedDuringRead{
    "dedup.read.compacted_meanwhile",
    "a download's next piece is read after a compaction since it began"};

}  // namespace

Result<std::string> DedupApi::read_piece(const Read& at, std::size_t bytes, bool later) {
  (void)buggify_sleep(rt_, kSlowPiece, 300ms);
  auto read = [this, image = at.image, version = at.version, offset = at.offset, bytes, later,
               compacted = at.compacted_at_start]() -> Result<std::string> {
    if (later) sometimes(rt_, kCompactedDuringRead, store_.segments_compacted() != compacted);
    std::string piece(bytes, '\0');
    auto n = store_.read(image, version, offset, piece);
    if (!n) return n.error();
    if (*n != bytes) {
      return make_error(Errc::corrupt, image + " version " + std::to_string(version) +
                                           ": shorter than its recipe says");
    }
    return piece;
  };
  if (rt_.this_core() == 0) return read();
  auto got = run_on(rt_, 0, read).get();
  if (!got) return make_error(Errc::cancelled, "the node is stopping");
  return std::move(*got);
}

Result<Response> DedupApi::get_version(Request& r) {
  auto t = target(r, true);
  if (!t) return error_of(t.error());
  const std::uint64_t size = t->info.image_bytes;
  int status = 200;
  http::ByteRange range{0, size == 0 ? 0 : size - 1};
  std::uint64_t length = size;
  if (auto value = r.headers.get("Range")) {
    const http::RangeRequest want = http::parse_range(*value, size);
    if (want.kind == http::RangeRequest::Kind::unsatisfiable) {
      Response out = Response::error(
          416, "range not satisfiable: the version has " + std::to_string(size) + " bytes");
      out.headers.set("Content-Range", http::content_range_unsatisfiable(size));
      return out;
    }
    if (want.kind == http::RangeRequest::Kind::partial) {
      status = 206;
      range = want.range;
      length = range.length();
    }
  }
  auto read = std::make_shared<Read>(Read{
      t->image, t->version, range.first, range.first + length, {}, store_.segments_compacted()});
  if (r.method != "HEAD" && length > 0) {
    auto first = read_piece(
        *read, static_cast<std::size_t>(std::min<std::uint64_t>(length, kReadPieceBytes)), false);
    if (!first) return error_of(first.error());
    read->first = std::move(*first);
  }
  // Routes run on core 0, where the store lives (on_core0).
  Result<std::uint32_t> chain = store_.chain_length(t->image, t->version);
  Response out = Response::streamed(
      status, length, [this, read](http::BodySink& sink) { return stream(read, sink); });
  out.headers.set("Content-Type", "application/octet-stream");
  out.headers.set("Accept-Ranges", "bytes");
  out.headers.set("X-Doppel-Version", std::to_string(t->version));
  if (chain) out.headers.set("X-Doppel-Chain", std::to_string(*chain));
  // A version never changes: its name and number are a strong validator.
  out.headers.set("ETag", "\"" + t->image + "@" + std::to_string(t->version) + "\"");
  if (status == 206) out.headers.set("Content-Range", http::content_range(range, size));
  return out;
}

Status DedupApi::stream(const std::shared_ptr<Read>& read, http::BodySink& sink) {
  if (!read->first.empty()) {
    const std::string first = std::move(read->first);
    read->first.clear();
    if (Status s = sink.write(first); !s) return s;
    read->offset += first.size();
  }
  while (read->offset < read->end) {
    const auto bytes = static_cast<std::size_t>(
        std::min<std::uint64_t>(read->end - read->offset, kReadPieceBytes));
    auto piece = read_piece(*read, bytes, true);
    if (!piece) {
      // The head went out already: cutting the body short is how the client learns.
      rt_.record(Event("DedupReadCutShort", Severity::warning)
                     .detail("image", read->image)
                     .detail("version", read->version)
                     .detail("offset", read->offset)
                     .detail("reason", piece.error().message()));
      return piece.error();
    }
    if (Status s = sink.write(*piece); !s) return s;
    read->offset += bytes;
  }
  return {};
}

}  // namespace doppel::dedup
