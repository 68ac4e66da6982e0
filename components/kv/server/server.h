#pragma once
// The KV node: a memcached-text-protocol server, shared-nothing and thread
// per core, as the Sphinx paper. Every core listens on the same port
// (SO_REUSEPORT), serves its own connections, and owns the keys that hash to
// it (ownership.h). A request for a foreign key is forwarded to its owner
// with run_on and the reply comes back to the connection's core. Requests
// read together from one connection are grouped per owner core -- one
// run_on per core, executing in order -- and answered in the order they
// came (pipelining), a multi-key get fanning out and answering in key order.
//
// Beyond the paper (KvSettings::core_ports): each core can also listen on a
// port of its own, so a client that spreads keys over those ports with the
// node's owner function (a stock libmemcached client with the matching hash)
// sends each request to its owner and nothing is forwarded. A request that
// still arrives elsewhere is forwarded as on the shared port.

#include <atomic>
#include <memory>
#include <vector>

#include "components/http/router.h"
#include "components/http/server.h"
#include "components/kv/protocol/request.h"
#include "components/kv/server/shard.h"
#include "components/kv/settings.h"
#include "runtime/node.h"
#include "runtime/runtime.h"
#include "runtime/sync.h"

namespace doppel::kv {

inline constexpr std::string_view kVersion = "1.6.0-doppel";

struct BatchEntry;

class KvService final : public Service {
 public:
  static constexpr std::size_t kBatchRequestsMax = 256;  // parsed before answering
  static constexpr std::size_t kReadBytes = 16 << 10;
  static constexpr std::size_t kMetricsConnectionsMax = 64;  // scrapers, not clients

  KvService(Runtime& rt, const KvSettings& config, const NodeConfig& node);
  ~KvService() override;

  Status start();  // shards and listeners on every core
  void stop() override;

  Shard& shard(CoreId core) { return *shards_[core]; }
  Runtime& runtime() { return rt_; }
  const KvSettings& config() const { return config_; }
  std::int64_t started_at() const { return started_at_; }
  // `stats conns`: each open connection's id, peer, state and seconds since its last command.
  std::string connection_stats();
  // Units this core forwarded to each core since boot ([to]); on `core` only.
  const std::vector<std::uint64_t>& forwarded_to(CoreId core) const;
  // Units this core sent to each core that are not answered yet: the forwarding queue's depth.
  const std::vector<std::uint64_t>& waiting_on(CoreId core) const;
  // The metrics HTTP server, if metrics_listen is set (after start()).
  const http::HttpServer* metrics_server() const { return metrics_server_.get(); }

 private:
  struct Connection;
  struct CoreState;
  void accept_loop(CoreId core, Listener& listener, bool core_port);
  // Serves one connection; false when it ended in an error (reset, timeout).
  bool serve(CoreId core, Stream& stream, Connection& conn);
  bool write_replies(Stream& stream, std::string_view out);
  // Appends the batch's replies, in request order, to `out`.
  void answer(CoreId core, const Connection& conn,
              const std::shared_ptr<std::vector<BatchEntry>>& batch, std::string& out);
  void answer_run(CoreId core, const Connection& conn,
                  const std::shared_ptr<std::vector<BatchEntry>>& batch, std::size_t begin,
                  std::size_t end, std::string& out);
  CoreId owner(std::string_view key, CoreId core, const Connection& conn) const;
  Endpoint core_endpoint(CoreId core) const;  // core's own port (core_ports)
  void flush_all(const Request& request, std::string& out);
  void metadump(const Request& request, std::string& out);

  Runtime& rt_;
  KvSettings config_;
  NodeConfig node_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::vector<std::unique_ptr<CoreState>> cores_;
  std::int64_t started_at_ = 0;
  bool stopping_ = false;
  // Open connections over all cores, for connections_max: touched only at accept and close.
  std::atomic<std::uint64_t> live_total_{0};
  http::Router metrics_router_;
  std::unique_ptr<http::HttpServer> metrics_server_;
};

}  // namespace doppel::kv
