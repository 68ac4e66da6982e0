#include "components/dedup/api/client.h"

#include <charconv>

#include "components/dedup/api/borrowing_wire.h"
#include "components/http/codec.h"

namespace doppel::dedup {
namespace {

using http::ClientRequest;
using http::Response;

// A server's reason is one line; we keep this much of it.
constexpr std::size_t kReasonBytesMax = 300;

http::ClientOptions client_options(Duration io_timeout, const DedupClientOptions& options) {
  http::ClientOptions o;
  o.io_timeout = io_timeout;
  o.user_agent = "doppel-backup";
  o.authorization = options.authorization;
  o.tls = options.tls;
  return o;
}

std::optional<std::uint64_t> header_number(const Response& r, std::string_view name) {
  const auto text = r.headers.get(name);
  if (!text) return std::nullopt;
  std::uint64_t v = 0;
  const auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc() || p != text->data() + text->size()) return std::nullopt;
  return v;
}

ClientRequest request_of(std::string method, std::string target) {
  ClientRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  return r;
}

Errc errc_of_status(int status, std::string_view reason) {
  switch (status) {
    case 400:
    case 416:
      return Errc::invalid_argument;
    case 401:
    case 403:
      return Errc::denied;
    case 404:
      return Errc::not_found;
    case 413:
      return Errc::too_large;
    case 409:
    case 422:
      return Errc::protocol;  // client and server disagree
    case 503:
      return Errc::cancelled;
    case 507:
      return Errc::no_space;
    default:
      return reason.starts_with("corrupt") ? Errc::corrupt : Errc::io_error;
  }
}

}  // namespace

Error refusal_error(const Response& response) {
  std::string reason = response.body.substr(0, kReasonBytesMax);
  while (!reason.empty() && (reason.back() == '\n' || reason.back() == '\r')) reason.pop_back();
  if (reason.empty() || reason.find('\n') != std::string::npos) {
    reason = std::string(http::reason_phrase(response.status));
  }
  return make_error(errc_of_status(response.status, reason),
                    reason + " (HTTP " + std::to_string(response.status) + ")");
}

DedupClient::DedupClient(Runtime& rt, Endpoint server, DedupClientOptions options)
    : rt_(rt),
      options_(options),
      quick_(rt, server, client_options(options.transfer_io_timeout, options)),
      slow_(rt, server, client_options(options.admin_timeout, options)) {}

Result<Response> DedupClient::call(http::HttpClient& client, const ClientRequest& request,
                                   Duration timeout) {
  last_status_ = 0;
  auto response = client.request(request, deadline_after(rt_.now(), timeout));
  if (response) last_status_ = response->status;
  return response;
}

Result<Response> DedupClient::expect(Result<Response> response, int status_a, int status_b) {
  if (!response) return response;
  if (response->status != status_a && response->status != status_b) {
    return refusal_error(*response);
  }
  return response;
}

std::string DedupClient::version_target(std::string_view image, std::string_view version) {
  const std::string segments[] = {"images", std::string(image), "versions", std::string(version)};
  return http::make_target(segments);
}

Result<RestoreLayout> DedupClient::layout(std::string_view image,
                                          std::optional<VersionNumber> version) {
  const std::string segments[] = {"images", std::string(image), "versions",
                                  version ? std::to_string(*version) : "latest", "layout"};
  auto r = expect(
      call(quick_, request_of("GET", http::make_target(segments)), options_.request_timeout), 200);
  if (!r) return r.error();
  return layout_from_json(r->body);
}

Result<ServerInfo> DedupClient::info() {
  auto r = expect(call(quick_, request_of("GET", "/info"), options_.request_timeout), 200);
  if (!r) return r.error();
  return info_from_json(r->body);
}

Result<std::vector<bool>> DedupClient::has_segments(std::span<const Fingerprint> fps) {
  ClientRequest request = request_of("POST", "/segments/query");
  request.body = encode_fingerprint_lines(fps);
  request.headers.add("Content-Type", "text/plain");
  auto r = expect(call(quick_, request, options_.request_timeout), 200);
  if (!r) return r.error();
  return decode_presence(r->body, fps.size());
}

