#include "components/http/scrape.h"

#include "components/metrics/exposition.h"

namespace doppel::http {

Response scrape(const HttpServer& server, metrics::MetricSet service) {
  service.merge(server.metrics());
  Response out = Response::text(200, metrics::render(service));
  out.headers.set("Content-Type", std::string(metrics::kContentType));
  return out;
}

}  // namespace doppel::http
