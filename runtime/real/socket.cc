// Streams and listeners of the real runtime: TCP over IPv4, non-blocking,
// owned by the core that created them; the reactor does the waiting.

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>

#include "runtime/real/core.h"
#include "runtime/real/real_runtime.h"

namespace doppel::real {
namespace {

// A peer that vanished (a crashed machine, a cut cable) breaks the
// connection within ~20 s, not Linux's ~15 minutes of retransmissions (data
// in flight) or 2 hours of keepalive silence (idle): the simulator's TCP
// timeout has the same default (sim::FaultBounds::tcp_timeout), so the two
// worlds agree on when a dead connection fails, with ETIMEDOUT.
void set_dead_peer_timeout(int fd) {
  const int one = 1;
  const int idle_s = 10, interval_s = 2, probes = 5;  // 10 s + 5 x 2 s
  const unsigned user_timeout_ms = 20'000;            // unacknowledged data
  ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle_s, sizeof idle_s);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval_s, sizeof interval_s);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof probes);
  ::setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms, sizeof user_timeout_ms);
}

Result<sockaddr_in> resolve(const Endpoint& e) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(e.port);
  const std::string host = e.host.empty()          ? "0.0.0.0"
                           : e.host == "localhost" ? "127.0.0.1"
                                                   : e.host;
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    return make_error(Errc::invalid_argument, "not an IPv4 address: '" + e.host + "'");
  }
  return addr;
}

Endpoint endpoint_of(const sockaddr_in& addr) {
  char buf[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &addr.sin_addr, buf, sizeof buf);
  return Endpoint{buf, ntohs(addr.sin_port)};
}

void release_port(std::uint16_t port);

class RealStream final : public Stream {
 public:
  RealStream(Core& core, int fd, Endpoint peer) : core_(core), peer_(std::move(peer)) {
    s_.fd = fd;
  }
  ~RealStream() override { close(); }

  Status attach() { return core_.reactor().attach(s_); }
  Status connect(const sockaddr_in& to, Instant deadline) {
    return core_.reactor().connect(s_, to, deadline);
  }

  Result<std::size_t> read(std::span<char> into, Instant deadline) override {
    if (s_.fd < 0) return make_error(Errc::closed);
    check_core();
    return core_.reactor().recv(s_, into, deadline);
  }
  Status write(std::string_view bytes, Instant deadline) override {
    if (s_.fd < 0) return make_error(Errc::closed);
    check_core();
    return core_.reactor().send(s_, bytes, deadline);
  }
  void close() override {
    if (s_.fd < 0) return;
    core_.reactor().detach(s_);
    ::close(s_.fd);
    s_.fd = -1;
    s_.readers.notify_all();
    s_.writers.notify_all();
  }
  Endpoint peer() const override { return peer_; }

 private:
  void check_core() {
    DOPPEL_ASSERT_MSG(Core::current() == &core_, "a stream used from another core");
  }
  Core& core_;
  Socket s_;
  Endpoint peer_;
};

class RealListener final : public Listener {
 public:
  RealListener(Core& core, int fd, Endpoint local, std::uint16_t claimed_port)
      : core_(core), local_(std::move(local)), claimed_port_(claimed_port) {
    s_.fd = fd;
  }
  ~RealListener() override { close(); }
  Status attach() { return core_.reactor().attach(s_); }

  Result<std::unique_ptr<Stream>> accept(Instant deadline) override {
    if (s_.fd < 0) return make_error(Errc::closed, "listener " + local_.to_string());
    DOPPEL_ASSERT_MSG(Core::current() == &core_, "a listener used from another core");
    Result<int> fd = core_.reactor().accept(s_, deadline);
    if (!fd) return fd.error();
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    ::getpeername(*fd, reinterpret_cast<sockaddr*>(&peer), &len);
    const int one = 1;
    ::setsockopt(*fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    set_dead_peer_timeout(*fd);
    auto stream = std::make_unique<RealStream>(core_, *fd, endpoint_of(peer));
    if (Status s = stream->attach(); !s) return s.error();
    return std::unique_ptr<Stream>(std::move(stream));
  }
  void close() override {
    if (s_.fd < 0) return;
    core_.reactor().detach(s_);
    ::close(s_.fd);
    s_.fd = -1;
    s_.readers.notify_all();
    if (claimed_port_ != 0) release_port(claimed_port_);
  }
  Endpoint local() const override { return local_; }

 private:
  Core& core_;
  Socket s_;
  Endpoint local_;
  std::uint16_t claimed_port_;
};

}  // namespace