Result<bool> DedupClient::put_segment(const Fingerprint& fp, std::string& bytes) {
  ClientRequest request = request_of("PUT", "/segments/" + fp.hex());
  request.headers.add("Content-Type", "application/octet-stream");
  if (options_.upload_chunk_bytes > 0) {
    request.body_writer = [&, piece = options_.upload_chunk_bytes](http::BodySink& sink) {
      for (std::size_t at = 0; at < bytes.size(); at += piece) {
        if (Status s = sink.write(std::string_view(bytes).substr(at, piece)); !s) return s;
      }
      return Status{};
    };
  } else {
    request.body = std::move(bytes);
  }
  // No overall deadline: io_timeout bounds every read and write of it.
  auto r = expect(call(quick_, request, Duration::max()), 201, 200);
  if (options_.upload_chunk_bytes == 0) bytes = std::move(request.body);
  if (!r) return r.error();
  return r->status == 201;
}

Result<std::vector<SegmentId>> DedupClient::plan_borrowing(std::string_view image,
                                                           const SegmentManifest& segment) {
  const std::string segments[] = {"images", std::string(image), "borrowing"};
  ClientRequest request = request_of("POST", http::make_target(segments));
  request.body = encode_segment_manifest(segment);
  request.headers.add("Content-Type", "application/octet-stream");
  auto r = expect(call(quick_, request, options_.request_timeout), 200);
  if (!r) return r.error();
  return decode_lenders(r->body, segment.blocks.size());
}

Result<bool> DedupClient::put_borrowing(const SegmentManifest& segment,
                                        std::span<const SegmentId> lenders,
                                        std::string_view bytes) {
  ClientRequest request = request_of("PUT", "/segments/" + segment.fp.hex() + "/borrowing");
  request.body = encode_borrowing_upload(segment, lenders, bytes);
  request.headers.add("Content-Type", "application/octet-stream");
  // No overall deadline: io_timeout bounds every read and write of it (as put_segment).
  auto r = expect(call(quick_, request, Duration::max()), 201, 200);
  if (!r) return r.error();
  return r->status == 201;
}

Result<CommitResult> DedupClient::commit(std::string_view image, const VersionManifest& manifest) {
  const std::string segments[] = {"images", std::string(image), "versions"};
  ClientRequest request = request_of("POST", http::make_target(segments));
  request.body = encode_manifest(manifest);
  request.headers.add("Content-Type", "application/octet-stream");
  auto r = expect(call(slow_, request, options_.admin_timeout), 201);
  if (!r) return r.error();
  return commit_from_json(r->body);
}

Result<std::vector<ImageSummary>> DedupClient::list_images() {
  auto r = expect(call(quick_, request_of("GET", "/images"), options_.request_timeout), 200);
  if (!r) return r.error();
  return images_from_json(r->body);
}

Result<std::vector<VersionInfo>> DedupClient::list_versions(std::string_view image) {
  const std::string segments[] = {"images", std::string(image)};
  auto r = expect(
      call(quick_, request_of("GET", http::make_target(segments)), options_.request_timeout), 200);
  if (!r) return r.error();
  return versions_from_json(r->body);
}

Result<VersionHead> DedupClient::head(std::string_view image,
                                      std::optional<VersionNumber> version) {
  const std::string v = version ? std::to_string(*version) : "latest";
  auto r = call(quick_, request_of("HEAD", version_target(image, v)), options_.request_timeout);
  if (r && r->status == 404) {
    // A HEAD answer has no body to say why: ask for the listing, whose 404 says what is unknown.
    auto listing = list_versions(image);
    if (!listing) return listing.error();
    last_status_ = 404;
    return make_error(Errc::not_found,
                      "not found: " + std::string(image) + " version " + v + " (HTTP 404)");
  }
  r = expect(std::move(r), 200);
  if (!r) return r.error();
  const auto number = header_number(*r, "X-Doppel-Version");
  const auto bytes = header_number(*r, "Content-Length");
  if (!number || !bytes) return make_error(Errc::protocol, "a version's head without its size");
  return VersionHead{*number, *bytes, header_number(*r, "X-Doppel-Chain")};
}

Result<std::uint64_t> DedupClient::read(std::string_view image, VersionNumber version,
                                        const http::BodyCallback& on_body) {
  last_status_ = 0;
  std::uint64_t received = 0;
  const http::BodyCallback count = [&](std::string_view piece) -> Status {
    received += piece.size();
    return on_body(piece);
  };
  auto r = quick_.request_streamed(
      request_of("GET", version_target(image, std::to_string(version))), kNever, count);
  if (!r) return r.error();
  last_status_ = r->status;
  if (r->status != 200) {
    // The body of a refusal went to on_body too; a refusal's body is its reason, which a
    // caller writing a file discards with the file.
    return make_error(refusal_error(*r).code, std::string(http::reason_phrase(r->status)) +
                                                  " (HTTP " + std::to_string(r->status) + ")");
  }
  const auto length = header_number(*r, "Content-Length");
  if (!length || *length != received) {
    return make_error(Errc::protocol, "the server sent " + std::to_string(received) + " bytes of " +
                                          (length ? std::to_string(*length) : "?"));
  }
  return received;
}

