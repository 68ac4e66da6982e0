#pragma once
// The network seen by components: TCP-like byte streams. Every failure is a
// value: refused, reset, timed out, closed, unreachable.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "runtime/result.h"
#include "runtime/time.h"

namespace doppel {

struct Endpoint {
  std::string host;  // an IPv4 address, or a simulated node's name
  std::uint16_t port = 0;

  std::string to_string() const;
  bool operator==(const Endpoint&) const = default;
};

// "host:port". Errors name what is wrong with the text.
Result<Endpoint> parse_endpoint(std::string_view text);

class Stream {
 public:
  virtual ~Stream() = default;
  // Reads what is available, at least one byte; 0 means the peer closed its
  // side. May return fewer bytes than were sent in one write.
  virtual Result<std::size_t> read(std::span<char> into, Instant deadline = kNever) = 0;
  // Writes every byte or fails.
  virtual Status write(std::string_view bytes, Instant deadline = kNever) = 0;
  // Idempotent; never blocks, never throws. Unsent data is still delivered.
  virtual void close() = 0;
  virtual Endpoint peer() const = 0;
};

class Listener {
 public:
  virtual ~Listener() = default;
  virtual Result<std::unique_ptr<Stream>> accept(Instant deadline = kNever) = 0;
  virtual void close() = 0;  // wakes acceptors with Errc::closed
  virtual Endpoint local() const = 0;
};

// TLS on a listener or a connection. The real runtime speaks it (OpenSSL): a listener's streams
// do the server's handshake on their first read or write, a connection does the client's before
// connect_with() returns it, verifying the server's certificate against `ca_pem` (the system's
// CAs when empty) and `server_name` (a DNS name or an IP address; the endpoint's host when
// empty). The simulator models no cryptography: its streams stay in the clear, so a service
// behaves the same with TLS on or off there. PEM texts, not paths: settings readers read the
// files (base/toml.h's FileReader), so a config's relative paths mean the same everywhere.
struct TlsServerKeys {
  std::string cert_pem;  // the certificate, then any intermediates
  std::string key_pem;   // its private key
};
struct TlsClientTrust {
  std::string ca_pem;  // the CAs to trust; "" for the system's
  std::string server_name;
};

struct ListenOptions {
  bool reuse_port = false;  // one listener per core on the same port
  int backlog = 128;
  std::optional<TlsServerKeys> tls;
};

struct ConnectOptions {
  std::optional<TlsClientTrust> tls;
};

class Network {
 public:
  virtual ~Network() = default;
  virtual Result<std::unique_ptr<Listener>> listen(const Endpoint& at, ListenOptions options) = 0;
  virtual Result<std::unique_ptr<Stream>> connect(const Endpoint& to, Duration timeout) = 0;
  // connect() with options. The default (the simulator's) ignores `tls`: see TlsServerKeys.
  virtual Result<std::unique_ptr<Stream>> connect_with(const Endpoint& to, Duration timeout,
                                                       const ConnectOptions& options) {
    (void)options;
    return connect(to, timeout);
  }
};

}  // namespace doppel
