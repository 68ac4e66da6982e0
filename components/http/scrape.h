#pragma once
// A service's GET /metrics: what its HTTP server counted, merged with the service's own.

#include "components/http/message.h"
#include "components/http/server.h"
#include "components/metrics/metric_set.h"

namespace doppel::http {

// A 200 in Prometheus's text format of `service` and `server.metrics()` merged. Call from a
// fiber of the node.
Response scrape(const HttpServer& server, metrics::MetricSet service);

}  // namespace doppel::http
