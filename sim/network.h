#pragma once
// The simulated network: TCP-like byte streams between named nodes.
//
// Fault model. Links carry bytes in order, each write arriving after a
// latency drawn per write (FIFO is kept: a write never overtakes an earlier
// one). With the `latency` fault, latencies are long, jittery and have a
// heavy tail. With `split_reads`, a read returns a random prefix of what has
// arrived, so every parser sees every split. A partition stops delivery on a
// link (one-way or both ways); bytes wait in flight and are delivered in
// order after the heal, as TCP retransmission would, unless a reset comes
// first; a connect across a partition times out. `reset` kills every
// connection of a node; both ends then fail with Errc::reset. A crashed node
// loses its listeners (connects are refused) and its connections reset.
// Senders have a bounded window (kWindowBytes) and wait when it is full.

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

  // Draws every latency, split and choice of listener from `rng`.
  SimNetwork(const SimContext& context, Prng& rng) : context_(context), rng_(rng) {}
  ~SimNetwork();

  // --- hosts: node ids are dense and come in order
  void add_host(NodeId node, std::string name);
  const std::string& host_name(NodeId node) const;
  std::optional<NodeId> find_host(std::string_view name) const;

  Result<std::unique_ptr<Listener>> listen(SimRuntime& rt, const Endpoint& at,
                                           ListenOptions options);
  Result<std::unique_ptr<Stream>> connect(SimRuntime& rt, const Endpoint& to, Duration timeout);

  // --- faults
  void block(NodeId from, NodeId to);
  void heal();
  bool blocked(NodeId from, NodeId to) const { return blocked_.count({from, to}) != 0; }
  bool any_blocked() const { return !blocked_.empty(); }
  void reset_node(NodeId node);  // every connection touching it
  void node_down(NodeId node);   // a crash: reset and forget its listeners

  // --- for streams and listeners
  Duration latency();
  // How many of `available` arrived bytes one read returns: all of them, or a
  // random prefix with the split_reads fault.
  std::size_t read_length(std::size_t available);
  void send(const std::shared_ptr<Connection>& c, int side, std::string bytes, bool fin);
  void reset(Connection& c);
  void forget(ListenerState* l);
  std::size_t open_connections() const { return connections_.size(); }

 private:
  void pump(const std::shared_ptr<Connection>& c, int side);
  void schedule_pump(const std::shared_ptr<Connection>& c, int side, Instant at);

  SimContext context_;
  Prng& rng_;
  std::vector<std::string> host_names_;  // by node id
  std::set<std::pair<NodeId, NodeId>> blocked_;
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
  std::string inbox;            // arrived, not yet read
  std::size_t inbox_read = 0;
  std::uint64_t unread = 0;     // sent but not yet read: the window in use
  bool fin_sent = false;
  bool fin_arrived = false;
  WaitList readers;             // fibers of `to` waiting for bytes
  WaitList writers;             // fibers of `from` waiting for window

  std::size_t available() const { return inbox.size() - inbox_read; }
};

struct Connection {
  std::uint64_t id = 0;
  Pipe pipes[2];          // 0: client to server, 1: server to client
  Endpoint endpoints[2];  // 0: client side, 1: server side
  bool reset = false;
  bool closed[2] = {false, false};
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
