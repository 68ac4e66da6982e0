// components/metrics: what a scrape reads. The text is compared byte for byte with what
// Prometheus's exposition format (0.0.4) specifies: HELP and TYPE lines, labels in their
// declared order, escaped values, cumulative histogram buckets ending in +Inf, _sum and _count.

#include "components/metrics/metric_set.h"

#include <catch2/catch.hpp>
#include <limits>
#include <string>
#include <vector>

#include "components/metrics/exposition.h"

using namespace doppel::metrics;

namespace {

const std::string kDroppedFooter =
    "# HELP doppel_metrics_series_dropped_total Label combinations dropped past the limit per "
    "metric.\n# TYPE doppel_metrics_series_dropped_total counter\n"
    "doppel_metrics_series_dropped_total 0\n";

}  // namespace

TEST_CASE("metrics: counters and gauges render with HELP, TYPE and labels in declared order") {
  MetricSet m;
  m.add("b_requests_total", "Requests.", 2, {{"route", "/x"}, {"code", "200"}});
  m.add("b_requests_total", "Requests.", 1, {{"route", "/x"}, {"code", "200"}});
  m.add("b_requests_total", "Requests.", 1, {{"route", "/a"}, {"code", "404"}});
  m.set("a_open", "Open now.", 5);
  m.set("a_open", "Open now.", 3);  // a gauge is set, not added
  CHECK(render(m) ==
        "# HELP a_open Open now.\n# TYPE a_open gauge\na_open 3\n"
        "# HELP b_requests_total Requests.\n# TYPE b_requests_total counter\n"
        "b_requests_total{route=\"/a\",code=\"404\"} 1\n"
        "b_requests_total{route=\"/x\",code=\"200\"} 3\n" +
            kDroppedFooter);
}

TEST_CASE(
    "metrics: a histogram's buckets are cumulative, end in +Inf, and an observation on a "
    "bound counts in that bound's bucket") {
  MetricSet m;
  const std::vector<double> bounds = {0.5, 1, 2};
  for (double v : {0.25, 0.5, 1.5, 7.0}) m.observe("t_seconds", "Time.", bounds, v);
  CHECK(render(m) ==
        "# HELP t_seconds Time.\n# TYPE t_seconds histogram\n"
        "t_seconds_bucket{le=\"0.5\"} 2\nt_seconds_bucket{le=\"1\"} 2\n"
        "t_seconds_bucket{le=\"2\"} 3\nt_seconds_bucket{le=\"+Inf\"} 4\n"
        "t_seconds_sum 9.25\nt_seconds_count 4\n" +
            kDroppedFooter);
}

TEST_CASE("metrics: label values and help text are escaped as the format requires") {
  MetricSet m;
  m.add("x_total", "Line one\nback\\slash", 1, {{"key", "a\"b\\c\nd"}});
  const std::string text = render(m);
  CHECK(text.find("# HELP x_total Line one\\nback\\\\slash\n") != std::string::npos);
  CHECK(text.find("x_total{key=\"a\\\"b\\\\c\\nd\"} 1\n") != std::string::npos);
}

TEST_CASE(
    "metrics: merging sums counters, gauges and histograms series by series and keeps "
    "series only one side has") {
  const std::vector<double> bounds = {1};
  MetricSet core0, core1;
  core0.add("r_total", "R.", 2, {{"core", "0"}});
  core0.add("s_total", "S.", 1);
  core1.add("s_total", "S.", 4);
  core0.set("conns", "C.", 3);
  core1.set("conns", "C.", 4);
  core0.observe("h", "H.", bounds, 0.5);
  core1.observe("h", "H.", bounds, 2);
  core0.merge(core1);
  const std::string text = render(core0);
  CHECK(text.find("r_total{core=\"0\"} 2\n") != std::string::npos);
  CHECK(text.find("s_total 5\n") != std::string::npos);
  CHECK(text.find("conns 7\n") != std::string::npos);
  CHECK(text.find("h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 2.5\nh_count 2\n") !=
        std::string::npos);
}

TEST_CASE("metrics: past the series limit a new label combination is dropped and counted") {
  MetricSet m;
  for (std::size_t i = 0; i < MetricSet::kSeriesMax + 5; ++i) {
    m.add("k_total", "K.", 1, {{"key", std::to_string(i)}});
  }
  CHECK(m.families().at("k_total").series.size() == MetricSet::kSeriesMax);
  CHECK(m.series_dropped() == 5);
  CHECK(render(m).find("doppel_metrics_series_dropped_total 5\n") != std::string::npos);
}

TEST_CASE("metrics: names are checked as Prometheus checks them") {
  CHECK(valid_metric_name("doppel_http_requests_total"));
  CHECK(valid_metric_name("ns:rule_name"));
  CHECK_FALSE(valid_metric_name("9lives"));
  CHECK_FALSE(valid_metric_name("has-dash"));
  CHECK_FALSE(valid_metric_name(""));
  CHECK(valid_label_name("route"));
  CHECK_FALSE(valid_label_name("le"));
  CHECK_FALSE(valid_label_name("__name__"));
  CHECK_FALSE(valid_label_name("a:b"));
}

TEST_CASE("metrics: values print as Prometheus reads them") {
  CHECK(format_value(3) == "3");
  CHECK(format_value(0.25) == "0.25");
  CHECK(format_value(1e21) == "1e+21");
  CHECK(format_value(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(format_value(-std::numeric_limits<double>::infinity()) == "-Inf");
}

TEST_CASE(
    "metrics: a rendered page reads back sample by sample, and a malformed one is refused "
    "naming its line") {
  MetricSet m;
  m.add("r_total", "R.", 2, {{"code", "200"}});
  m.add("r_total", "R.", 3, {{"code", "404"}});
  m.observe("t_seconds", "T.", std::vector<double>{1}, 0.5);
  auto samples = parse_samples(render(m));
  REQUIRE(samples.ok());
  CHECK(samples->at("r_total{code=\"404\"}") == 3);
  CHECK(sum_of(*samples, "r_total") == 5);
  CHECK(samples->at("t_seconds_bucket{le=\"+Inf\"}") == 1);
  CHECK(sum_of(*samples, "t_seconds_count") == 1);
  CHECK(sum_of(*samples, "r") == 0);  // a prefix of a name is not the name

  auto refused = [](std::string_view page) {
    auto r = parse_samples(page);
    return r.ok() ? std::string("accepted") : r.error().what;
  };
  CHECK(refused("x 1\n") == "metrics line 1: a sample before its TYPE");
  CHECK(refused("# TYPE x counter\nx one\n") == "metrics line 2: value 'one'");
  CHECK(refused("# TYPE x counter\nx 1\nx 2\n") == "metrics line 3: a repeated series");
  CHECK(refused("# TYPE x summary\n") == "metrics line 1: unknown type 'summary'");
  CHECK(refused("# TYPE x counter\nx 1") == "metrics line 2: no newline at the end");
}
