#include "components/metrics/metric_set.h"

#include <algorithm>

#include "runtime/assert.h"

namespace doppel::metrics {

const std::vector<double> kLatencyBuckets = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                             0.005,   0.01,   0.025,   0.05,   0.1,   0.25,
                                             0.5,     1,      2.5,     5,      10};

namespace {

bool name_char(char c, bool first, bool colon_ok) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  if (colon_ok && c == ':') return true;
  return !first && c >= '0' && c <= '9';
}

bool valid_name(std::string_view name, bool colon_ok) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!name_char(name[i], i == 0, colon_ok)) return false;
  }
  return true;
}

}  // namespace

bool valid_metric_name(std::string_view name) {
  return valid_name(name, true);
}

bool valid_label_name(std::string_view name) {
  // "le" is the histogram's own; names starting "__" are Prometheus's.
  return valid_name(name, false) && !name.starts_with("__") && name != "le";
}

Series* MetricSet::series(std::string_view name, std::string_view help, Kind kind, Buckets bounds,
                          Labels labels) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    DOPPEL_ASSERT_MSG(valid_metric_name(name), "metric name Prometheus would refuse");
    DOPPEL_ASSERT_MSG(families_.size() < kFamiliesMax, "too many metric families");
    DOPPEL_ASSERT_MSG(std::is_sorted(bounds.begin(), bounds.end()) &&
                          std::adjacent_find(bounds.begin(), bounds.end()) == bounds.end(),
                      "histogram buckets must ascend");
    Family f;
    f.help.assign(help);
    f.kind = kind;
    for (const Label& l : labels) {
      DOPPEL_ASSERT_MSG(valid_label_name(l.name), "label name Prometheus would refuse");
      f.label_names.emplace_back(l.name);
    }
    f.bounds.assign(bounds.begin(), bounds.end());
    it = families_.emplace(std::string(name), std::move(f)).first;
  }
  Family& f = it->second;
  DOPPEL_ASSERT_MSG(f.kind == kind, "one metric name used as two types");
  DOPPEL_ASSERT_MSG(f.label_names.size() == labels.size(), "a metric's labels changed");
  std::vector<std::string> values;
  values.reserve(labels.size());
  std::size_t i = 0;
  for (const Label& l : labels) {
    DOPPEL_ASSERT_MSG(f.label_names[i++] == l.name, "a metric's labels changed");
    values.emplace_back(l.value);
  }
  auto s = f.series.find(values);
  if (s != f.series.end()) return &s->second;
  if (f.series.size() >= kSeriesMax) {
    ++dropped_;
    return nullptr;
  }
  Series fresh;
  if (kind == Kind::histogram) fresh.counts.assign(f.bounds.size() + 1, 0);
  return &f.series.emplace(std::move(values), std::move(fresh)).first->second;
}

void MetricSet::add(std::string_view name, std::string_view help, double delta, Labels labels) {
  DOPPEL_ASSERT_MSG(delta >= 0, "a counter never goes down");
  if (Series* s = series(name, help, Kind::counter, {}, labels)) s->value += delta;
}

void MetricSet::set(std::string_view name, std::string_view help, double value, Labels labels) {
  if (Series* s = series(name, help, Kind::gauge, {}, labels)) s->value = value;
}

void MetricSet::observe(std::string_view name, std::string_view help, Buckets bounds, double value,
                        Labels labels) {
  Series* s = series(name, help, Kind::histogram, bounds, labels);
  if (s == nullptr) return;
  const std::vector<double>& b = families_.find(name)->second.bounds;
  const auto bucket = std::lower_bound(b.begin(), b.end(), value) - b.begin();  // le: <=
  ++s->counts[static_cast<std::size_t>(bucket)];
  s->sum += value;
  ++s->count;
}

void MetricSet::merge(const MetricSet& other) {
  dropped_ += other.dropped_;
  for (const auto& [name, theirs] : other.families_) {
    auto it = families_.find(name);
    if (it == families_.end()) {
      DOPPEL_ASSERT_MSG(families_.size() < kFamiliesMax, "too many metric families");
      families_.emplace(name, theirs);
      continue;
    }
    Family& mine = it->second;
    DOPPEL_ASSERT_MSG(mine.kind == theirs.kind && mine.label_names == theirs.label_names &&
                          mine.bounds == theirs.bounds,
                      "merging two different metrics of one name");
    for (const auto& [values, s] : theirs.series) {
      auto m = mine.series.find(values);
      if (m == mine.series.end()) {
        if (mine.series.size() >= kSeriesMax) {
          ++dropped_;
          continue;
        }
        mine.series.emplace(values, s);
        continue;
      }
      m->second.value += s.value;
      for (std::size_t b = 0; b < s.counts.size(); ++b) m->second.counts[b] += s.counts[b];
      m->second.sum += s.sum;
      m->second.count += s.count;
    }
  }
}

}  // namespace doppel::metrics
