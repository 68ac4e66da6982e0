#pragma once
// Node-to-node messages: length-prefixed frames over the runtime's streams,
// request/response matched by id, so one connection per peer carries many
// requests at once. Every call has a deadline; a peer that does not answer
// is an error value, never a hang. Frames and in-flight calls are bounded.
//
// A connection begins with a handshake in which each side proves it knows the cluster secret
// (settings.h's cluster_secret) without sending it, over fresh nonces from both sides:
//   client -> server  hello         nonce_c (16 bytes)
//   server -> client  hello, reply  nonce_s, HMAC(secret, "doppel-dvv server" 0 nonce_c nonce_s)
//   client -> server  hello         HMAC(secret, "doppel-dvv client" 0 nonce_s nonce_c)
// A server answers no request before the client's proof checks, and a client sends none before
// the server's does: a node without the secret can neither write to the cluster nor feed a
// member answers. (The frames are not encrypted: on an untrusted network, see `insecure`.)

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/future.h"
#include "runtime/runtime.h"
#include "runtime/sync.h"

namespace doppel::dvv {

enum class RpcKind : std::uint8_t {
  ping = 1,
  get = 2,           // a replica's object
  put = 3,           // a replica stores (syncs in) the coordinator's object
  coordinate = 4,    // a non-replica forwards a PUT to a primary
  repair = 5,        // read repair / anti-entropy / handoff: sync this object in
  reap = 6,          // drop a tombstone if it is still exactly this
  aae_segments = 7,  // a partition's segment hashes
  aae_keys = 8,      // a segment's keys and object hashes
  props = 9,         // bucket properties, exchanged
  hello = 10,        // the handshake (above); never a request of the dispatch's
  ring = 11,         // ring states, exchanged (cluster_changes.h)
  cluster = 12,      // an admin's membership change, forwarded to the claimant
  handed_off = 13,   // a member handed off the pending transition's data
  sync = 14,         // make every record so far durable (before a sender drops its copy)
  repairs = 15,      // handoff: many repairs in one message
};

struct Frame {
  RpcKind kind;
  bool response = false;
  std::uint64_t id = 0;
  std::string payload;
};

class RpcServer {
 public:
  static constexpr std::size_t kFrameBytesMax = 64u << 20;
  using Handler = std::function<Result<std::string>(RpcKind kind, std::string_view payload)>;

  static constexpr Duration kHandshakeTimeout = std::chrono::seconds(5);

  // `trusts_peers`: a planted bug (settings.h), never set in production.
  RpcServer(Runtime& rt, std::string secret, Handler handler, bool trusts_peers = false)
      : rt_(rt),
        secret_(std::move(secret)),
        handler_(std::move(handler)),
        trusts_peers_(trusts_peers) {}
  // Serves over TLS (the real runtime; the simulator keeps streams clear, runtime/net.h).
  void use_tls(TlsServerKeys keys) { tls_ = std::move(keys); }
  Status start(const Endpoint& at);
  void stop();

 private:
  void serve(std::shared_ptr<Stream> stream);
  // The server's half of the handshake; what is read past it stays in `buffer`.
  Status handshake(Stream& stream, std::string& buffer);
  Runtime& rt_;
  std::string secret_;
  Handler handler_;
  bool trusts_peers_;
  std::optional<TlsServerKeys> tls_;
  std::unique_ptr<Listener> listener_;
  std::map<std::uint64_t, std::weak_ptr<Stream>> connections_;
  std::uint64_t next_connection_ = 0;
  bool stopping_ = false;
};

// Calls to one peer over one connection, (re)connected on demand.
class RpcClient {
 public:
  static constexpr std::size_t kInFlightMax = 4096;

  // `tls`: connect over TLS, the peer's certificate checked by it (runtime/net.h).
  RpcClient(Runtime& rt, Endpoint peer, std::string secret,
            std::optional<TlsClientTrust> tls = std::nullopt)
      : rt_(rt),
        peer_(std::move(peer)),
        secret_(std::move(secret)),
        tls_(std::move(tls)),
        connecting_(rt),
        writing_(rt) {}
  ~RpcClient();
  Result<std::string> call(RpcKind kind, std::string payload, Duration timeout);
  void close();

 private:
  struct Pending {
    std::shared_ptr<FutureState<Result<std::string>>> state;
  };
  Status ensure_connected(Instant deadline);
  // The client's half of the handshake.
  Status handshake(Stream& stream, Instant deadline);
  void read_loop(std::shared_ptr<Stream> stream, std::uint64_t epoch);
  void fail_all(const Error& error);

  Runtime& rt_;
  Endpoint peer_;
  std::string secret_;
  std::optional<TlsClientTrust> tls_;
  std::shared_ptr<Stream> stream_;
  std::uint64_t epoch_ = 0;
  Mutex connecting_;
  Mutex writing_;  // frames must not interleave on the stream
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, Promise<Result<std::string>>> pending_;
  bool closed_ = false;
};

std::string encode_frame(const Frame& f);
// Reads one frame; errors: the stream's, or corrupt for a bad frame.
Result<Frame> read_frame(Stream& s, std::string& buffer, Instant deadline);

}  // namespace doppel::dvv
