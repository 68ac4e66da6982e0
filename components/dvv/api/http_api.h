#pragma once
// The store's HTTP API, after Riak's:
//   GET    /buckets/B/keys/K[?r=&pr=&vtag=]   200 one sibling, 300 multipart/mixed
//                                             for several (?vtag= picks one), 404
//   PUT    /buckets/B/keys/K[?w=&dw=&pw=&returnbody=true]   (POST too) 204 / 200
//   DELETE /buckets/B/keys/K                  204
//   GET|PUT /buckets/B/props                  JSON {"props":{...}}
//   GET    /ping, /stats, /metrics (Prometheus's text format)
//   GET    /debug/local/buckets/B/keys/K      this node's own replica (for checks)
//   GET|POST|DELETE /admin/cluster...          membership (http_cluster.cc)
// The causal context travels base64-encoded in X-Riak-Vclock; X-Riak-ClientId
// names the client for the vv baseline. Bad requests get a 4xx with a reason;
// a quorum that cannot be reached in time is 503. With users (settings.h) every route needs HTTP
// Basic credentials of one of them (401 otherwise); every user may do everything.

#include <memory>

#include "components/access/gate.h"
#include "components/dvv/store/node.h"
#include "components/http/router.h"
#include "components/http/server.h"
#include "components/metrics/event_counter.h"

namespace doppel::dvv {

class HttpApi {
 public:
  // `rt` counts the node's events for /metrics.
  HttpApi(DvvNode& node, metrics::EventCountingRuntime& rt);
  Status start(const Endpoint& at);
  void stop();

 private:
  void routes();
  Result<http::Response> on_core0(http::Request& request,
                                  Result<http::Response> (HttpApi::*fn)(http::Request&));
  Result<http::Response> get(http::Request& r);
  Result<http::Response> put(http::Request& r);
  Result<http::Response> remove(http::Request& r);
  Result<http::Response> get_props(http::Request& r);
  Result<http::Response> put_props(http::Request& r);
  Result<http::Response> stats(http::Request& r);
  Result<http::Response> debug_local(http::Request& r);
  Result<http::Response> metrics(http::Request& r);
  // Membership (http_cluster.cc).
  Result<http::Response> cluster_status(http::Request& r);
  Result<http::Response> cluster_stage(http::Request& r);
  Result<http::Response> cluster_plan(http::Request& r);
  Result<http::Response> cluster_clear(http::Request& r);

  DvvNode& node_;
  metrics::EventCountingRuntime& rt_;
  http::Router router_;
  std::unique_ptr<access::Gate> gate_;  // the settings' users, if any: 401 without them
  std::unique_ptr<http::HttpServer> server_;
};

// A node with its HTTP API: what `doppel serve` and the simulator boot.
class DvvService final : public Service {
 public:
  DvvService(std::unique_ptr<metrics::EventCountingRuntime> rt, std::unique_ptr<DvvNode> node,
             std::unique_ptr<HttpApi> api)
      : rt_(std::move(rt)), node_(std::move(node)), api_(std::move(api)) {}
  void stop() override {
    api_->stop();
    node_->stop();
  }
  DvvNode& node() { return *node_; }

 private:
  std::unique_ptr<metrics::EventCountingRuntime> rt_;  // under the others: destroyed last
  std::unique_ptr<DvvNode> node_;
  std::unique_ptr<HttpApi> api_;
};

}  // namespace doppel::dvv
