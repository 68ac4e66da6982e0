#pragma once
// The simulated network: TCP-like byte streams between named nodes.
//
// Fault model. Links carry bytes in order, each write arriving after a
// latency drawn per write (FIFO is kept: a write never overtakes an earlier
// one). With the `latency` fault, latencies are long, jittery and have a
// heavy tail. With `split_reads`, a read returns a random prefix of what has
// arrived, so every parser sees every split.
//
// Partitions cut links (one-way or both ways). Each partition event cuts its
// own links and, when it ends, heals only those: a link is cut while any
// event that cut it lasts (a count per link), so overlapping partitions end
// one at a time and removing one event (the shrinker does) never changes how
// long the others last. While a link is cut, bytes wait in flight and are
// delivered in order after the heal, as TCP retransmission would; a connect
// across a cut times out. A connection whose two ends cannot reach each
// other (either direction cut: TCP needs the acknowledgements) for longer
// than the TCP timeout (FaultBounds::tcp_timeout) breaks, as Linux breaks it
// when retransmissions, keepalive or TCP_USER_TIMEOUT give up: on each end
// the bytes that had arrived can still be read, then the next read or write
// fails once with Errc::timed_out (ETIMEDOUT), and after that reads see the
// end of the stream and writes fail with Errc::reset (EPIPE).
//
// `reset` kills every connection of a node; both ends then fail with
// Errc::reset. A crashed node loses its listeners (connects are refused) and
// its connections reset. Senders have a bounded window (kWindowBytes) and
// wait when it is full.

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/net.h"
#include "runtime/random.h"
#include "runtime/sync.h"
#include "sim/scheduler.h"
#include "sim/sim_context.h"

namespace doppel::sim {

class SimRuntime;
struct Connection;
struct ListenerState;

class SimNetwork {
 public:
  static constexpr std::uint64_t kWindowBytes = 1u << 20;
  static constexpr std::size_t kSegmentBytesMax = 64u << 10;
  static constexpr std::size_t kConnectionsMax = 1u << 16;
  static constexpr NodeId kHostsMax = 64;

  // Draws every latency, split and choice of listener from `rng`.
  SimNetwork(const SimContext& context, Prng& rng, Duration tcp_timeout)
      : context_(context),
        rng_(rng),
        tcp_timeout_(tcp_timeout),
        cuts_(kHostsMax * kHostsMax, 0),
        unplugged_(kHostsMax, false) {}
  ~SimNetwork();

  // --- hosts: node ids are dense and come in order
  void add_host(NodeId node, std::string name);
  const std::string& host_name(NodeId node) const;
  std::optional<NodeId> find_host(std::string_view name) const;

  Result<std::unique_ptr<Listener>> listen(SimRuntime& rt, const Endpoint& at,
                                           ListenOptions options);
  Result<std::unique_ptr<Stream>> connect(SimRuntime& rt, const Endpoint& to, Duration timeout);

  // --- faults
  // One more event cuts the link; it stays cut until every one has healed it.
  void cut(NodeId from, NodeId to);
  // One event that cut the link heals it; true if that was the last one.
  bool heal(NodeId from, NodeId to);
  // Every link heals now (the quiet phase).
  void heal_all();
  bool blocked(NodeId from, NodeId to) const {
    return cuts_[from * kHostsMax + to] != 0 || unplugged_[from] || unplugged_[to];
  }
  // Both directions up: what a TCP connection (or handshake) between them needs.
  bool reachable(NodeId a, NodeId b) const { return !blocked(a, b) && !blocked(b, a); }
  bool any_blocked() const { return cut_links_ != 0; }
  void reset_node(NodeId node);  // every connection touching it
  // A crash: reset and forget its listeners. An unplugged host's connections are not reset
  // (nobody sends the RST): they time out.
  void node_down(NodeId node);
  // A machine taken off the network (power off): nothing reaches it or leaves it, a connect to
  // it times out, and its connections break by the TCP timeout, as across a partition (a crashed
  // process's kernel would have reset them instead). Plugged in again, it resets what is left.
  void unplug(NodeId node);
  void plug(NodeId node);

  // --- for streams and listeners
  Duration latency();
  // How many of `available` arrived bytes one read returns: all of them, or a
  // random prefix with the split_reads fault.
  std::size_t read_length(std::size_t available);
  void send(const std::shared_ptr<Connection>& c, int side, std::string bytes, bool fin);
  void reset(Connection& c);
  // The TCP timeout ran out: both ends fail with Errc::timed_out.
  void time_out(Connection& c);
  void forget(ListenerState* l);
  std::size_t open_connections() const { return connections_.size(); }

 private:
  void pump(const std::shared_ptr<Connection>& c, int side);
  void schedule_pump(const std::shared_ptr<Connection>& c, int side, Instant at);
  // The link between a and b just changed: connections between them start
  // or stop counting towards the TCP timeout, and held bytes move again.
  void link_changed(NodeId a, NodeId b);
  void pump_held(const std::shared_ptr<Connection>& c);

  SimContext context_;
  Prng& rng_;
  Duration tcp_timeout_;
  std::vector<std::string> host_names_;  // by node id
  std::vector<std::uint16_t> cuts_;      // [from * kHostsMax + to]: events cutting the link
  std::uint64_t cut_links_ = 0;          // links with a nonzero count
  std::vector<bool> unplugged_;          // by host: off the network (unplug())
  std::map<std::uint64_t, std::weak_ptr<Connection>> connections_;
  std::map<std::pair<NodeId, std::uint16_t>, std::vector<ListenerState*>> listeners_;
  std::uint64_t next_connection_id_ = 1;
  std::uint16_t next_ephemeral_port_ = 40000;
  std::uint16_t next_listen_port_ = 30000;
};

// One direction of a connection.
struct Pipe {
  NodeId from = 0;
  NodeId to = 0;
  struct InFlight {
    Instant arrival;
    std::string bytes;
    bool fin = false;
  };
  std::deque<InFlight> flight;  // sent, not yet arrived, in order
  bool pump_scheduled = false;
  Instant last_arrival = instant_ns(0);
  std::string inbox;  // arrived, not yet read
  std::size_t inbox_read = 0;
  std::uint64_t unread = 0;  // sent but not yet read: the window in use
  bool fin_sent = false;
  bool fin_arrived = false;
  WaitList readers;  // fibers of `to` waiting for bytes
  WaitList writers;  // fibers of `from` waiting for window

  std::size_t available() const { return inbox.size() - inbox_read; }
};

struct Connection {
  std::uint64_t id = 0;
  Pipe pipes[2];          // 0: client to server, 1: server to client
  Endpoint endpoints[2];  // 0: client side, 1: server side
  bool reset = false;
  bool closed[2] = {false, false};
  // The TCP timeout: `unreachable` while a link between the ends is cut; a
  // timer armed then breaks the connection unless the epoch moved on.
  bool unreachable = false;
  std::uint64_t unreachable_epoch = 0;
  bool timed_out = false;                  // broken by the TCP timeout
  bool error_pending[2] = {false, false};  // ETIMEDOUT not yet reported to that end

  // Nothing more crosses it: reset, or timed out.
  bool dead() const { return reset || timed_out; }
};

struct ListenerState {
  SimRuntime* rt = nullptr;
  NodeId node = 0;
  std::uint32_t incarnation = 0;
  Endpoint local;
  bool reuse_port = false;
  int backlog = 0;
  bool closed = false;
  std::deque<std::shared_ptr<Connection>> pending;  // accepted by the kernel, not yet by us
  WaitList acceptors;
};

}  // namespace doppel::sim
