#include "sim/network.h"

#include <algorithm>
#include <cstring>

#include "sim/sim_runtime.h"

namespace doppel::sim {
namespace {

class SimStream final : public Stream {
 public:
  SimStream(SimRuntime& rt, SimNetwork& net, std::shared_ptr<Connection> c, int side)
      : rt_(rt), net_(net), c_(std::move(c)), side_(side) {}
  ~SimStream() override { close(); }

  Result<std::size_t> read(std::span<char> into, Instant deadline) override {
    Pipe& in = c_->pipes[1 - side_];
    for (;;) {
      if (!rt_.alive()) {
        rt_.throw_if_cancellable();
        return rt_.cancelled_error();
      }
      if (c_->reset) return make_error(Errc::reset, peer().to_string());
      if (c_->closed[side_]) return make_error(Errc::closed);
      if (in.available() > 0) {
        if (into.empty()) return std::size_t{0};
        const std::size_t n = net_.read_length(std::min(into.size(), in.available()));
        std::memcpy(into.data(), in.inbox.data() + in.inbox_read, n);
        in.inbox_read += n;
        in.unread -= n;
        if (in.inbox_read == in.inbox.size()) {
          in.inbox.clear();
          in.inbox_read = 0;
        } else if (in.inbox_read > (64u << 10) && in.inbox_read * 2 > in.inbox.size()) {
          in.inbox.erase(0, in.inbox_read);
          in.inbox_read = 0;
        }
        in.writers.notify_all();
        return n;
      }
      if (c_->timed_out) {
        if (!c_->error_pending[side_]) return std::size_t{0};  // then as a closed stream
        c_->error_pending[side_] = false;
        return timed_out_error();
      }
      if (in.fin_arrived) return std::size_t{0};
      if (in.readers.wait(rt_, deadline) == Wake::timed_out) {
        return make_error(Errc::timed_out, "read from " + peer().to_string());
      }
    }
  }

  Status write(std::string_view bytes, Instant deadline) override {
    Pipe& out = c_->pipes[side_];
    std::size_t done = 0;
    while (done < bytes.size()) {
      if (!rt_.alive()) {
        rt_.throw_if_cancellable();
        return rt_.cancelled_error();
      }
      if (c_->reset) return make_error(Errc::reset, peer().to_string());
      if (c_->closed[side_] || out.fin_sent) return make_error(Errc::closed);
      if (c_->timed_out) {
        if (!c_->error_pending[side_])
          return make_error(Errc::reset, "broken pipe to " + peer().to_string());
        c_->error_pending[side_] = false;
        return timed_out_error();
      }
      if (out.unread >= SimNetwork::kWindowBytes) {
        if (out.writers.wait(rt_, deadline) == Wake::timed_out) {
          return make_error(Errc::timed_out, "write to " + peer().to_string());
        }
        continue;
      }
      const std::size_t room = SimNetwork::kWindowBytes - out.unread;
      const std::size_t n = std::min({bytes.size() - done, room, SimNetwork::kSegmentBytesMax});
      out.unread += n;
      net_.send(c_, side_, std::string(bytes.substr(done, n)), false);
      done += n;
    }
    return {};
  }

  void close() override {
    if (c_->closed[side_]) return;
    c_->closed[side_] = true;
    // As Linux: closing with unread bytes resets the connection instead of a
    // graceful close, and the peer sees ECONNRESET.
    if (!c_->dead() && c_->pipes[1 - side_].available() > 0) {
      net_.reset(*c_);
      return;
    }
    Pipe& out = c_->pipes[side_];
    if (!c_->dead() && !out.fin_sent) {
      out.fin_sent = true;
      net_.send(c_, side_, {}, true);
    }
    // Wake our own readers and writers: they now fail with Errc::closed.
    c_->pipes[1 - side_].readers.notify_all();
    out.writers.notify_all();
  }

  Endpoint peer() const override { return c_->endpoints[1 - side_]; }

 private:
  Error timed_out_error() const {
    return make_error(Errc::timed_out, "connection to " + peer().to_string() +
                                           " (peer unreachable past the TCP timeout)");
  }

  SimRuntime& rt_;
  SimNetwork& net_;
  std::shared_ptr<Connection> c_;
  int side_;
};

class SimListener final : public Listener {
 public:
  SimListener(SimNetwork& net, std::unique_ptr<ListenerState> state)
      : net_(net), s_(std::move(state)) {}
  ~SimListener() override {
    close();
    net_.forget(s_.get());
  }

