#pragma once
// A set of metrics as Prometheus models them: families (a name, a help line, a type, label
// names) of series (label values -> a value). Counters and histograms only grow; gauges are set.
//
//   MetricSet m;
//   m.add("doppel_http_requests_total", "Requests answered.", 1,
//         {{"route", "/ping"}, {"code", "200"}});
//   m.observe("doppel_http_request_duration_seconds", "Time to answer.", kLatencyBuckets, 0.002,
//             {{"route", "/ping"}});
//   std::string text = render(m);  // exposition.h
//
// A set belongs to one core (no locks): a server keeps one per core and merges copies of them
// when scraped, so counters and histograms add up, and gauges add up too (each core's
// connections, items, bytes: the node's are the sum).
//
// Names and label names that Prometheus would refuse are bugs (asserted); label values are
// anything (escaped when rendered). Series are bounded per family: past kSeriesMax a new
// label combination is dropped and counted in doppel_metrics_series_dropped_total.

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace doppel::metrics {

enum class Kind : std::uint8_t { counter, gauge, histogram };

struct Label {
  std::string_view name;
  std::string_view value;
};
using Labels = std::initializer_list<Label>;

// Upper bounds of a histogram's buckets, ascending, without +Inf (always added).
using Buckets = std::span<const double>;
// Seconds, 50 us to 10 s: a memcached request to a multi-GiB restore.
extern const std::vector<double> kLatencyBuckets;

struct Series {
  double value = 0;                   // counter or gauge
  std::vector<std::uint64_t> counts;  // histogram: per bucket (not cumulative), +Inf last
  double sum = 0;                     // histogram
  std::uint64_t count = 0;            // histogram
};

struct Family {
  std::string help;
  Kind kind = Kind::counter;
  std::vector<std::string> label_names;
  std::vector<double> bounds;                         // histogram
  std::map<std::vector<std::string>, Series> series;  // by label values, in label_names' order
};

class MetricSet {
 public:
  static constexpr std::size_t kFamiliesMax = 512;
  static constexpr std::size_t kSeriesMax = 1024;

  // A counter grows by `delta` (>= 0).
  void add(std::string_view name, std::string_view help, double delta, Labels labels = {});
  // A gauge is set to `value`.
  void set(std::string_view name, std::string_view help, double value, Labels labels = {});
  // A histogram records one observation.
  void observe(std::string_view name, std::string_view help, Buckets bounds, double value,
               Labels labels = {});

  // Adds `other` into this set: counters, gauges and histograms summed series by series.
  // A family of the same name must have the same type, labels and buckets (asserted).
  void merge(const MetricSet& other);

  const std::map<std::string, Family, std::less<>>& families() const { return families_; }
  std::uint64_t series_dropped() const { return dropped_; }
  bool empty() const { return families_.empty(); }

 private:
  Series* series(std::string_view name, std::string_view help, Kind kind, Buckets bounds,
                 Labels labels);

  std::map<std::string, Family, std::less<>> families_;
  std::uint64_t dropped_ = 0;
};

// Whether Prometheus accepts it as a metric name / a label name.
bool valid_metric_name(std::string_view name);
bool valid_label_name(std::string_view name);

}  // namespace doppel::metrics