Error errno_error(int err, std::string what) {
  Errc code = Errc::io_error;
  switch (err) {
    case ECONNREFUSED:
      code = Errc::refused;
      break;
    case ECONNRESET:
    case EPIPE:
    case ECONNABORTED:
      code = Errc::reset;
      break;
    case ETIMEDOUT:
      code = Errc::timed_out;
      break;
    case ENETUNREACH:
    case EHOSTUNREACH:
      code = Errc::unreachable;
      break;
    case EADDRINUSE:
      code = Errc::address_in_use;
      break;
    case ENOENT:
      code = Errc::not_found;
      break;
    case EEXIST:
      code = Errc::exists;
      break;
    case EINVAL:
    case ENAMETOOLONG:
    case EISDIR:
    case ENOTDIR:
      code = Errc::invalid_argument;
      break;
    case ENOSPC:
    case EDQUOT:
    case EMFILE:
    case ENFILE:
      code = Errc::no_space;
      break;
    case EFBIG:
      code = Errc::too_large;
      break;
    case EOPNOTSUPP:
      code = Errc::unsupported;
      break;
    case ECANCELED:
      code = Errc::cancelled;
      break;
    default:
      break;
  }
  return make_error(code, what + ": " + std::strerror(err));
}

namespace {

// SO_REUSEPORT lets any process of the same user bind the port too, and the
// kernel then splits connections between us and it: a second server would
// silently steal half the traffic. So the first reuse_port listener of a port
// in this process first binds it without SO_REUSEPORT, which fails if anyone
// (us included) holds it; the other cores' listeners then join freely.
std::mutex g_ports_mutex;
std::map<std::uint16_t, int> g_ports_held;  // port -> our reuse_port listeners on it

Status claim_port(const sockaddr_in& addr, std::uint16_t port, const Endpoint& at) {
  std::lock_guard<std::mutex> lock(g_ports_mutex);
  if (port != 0 && g_ports_held[port]++ > 0) return {};
  if (port == 0) return {};
  const int probe = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(probe, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const int rc = ::bind(probe, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  const int err = errno;
  ::close(probe);
  if (rc != 0) {
    --g_ports_held[port];
    return errno_error(err, "listen on " + at.to_string());
  }
  return {};
}

void release_port(std::uint16_t port) {
  std::lock_guard<std::mutex> lock(g_ports_mutex);
  auto it = g_ports_held.find(port);
  if (it != g_ports_held.end() && --it->second <= 0) g_ports_held.erase(it);
}

}  // namespace

Result<std::unique_ptr<Listener>> real_listen(Core& core, const Endpoint& at,
                                              ListenOptions options) {
  auto addr = resolve(at);
  if (!addr) return addr.error();
  if (options.reuse_port) {
    if (Status s = claim_port(*addr, at.port, at); !s) return s.error();
  }
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno_error(errno, "socket");
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (options.reuse_port) ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr) != 0 ||
      ::listen(fd, options.backlog) != 0) {
    const int err = errno;
    ::close(fd);
    if (options.reuse_port) release_port(at.port);
    return errno_error(err, "listen on " + at.to_string());
  }
  sockaddr_in bound{};
  socklen_t len = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  const std::uint16_t bound_port = ntohs(bound.sin_port);
  if (options.reuse_port && at.port == 0) {
    // An ephemeral port: now that we hold it, other cores may join it.
    std::lock_guard<std::mutex> lock(g_ports_mutex);
    ++g_ports_held[bound_port];
  }
  auto l = std::make_unique<RealListener>(core, fd, endpoint_of(bound),
                                          options.reuse_port ? bound_port : 0);
  if (Status s = l->attach(); !s) return s.error();
  return std::unique_ptr<Listener>(std::move(l));
}

Result<std::unique_ptr<Stream>> real_connect(Core& core, const Endpoint& to, Duration timeout) {
  auto addr = resolve(to);
  if (!addr) return addr.error();
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno_error(errno, "socket");
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  set_dead_peer_timeout(fd);
  auto stream = std::make_unique<RealStream>(core, fd, to);
  if (Status s = stream->attach(); !s) return s.error();
  if (Status s = stream->connect(*addr, deadline_after(monotonic_now(), timeout)); !s) {
    return make_error(s.code(), "connect to " + to.to_string() + ": " + s.error().what);
  }
  return std::unique_ptr<Stream>(std::move(stream));
}

}  // namespace doppel::real