  Result<std::unique_ptr<Stream>> accept(Instant deadline) override {
    for (;;) {
      if (!s_->rt->alive()) {
        s_->rt->throw_if_cancellable();
        return s_->rt->cancelled_error();
      }
      if (s_->closed) return make_error(Errc::closed, "listener " + s_->local.to_string());
      if (!s_->pending.empty()) {
        std::shared_ptr<Connection> c = std::move(s_->pending.front());
        s_->pending.pop_front();
        if (c->dead()) continue;
        return std::unique_ptr<Stream>(new SimStream(*s_->rt, net_, std::move(c), 1));
      }
      if (s_->acceptors.wait(*s_->rt, deadline) == Wake::timed_out) {
        return make_error(Errc::timed_out, "accept on " + s_->local.to_string());
      }
    }
  }

  void close() override {
    if (s_->closed) return;
    s_->closed = true;
    for (auto& c : s_->pending) net_.reset(*c);
    s_->pending.clear();
    s_->acceptors.notify_all();
  }

  Endpoint local() const override { return s_->local; }

 private:
  SimNetwork& net_;
  std::unique_ptr<ListenerState> s_;
};

}  // namespace

SimNetwork::~SimNetwork() = default;

void SimNetwork::add_host(NodeId node, std::string name) {
  DOPPEL_ASSERT(node == host_names_.size());
  host_names_.push_back(std::move(name));
}

const std::string& SimNetwork::host_name(NodeId node) const {
  DOPPEL_ASSERT(node < host_names_.size());
  return host_names_[node];
}

std::optional<NodeId> SimNetwork::find_host(std::string_view name) const {
  for (NodeId node = 0; node < host_names_.size(); ++node) {
    if (host_names_[node] == name) return node;
  }
  return std::nullopt;
}

Duration SimNetwork::latency() {
  if (!context_.ambient.latency) {
    return Duration(rng_.between(20'000, 120'000));  // 20-120 us: a quiet LAN
  }
  // A congested network: 0.2-5 ms, and one write in 50 takes up to 150 ms.
  if (rng_.chance(1, 50)) {
    context_.coverage.hit("fault:latency");  // a spike: what the fault adds
    return Duration(rng_.between(5'000'000, 150'000'000));
  }
  return Duration(rng_.between(200'000, 5'000'000));
}

std::size_t SimNetwork::read_length(std::size_t available) {
  if (!context_.ambient.split_reads || available <= 1) return available;
  const auto n = static_cast<std::size_t>(rng_.between(1, static_cast<std::int64_t>(available)));
  if (n < available) context_.coverage.hit("fault:split_reads");
  return n;
}

Result<std::unique_ptr<Listener>> SimNetwork::listen(SimRuntime& rt, const Endpoint& at,
                                                     ListenOptions options) {
  const NodeId node = rt.node();
  if (!at.host.empty() && at.host != "0.0.0.0" && at.host != host_name(node)) {
    return make_error(Errc::invalid_argument,
                      "node " + host_name(node) + " cannot listen on " + at.to_string());
  }
  std::uint16_t port = at.port;
  if (port == 0) {  // any free port, as bind(2) with port 0
    do {
      port = next_listen_port_++;
      if (next_listen_port_ < 30000 || next_listen_port_ >= 40000) next_listen_port_ = 30000;
    } while (listeners_.count({node, port}) != 0);
  }
  auto& group = listeners_[{node, port}];
  for (ListenerState* l : group) {
    if (!l->reuse_port || !options.reuse_port) {
      return make_error(Errc::address_in_use, at.to_string());
    }
  }
  auto state = std::make_unique<ListenerState>();
  state->rt = &rt;
  state->node = node;
  state->incarnation = rt.incarnation();
  state->local = Endpoint{host_name(node), port};
  state->reuse_port = options.reuse_port;
  state->backlog = std::max(1, options.backlog);
  group.push_back(state.get());
  return std::unique_ptr<Listener>(new SimListener(*this, std::move(state)));
}

void SimNetwork::forget(ListenerState* l) {
  auto it = listeners_.find({l->node, l->local.port});
  if (it == listeners_.end()) return;
  auto& group = it->second;
  group.erase(std::remove(group.begin(), group.end(), l), group.end());
  if (group.empty()) listeners_.erase(it);
}

Result<std::unique_ptr<Stream>> SimNetwork::connect(SimRuntime& rt, const Endpoint& to,
                                                    Duration timeout) {
  const NodeId from = rt.node();
  const std::optional<NodeId> target = find_host(to.host);
  if (!target) return make_error(Errc::unreachable, "no host " + to.host);
  // The timeout runs on the node's clock.
  const Instant deadline = deadline_after(rt.now(), timeout);

  // The handshake takes a round trip; across a partition, it never completes.
  if (!reachable(from, *target)) {
    Waiter w;
    rt.park(w, deadline);
    return make_error(Errc::timed_out, "connect to " + to.to_string());
  }
  const Duration rtt = latency() + latency();
  const Instant answered = context_.now() + rtt;
  if (answered >= rt.world_time_at(deadline)) {
    Waiter w;
    rt.park(w, deadline);
    return make_error(Errc::timed_out, "connect to " + to.to_string());
  }
  {
    Waiter w;
    rt.park_until(w, answered);
  }
  if (!rt.alive()) {
    rt.throw_if_cancellable();
    return rt.cancelled_error();
  }
  auto it = listeners_.find({*target, to.port});
  if (it == listeners_.end() || it->second.empty() || !reachable(from, *target)) {
    return make_error(Errc::refused, to.to_string());
  }
  if (connections_.size() >= kConnectionsMax) {
    return make_error(Errc::no_space, "simulated connection table full");
  }
  auto& group = it->second;
  ListenerState* l = group[group.size() == 1 ? 0 : rng_.below(group.size())];
  if (l->closed || static_cast<int>(l->pending.size()) >= l->backlog) {
    return make_error(Errc::refused, to.to_string() + " (backlog full)");
  }
  auto c = std::make_shared<Connection>();
  c->id = next_connection_id_++;
  c->pipes[0].from = c->pipes[1].to = from;
  c->pipes[0].to = c->pipes[1].from = *target;
  c->endpoints[0] = Endpoint{host_name(from), next_ephemeral_port_++};
  if (next_ephemeral_port_ < 40000) next_ephemeral_port_ = 40000;
  c->endpoints[1] = l->local;
  connections_[c->id] = c;
  context_.record(Event("SimConnect")
                      .detail("conn", c->id)
                      .detail("from", from)
                      .detail("to", *target)
                      .detail("port", to.port));
  l->pending.push_back(c);
  l->acceptors.notify_one();
  return std::unique_ptr<Stream>(new SimStream(rt, *this, std::move(c), 0));
}

void SimNetwork::send(const std::shared_ptr<Connection>& c, int side, std::string bytes, bool fin) {
  Pipe& p = c->pipes[side];
  const Instant arrival = std::max(context_.now() + latency(), p.last_arrival);
  p.last_arrival = arrival;
  p.flight.push_back(Pipe::InFlight{arrival, std::move(bytes), fin});
  if (!p.pump_scheduled) schedule_pump(c, side, p.flight.front().arrival);
}

void SimNetwork::schedule_pump(const std::shared_ptr<Connection>& c, int side, Instant at) {
  c->pipes[side].pump_scheduled = true;
  // Bytes held by a partition arrived "in the past": they go out now.
  context_.agenda.schedule(std::max(at, context_.now()),
                           [this, weak = std::weak_ptr<Connection>(c), side] {
                             if (auto c = weak.lock()) pump(c, side);
                           });
}

void SimNetwork::pump(const std::shared_ptr<Connection>& c, int side) {
  Pipe& p = c->pipes[side];
  p.pump_scheduled = false;
  if (c->dead()) return;
  bool delivered = false;
  while (!p.flight.empty() && p.flight.front().arrival <= context_.now()) {
    if (blocked(p.from, p.to)) break;  // held until heal() pumps again
    Pipe::InFlight& f = p.flight.front();
    if (f.fin) {
      p.fin_arrived = true;
    } else {
      p.inbox.append(f.bytes);
    }
    p.flight.pop_front();
    delivered = true;
  }
  if (delivered) p.readers.notify_all();
  if (!p.flight.empty() && !blocked(p.from, p.to)) schedule_pump(c, side, p.flight.front().arrival);
  if (p.flight.empty() && p.fin_arrived && c->pipes[1 - side].fin_arrived) {
    connections_.erase(c->id);
  }
}

void SimNetwork::cut(NodeId from, NodeId to) {
  DOPPEL_ASSERT(from < host_names_.size() && to < host_names_.size() && from != to);
  std::uint16_t& n = cuts_[from * kHostsMax + to];
  DOPPEL_ASSERT_MSG(n < 0xffff, "too many partitions cut one link");
  if (n++ == 0) {
    ++cut_links_;
    link_changed(from, to);
  }
}

bool SimNetwork::heal(NodeId from, NodeId to) {
  std::uint16_t& n = cuts_[from * kHostsMax + to];
  DOPPEL_ASSERT_MSG(n > 0, "a link healed more often than it was cut");
  if (--n != 0) return false;
  --cut_links_;
  link_changed(from, to);
  return true;
}

void SimNetwork::heal_all() {
  std::fill(cuts_.begin(), cuts_.end(), std::uint16_t{0});
  cut_links_ = 0;
  for (auto& [id, weak] : connections_) {
    auto c = weak.lock();
    if (!c || c->dead()) continue;
    if (!reachable(c->pipes[0].from, c->pipes[0].to)) continue;  // to an unplugged host
    c->unreachable = false;
    ++c->unreachable_epoch;
    pump_held(c);
  }
}

void SimNetwork::pump_held(const std::shared_ptr<Connection>& c) {
  for (int side = 0; side < 2; ++side) {
    Pipe& p = c->pipes[side];
    if (!p.flight.empty() && !p.pump_scheduled && !blocked(p.from, p.to)) {
      schedule_pump(c, side, std::max(context_.now() + latency(), p.flight.front().arrival));
    }
  }
}

void SimNetwork::link_changed(NodeId a, NodeId b) {
  const bool up = reachable(a, b);
  std::vector<std::shared_ptr<Connection>> touched;
  for (auto& [id, weak] : connections_) {
    auto c = weak.lock();
    if (!c || c->dead()) continue;
    const NodeId x = c->pipes[0].from, y = c->pipes[0].to;
    if ((x == a && y == b) || (x == b && y == a)) touched.push_back(std::move(c));
  }
  for (const auto& c : touched) {
    if (up) {
      c->unreachable = false;
      ++c->unreachable_epoch;
      pump_held(c);
      continue;
    }
    if (c->unreachable) continue;  // already counting since the first cut
    c->unreachable = true;
    const std::uint64_t epoch = ++c->unreachable_epoch;
    context_.agenda.schedule(
        deadline_after(context_.now(), tcp_timeout_),
        [this, weak = std::weak_ptr<Connection>(c), epoch] {
          auto c = weak.lock();
          if (c && !c->dead() && c->unreachable && c->unreachable_epoch == epoch) {
            time_out(*c);
          }
        });
  }
}

void SimNetwork::time_out(Connection& c) {
  if (c.dead()) return;
  c.timed_out = true;
  // Each end hears ETIMEDOUT once; what had arrived stays readable, as in a
  // socket's receive queue.
  for (int side = 0; side < 2; ++side) {
    c.error_pending[side] = !c.closed[side];
    Pipe& p = c.pipes[side];
    p.flight.clear();
    p.readers.notify_all();
    p.writers.notify_all();
  }
  context_.coverage.hit("fault:tcp_timeout");
  context_.record(Event("SimConnectionTimedOut").detail("conn", c.id));
  connections_.erase(c.id);
}

void SimNetwork::reset(Connection& c) {
  if (c.dead()) return;
  c.reset = true;
  for (Pipe& p : c.pipes) {
    p.flight.clear();
    p.inbox.clear();
    p.inbox_read = 0;
    p.readers.notify_all();
    p.writers.notify_all();
  }
  context_.record(Event("SimConnectionReset").detail("conn", c.id));
  connections_.erase(c.id);
}

void SimNetwork::reset_node(NodeId node) {
  std::vector<std::shared_ptr<Connection>> doomed;
  for (auto& [id, weak] : connections_) {
    auto c = weak.lock();
    if (c && (c->pipes[0].from == node || c->pipes[0].to == node)) doomed.push_back(c);
  }
  for (auto& c : doomed) reset(*c);
}

void SimNetwork::node_down(NodeId node) {
  const bool sends_resets = !unplugged_[node];
  if (sends_resets) reset_node(node);
  for (auto& [key, group] : listeners_) {
    if (key.first != node) continue;
    for (ListenerState* l : group) {
      l->closed = true;
      if (sends_resets) {
        for (auto& c : l->pending) reset(*c);
      }
      l->pending.clear();
      l->acceptors.notify_all();
    }
  }
}

void SimNetwork::unplug(NodeId node) {
  DOPPEL_ASSERT(node < host_names_.size());
  if (unplugged_[node]) return;
  unplugged_[node] = true;
  for (NodeId other = 0; other < host_names_.size(); ++other) {
    if (other != node) link_changed(node, other);  // its connections start to time out
  }
}

void SimNetwork::plug(NodeId node) {
  DOPPEL_ASSERT(node < host_names_.size());
  if (!unplugged_[node]) return;
  unplugged_[node] = false;
  // The machine booted afresh: its kernel answers any packet of an old connection with a reset.
  reset_node(node);
}

}  // namespace doppel::sim
