#pragma once
// The KV node's GET /metrics (on [kv] metrics_listen): each core's commands and their
// outcomes, connections, forwarded units per core pair, and its store (items, bytes, segments,
// evictions), labelled by core. `stats reset` zeroes the counters as it does memcached's: a
// scraper sees a counter reset, as after a restart.

#include "components/kv/server/server.h"
#include "components/metrics/metric_set.h"

namespace doppel::kv {

// Call from a fiber of the node.
metrics::MetricSet kv_metrics(KvService& service);

}  // namespace doppel::kv
