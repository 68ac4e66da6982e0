#pragma once
// A client of the backup server's HTTP API (http_api.h), typed: what `doppel backup` and a
// simulated workload call. One per core (it holds an http::HttpClient).
//
// Errors: the transport's (refused, timed_out, reset...), Errc::protocol for an answer we do
// not understand, and the server's refusals, mapped from their status:
//   400, 416 -> invalid_argument    404 -> not_found    413 -> too_large
//   401, 403 -> denied
//   409, 422 -> protocol (client and server disagree)   507 -> no_space
//   500 -> corrupt or io_error (as the reason says)     503 -> cancelled
// with what = "<the server's one-line reason> (HTTP <status>)". last_status() tells a refusal
// (the status) from a transport error (0).

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "components/dedup/api/wire.h"
#include "components/http/client.h"

namespace doppel::dedup {

struct DedupClientOptions {
  // Small requests (info, queries, listings, heads) must be answered within this.
  Duration request_timeout = std::chrono::seconds(60);
  // Uploads and downloads have no overall deadline; each read and write must progress within
  // this.
  Duration transfer_io_timeout = std::chrono::seconds(60);
  // Commits, removals, verify and gc may work long before answering.
  Duration admin_timeout = std::chrono::hours(4);
  // Segments go up with Transfer-Encoding: chunked, in pieces of at most this many bytes, as a
  // client that streams what it has not measured does; 0 sends a Content-Length.
  std::size_t upload_chunk_bytes = 0;
  // The Authorization field of every request (access::basic_authorization); "" for none.
  std::string authorization;
  // HTTPS, the server's certificate checked (runtime/net.h); none for plain HTTP.
  std::optional<TlsClientTrust> tls;
};

// What a HEAD of a version says.
struct VersionHead {
  VersionNumber version = 0;
  std::uint64_t bytes = 0;
  // The longest chain of indirect references a read follows (X-Doppel-Chain), if told.
  std::optional<std::uint64_t> chain;
};

// What a read of one byte range answered. Per RFC 9110 14: the bytes first..last
// (inclusive) of a version of `size` bytes (206, Content-Range); or the whole version (200:
// the server may ignore a range it does not parse); or nothing, the range lying past the
// end (416, `unsatisfiable`). `received` counts the body bytes that came.
struct RangeAnswer {
  bool unsatisfiable = false;
  bool whole = false;
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  std::uint64_t size = 0;
  std::uint64_t received = 0;
};

class DedupClient {
 public:
  DedupClient(Runtime& rt, Endpoint server, DedupClientOptions options = {});

  Result<ServerInfo> info();
  // At most info().query_fingerprints_max at once.
  Result<std::vector<bool>> has_segments(std::span<const Fingerprint> fps);
  // True if stored now, false if the server had it. `bytes` are sent from where they are and
  // left as they were (the caller may reuse the buffer).
  Result<bool> put_segment(const Fingerprint& fp, std::string& bytes);
  // Upload avoidance (cross_dedup.h): per block of `segment`, about to be uploaded for `image`,
  // the stored segment holding its content (0: the block must be sent).
  Result<std::vector<SegmentId>> plan_borrowing(std::string_view image,
                                                const SegmentManifest& segment);
  // Uploads the segment (`bytes`, all of it) without its borrowed blocks. true if stored now.
  // not_found when a lender gave a block up meanwhile (or the server does not borrow): upload
  // the segment whole.
  Result<bool> put_borrowing(const SegmentManifest& segment, std::span<const SegmentId> lenders,
                             std::string_view bytes);
  Result<CommitResult> commit(std::string_view image, const VersionManifest& manifest);

  Result<std::vector<ImageSummary>> list_images();
  Result<std::vector<VersionInfo>> list_versions(std::string_view image);
  // The version's number and size; nullopt asks for the latest.
  Result<VersionHead> head(std::string_view image, std::optional<VersionNumber> version);
  // A version's restore fragmentation (none: the latest).
  Result<RestoreLayout> layout(std::string_view image, std::optional<VersionNumber> version);
  // Streams the version's bytes to `on_body`; returns how many came. An answer cut short
  // (damage found mid-way, the server gone) is an error. A refusal's body goes to `on_body`
  // too (ask head() first: then only a version removed meanwhile is refused).
  Result<std::uint64_t> read(std::string_view image, VersionNumber version,
                             const http::BodyCallback& on_body);
  // The bytes of one range ("bytes=first-last", "bytes=first-" or "bytes=-suffix", sent as
  // the Range header as given) go to `on_body`; a 416 is an answer, not an error (its body,
  // the reason, goes to `on_body` too, as a refusal's does in read()).
  Result<RangeAnswer> read_range(std::string_view image, VersionNumber version,
                                 std::string_view range, const http::BodyCallback& on_body);
  Result<RemoveResult> remove(std::string_view image, VersionNumber version);
  // A report with damage is a value (report.clean() is false), not an error.
  Result<VerifyReport> verify();
  Result<GcReport> gc();
  Result<StoreStats> stats();
  // GET /metrics: the page in Prometheus's text format.
  Result<std::string> metrics();
  // Every invariant of the store (POST /admin/check); a violation is an error naming it.
  Status check();

  // The status of the last answer, 0 if the last call got none.
  int last_status() const { return last_status_; }
  const Endpoint& server() const { return quick_.server(); }

 private:
  Result<http::Response> call(http::HttpClient& client, const http::ClientRequest& request,
                              Duration timeout);
  Result<http::Response> expect(Result<http::Response> response, int status_a, int status_b = 0);
  static std::string version_target(std::string_view image, std::string_view version);

  Runtime& rt_;
  DedupClientOptions options_;
  http::HttpClient quick_;  // io_timeout: transfer_io_timeout
  http::HttpClient slow_;   // io_timeout: admin_timeout
  int last_status_ = 0;
};

// The error a refusal maps to (see above).
Error refusal_error(const http::Response& response);

}  // namespace doppel::dedup
