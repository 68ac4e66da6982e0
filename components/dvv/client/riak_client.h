#pragma once
// Riak's HTTP API (the subset our store speaks) from the client's side, for
// everything of ours that talks to a DVV node: the scenario drivers, doppel
// bench dvv and the tests.
//
//   GET    /buckets/B/keys/K?r=&pr=        200 one value, 300 siblings (multipart/mixed),
//                                          404 none; X-Riak-Vclock: the causal context
//   PUT    /buckets/B/keys/K?w=&dw=&pw=&returnbody=   with X-Riak-Vclock from a read (or none:
//   POST   (the same, never resent)                    a blind write) and X-Riak-ClientId
//   DELETE /buckets/B/keys/K               a tombstone, written like a PUT
//   GET    /buckets/B/props                the props' JSON; ETag: their version
//   PUT    /buckets/B/props                {"props":{"n_val":3,"allow_mult":true,...}};
//                                          If-Match: an ETag (412 if they changed since)
//
// X-Doppel-Clock-Entries is ours: the number of entries in the object's clock.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "components/http/client.h"
#include "runtime/result.h"

namespace doppel::dvv {

// Per-request quorums and options; empty strings leave the bucket's default. Values are
// numbers or Riak's words ("one", "quorum", "all").
struct Quorum {
  std::string r, pr;        // reads
  std::string w, dw, pw;    // writes
  bool returnbody = false;  // writes: answer with the siblings now stored
};

// What a read, or a write with returnbody, saw.
struct RiakObject {
  int status = 0;                     // 200, 300, 404 (reads); 200, 204, 300 (writes)
  std::vector<std::string> siblings;  // values, tombstones left out
  std::string vclock;                 // X-Riak-Vclock, base64 as sent ("" if none)
  std::size_t clock_entries = 0;      // X-Doppel-Clock-Entries
  std::string error;                  // writes: the reason a node gave for another status
  bool found() const { return status == 200 || status == 300; }
};

struct WriteOptions {
  std::string vclock;     // the context of a read; "" for a blind write
  std::string client_id;  // X-Riak-ClientId (the vv clock's actor); "" for none
  Quorum quorum;
  // POST, not PUT, when a resend would be wrong: the HTTP client resends a PUT whose kept-alive
  // connection broke before an answer, and a second copy of a write is a new, concurrent dot.
  // A DELETE with `once` is never resent (http::ClientRequest::once).
  bool once = false;
  std::string content_type = "text/plain";
};

struct BucketPropsUpdate {
  std::optional<std::uint32_t> n_val;
  std::optional<bool> allow_mult;
  std::optional<std::string> clock;  // "dvvset" or "vv"
};

class RiakClient {
 public:
  RiakClient(Runtime& rt, Endpoint node, http::ClientOptions options = {});

  // Errors: the transport's; Errc::protocol for a malformed answer; Errc::unreachable naming
  // the status for any status but 200, 300 and 404. `query_extra` goes after the quorum's.
  Result<RiakObject> get(std::string_view bucket, std::string_view key, const Quorum& quorum,
                         Instant deadline);
  // A status that is not a success is an answer (status set), not an error.
  Result<RiakObject> put(std::string_view bucket, std::string_view key, std::string value,
                         const WriteOptions& options, Instant deadline);
  Result<RiakObject> remove(std::string_view bucket, std::string_view key,
                            const WriteOptions& options, Instant deadline);
  // The status of PUT /buckets/B/props (204 when applied; with `if_match`, an ETag of
  // props(), 412 when the node's props are another version now).
  Result<int> set_props(std::string_view bucket, const BucketPropsUpdate& props, Instant deadline,
                        std::string_view if_match = {});
  // The bucket's props as the node knows them (its JSON), or the status when not 200.
  Result<http::Response> props(std::string_view bucket, Instant deadline);
  // Any other request (the debug endpoints).
  Result<http::Response> raw(const http::ClientRequest& request, Instant deadline);

  // Membership (the node's /admin/cluster routes). A change: "join", "leave" or
  // "force-remove" of `node`, "replace" of `node` with `with`, or "commit". The server's text,
  // or an error carrying its reason: invalid_argument for a change it refused (422).
  Result<std::string> cluster_change(std::string_view op, std::optional<std::uint32_t> node,
                                     std::optional<std::uint32_t> with, Instant deadline);
  Result<std::string> cluster_plan(Instant deadline);
  Result<std::string> cluster_clear(Instant deadline);
  // The ring the node holds, as JSON (http_cluster.cc).
  Result<std::string> cluster_status(Instant deadline);

  const Endpoint& node() const { return http_.server(); }

 private:
  Result<RiakObject> written(Result<http::Response> response);
  http::HttpClient http_;
};

// "/buckets/B/keys/K" with the quorum's query.
std::string object_target(std::string_view bucket, std::string_view key, const Quorum& quorum);
std::string props_json(const BucketPropsUpdate& props);

// The values of a 200 or 300 answer (multipart for 300).
Result<std::vector<std::string>> siblings_of(const http::Response& response);

}  // namespace doppel::dvv
