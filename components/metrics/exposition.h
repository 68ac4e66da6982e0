#pragma once
// Prometheus's text exposition format, version 0.0.4 (what every Prometheus server scrapes):
//
//   # HELP doppel_http_requests_total Requests answered.
//   # TYPE doppel_http_requests_total counter
//   doppel_http_requests_total{method="GET",route="/ping",code="200"} 3
//
// Families in name order, series in label order: the same set renders the same bytes, so a
// simulated scrape is as deterministic as the rest of a run.

#include <string>
#include <string_view>

#include "components/metrics/metric_set.h"

namespace doppel::metrics {

// The Content-Type a scrape is answered with.
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string render(const MetricSet& set);

// A sample value as the format writes it: integers without a fraction, +Inf, -Inf, NaN.
std::string format_value(double v);
// A label value with \, " and newlines escaped.
std::string escape_label_value(std::string_view v);

}  // namespace doppel::metrics