namespace {

// "bytes FIRST-LAST/SIZE" (206) or "bytes */SIZE" (416), RFC 9110 14.4.
bool parse_content_range(std::string_view text, RangeAnswer& out) {
  const auto number = [](std::string_view t, std::uint64_t& v) {
    const auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    return !t.empty() && ec == std::errc() && p == t.data() + t.size();
  };
  if (!text.starts_with("bytes ")) return false;
  text.remove_prefix(6);
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos || !number(text.substr(slash + 1), out.size)) return false;
  const std::string_view span = text.substr(0, slash);
  if (span == "*") return out.unsatisfiable;
  const std::size_t dash = span.find('-');
  if (out.unsatisfiable || dash == std::string_view::npos) return false;
  return number(span.substr(0, dash), out.first) && number(span.substr(dash + 1), out.last) &&
         out.first <= out.last && out.last < out.size;
}

}  // namespace

Result<RangeAnswer> DedupClient::read_range(std::string_view image, VersionNumber version,
                                            std::string_view range,
                                            const http::BodyCallback& on_body) {
  last_status_ = 0;
  RangeAnswer answer;
  const http::BodyCallback count = [&](std::string_view piece) -> Status {
    answer.received += piece.size();
    return on_body(piece);
  };
  ClientRequest request = request_of("GET", version_target(image, std::to_string(version)));
  request.headers.set("Range", std::string(range));
  auto r = quick_.request_streamed(request, kNever, count);
  if (!r) return r.error();
  last_status_ = r->status;
  const auto length = header_number(*r, "Content-Length");
  if (r->status == 200) {
    answer.whole = true;
    answer.size = answer.received;
    if (answer.size > 0) answer.last = answer.size - 1;
  } else if (r->status == 206 || r->status == 416) {
    answer.unsatisfiable = r->status == 416;
    const auto content_range = r->headers.get("Content-Range");
    if (!content_range || !parse_content_range(*content_range, answer)) {
      return make_error(Errc::protocol, "HTTP " + std::to_string(r->status) +
                                            " without a well-formed Content-Range");
    }
    if (answer.unsatisfiable) return answer;
  } else {
    return make_error(refusal_error(*r).code, std::string(http::reason_phrase(r->status)) +
                                                  " (HTTP " + std::to_string(r->status) + ")");
  }
  const std::uint64_t want = answer.size == 0 ? 0 : answer.last - answer.first + 1;
  if (!length || *length != answer.received || answer.received != want) {
    return make_error(Errc::protocol, "the server sent " + std::to_string(answer.received) +
                                          " bytes of " + std::to_string(want));
  }
  return answer;
}

Result<RemoveResult> DedupClient::remove(std::string_view image, VersionNumber version) {
  auto r = expect(call(slow_, request_of("DELETE", version_target(image, std::to_string(version))),
                       options_.admin_timeout),
                  200);
  if (!r) return r.error();
  return remove_from_json(r->body);
}

Result<VerifyReport> DedupClient::verify() {
  auto r = call(slow_, request_of("POST", "/admin/verify"), options_.admin_timeout);
  if (!r) return r.error();
  const bool report =
      r->headers.get("Content-Type") == std::optional<std::string_view>("application/json");
  if ((r->status != 200 && r->status != 500) || !report) return refusal_error(*r);
  return verify_from_json(r->body);
}

Result<GcReport> DedupClient::gc() {
  auto r = expect(call(slow_, request_of("POST", "/admin/gc"), options_.admin_timeout), 200);
  if (!r) return r.error();
  return gc_from_json(r->body);
}

Status DedupClient::check() {
  auto r = expect(call(slow_, request_of("POST", "/admin/check"), options_.admin_timeout), 200);
  if (!r) return r.error();
  return {};
}

Result<std::string> DedupClient::metrics() {
  auto r = expect(call(quick_, request_of("GET", "/metrics"), options_.request_timeout), 200);
  if (!r) return r.error();
  return std::move(r->body);
}

Result<StoreStats> DedupClient::stats() {
  auto r = expect(call(quick_, request_of("GET", "/stats"), options_.request_timeout), 200);
  if (!r) return r.error();
  return stats_from_json(r->body);
}

}  // namespace doppel::dedup
