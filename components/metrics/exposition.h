#pragma once
// Prometheus's text exposition format, version 0.0.4 (what every Prometheus server scrapes):
//
//   # HELP doppel_http_requests_total Requests answered.
//   # TYPE doppel_http_requests_total counter
//   doppel_http_requests_total{method="GET",route="/ping",code="200"} 3
//
// Families in name order, series in label order: the same set renders the same bytes, so a
// simulated scrape is as deterministic as the rest of a run.

#include <map>
#include <string>
#include <string_view>

#include "components/metrics/metric_set.h"
#include "runtime/result.h"

namespace doppel::metrics {

// The Content-Type a scrape is answered with.
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string render(const MetricSet& set);

// A sample value as the format writes it: integers without a fraction, +Inf, -Inf, NaN.
std::string format_value(double v);
// A label value with \, " and newlines escaped.
std::string escape_label_value(std::string_view v);

// Reads a page back (for checks of what a scrape says): every sample by its series as written
// ("name{a=\"x\"}") to its value. Refused, naming the line: a sample before its family's TYPE,
// an unknown type, a second TYPE line, a repeated series, a value that is not a number, a page
// not ending in a newline.
Result<std::map<std::string, double>> parse_samples(std::string_view text);
// The sum of every series of metric `name` (with any labels).
double sum_of(const std::map<std::string, double>& samples, std::string_view name);

}  // namespace doppel::metrics
