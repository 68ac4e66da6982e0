#include "components/dvv/store/peers.h"

#include "runtime/assert.h"

namespace doppel::dvv {

Peers::Peers(Runtime& rt, const DvvSettings& config, const std::vector<Endpoint>& endpoints,
             NodeIndex self)
    : rt_(rt), config_(config), self_(self) {
  for (const Endpoint& e : endpoints)
    clients_.push_back(std::make_unique<RpcClient>(
        rt, e, config.cluster_secret,
        config.access.tls
            ? std::optional<TlsClientTrust>(TlsClientTrust{config.access.tls_ca_pem, ""})
            : std::nullopt));
  last_seen_.assign(endpoints.size(), rt.now());
  DOPPEL_ASSERT(self_ < clients_.size());
}

RpcClient& Peers::at(NodeIndex n) {
  DOPPEL_ASSERT(n < clients_.size());
  DOPPEL_ASSERT_MSG(n != self_, "a node calls itself through its own parts, never over RPC");
  return *clients_[n];
}

bool Peers::up(NodeIndex n) const {
  DOPPEL_ASSERT(n < last_seen_.size());
  if (n == self_) return true;
  return rt_.now() - last_seen_[n] < config_.down_after;
}

void Peers::ping_loop(const bool& stopping) {
  while (!stopping) {
    for (NodeIndex n = 0; n < clients_.size(); ++n) {
      if (n == self_) continue;
      if (config_.bug_down_stays_down && !up(n)) continue;  // planted: no ping, no way back up
      rt_.spawn("dvv-ping", [this, n] {
        if (!at(n).call(RpcKind::ping, {}, config_.ping_interval).ok()) return;
        // The monotonic clock: an answer never makes a node look seen earlier.
        DOPPEL_ASSERT(rt_.now() >= last_seen_[n]);
        last_seen_[n] = rt_.now();
      });
    }
    rt_.sleep(config_.ping_interval);
  }
}

void Peers::close() {
  for (auto& c : clients_) c->close();
}

}  // namespace doppel::dvv
