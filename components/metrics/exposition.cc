#include "components/metrics/exposition.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace doppel::metrics {
namespace {

std::string escape_help(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

const char* type_name(Kind k) {
  switch (k) {
    case Kind::counter:
      return "counter";
    case Kind::gauge:
      return "gauge";
    case Kind::histogram:
      return "histogram";
  }
  return "untyped";
}

// `{a="x",b="y"}` (with an extra label, for a histogram's le), or nothing without labels.
void append_labels(std::string& out, const std::vector<std::string>& names,
                   const std::vector<std::string>& values, std::string_view extra_name = {},
                   std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) return;
  out += '{';
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    out += names[i];
    out += "=\"";
    out += escape_label_value(values[i]);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!names.empty()) out += ',';
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
}

void append_sample(std::string& out, std::string_view name, std::string_view suffix,
                   const std::vector<std::string>& names, const std::vector<std::string>& values,
                   double v, std::string_view extra_name = {}, std::string_view extra_value = {}) {
  out += name;
  out += suffix;
  append_labels(out, names, values, extra_name, extra_value);
  out += ' ';
  out += format_value(v);
  out += '\n';
}

}  // namespace

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  // Shortest text that reads back as the same double; whole numbers print without ".0".
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, ec == std::errc() ? end : buf);
}

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

namespace {

// "name" or "name{a=\"x\",b=\"y\"}" up to the space before the value; the family is the name
// less a histogram's suffix when the family is declared a histogram.
std::string_view family_of(std::string_view series,
                           const std::map<std::string, Kind, std::less<>>& types) {
  const std::string_view name = series.substr(0, series.find('{'));
  if (types.count(name) != 0) return name;
  for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
    if (name.ends_with(suffix)) {
      const std::string_view base = name.substr(0, name.size() - suffix.size());
      auto it = types.find(base);
      if (it != types.end() && it->second == Kind::histogram) return base;
    }
  }
  return {};
}

}  // namespace

Result<std::map<std::string, double>> parse_samples(std::string_view text) {
  std::map<std::string, Kind, std::less<>> types;
  std::map<std::string, double> samples;
  std::size_t line_no = 0;
  auto bad = [&](const std::string& why) {
    return make_error(Errc::protocol, "metrics line " + std::to_string(line_no) + ": " + why);
  };
  while (!text.empty()) {
    ++line_no;
    const std::size_t end = text.find('\n');
    if (end == std::string_view::npos) return bad("no newline at the end");
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(end + 1);
    if (line.starts_with("# TYPE ")) {
      const std::string_view rest = line.substr(7);
      const std::size_t space = rest.find(' ');
      if (space == std::string_view::npos) return bad("TYPE without a type");
      const std::string_view name = rest.substr(0, space);
      const std::string_view type = rest.substr(space + 1);
      if (!valid_metric_name(name)) return bad("TYPE of a bad name");
      Kind kind;
      if (type == "counter") {
        kind = Kind::counter;
      } else if (type == "gauge") {
        kind = Kind::gauge;
      } else if (type == "histogram") {
        kind = Kind::histogram;
      } else {
        return bad("unknown type '" + std::string(type) + "'");
      }
      if (!types.emplace(std::string(name), kind).second) return bad("a second TYPE line");
      continue;
    }
    if (line.starts_with("#")) continue;  // HELP and comments
    const std::size_t space = line.rfind(' ');
    if (space == std::string_view::npos) return bad("a sample without a value");
    const std::string_view series = line.substr(0, space);
    const std::string value_text(line.substr(space + 1));
    if (family_of(series, types).empty()) return bad("a sample before its TYPE");
    double value = 0;
    if (value_text == "+Inf") {
      value = std::numeric_limits<double>::infinity();
    } else if (value_text == "-Inf") {
      value = -std::numeric_limits<double>::infinity();
    } else if (value_text == "NaN") {
      value = std::numeric_limits<double>::quiet_NaN();
    } else {
      const char* last = value_text.data() + value_text.size();
      auto [end, ec] = std::from_chars(value_text.data(), last, value);
      if (value_text.empty() || ec != std::errc() || end != last) {
        return bad("value '" + value_text + "'");
      }
    }
    if (!samples.emplace(std::string(series), value).second) return bad("a repeated series");
  }
  return samples;
}

double sum_of(const std::map<std::string, double>& samples, std::string_view name) {
  double total = 0;
  for (const auto& [series, value] : samples) {
    const std::string_view s = series;
    if (s == name || (s.starts_with(name) && s.size() > name.size() && s[name.size()] == '{')) {
      total += value;
    }
  }
  return total;
}

std::string render(const MetricSet& set) {
  std::string out;
  for (const auto& [name, f] : set.families()) {
    out += "# HELP " + name + " " + escape_help(f.help) + "\n";
    out += "# TYPE " + name + " " + type_name(f.kind) + "\n";
    for (const auto& [values, s] : f.series) {
      if (f.kind != Kind::histogram) {
        append_sample(out, name, "", f.label_names, values, s.value);
        continue;
      }
      std::uint64_t cumulative = 0;
      for (std::size_t b = 0; b < s.counts.size(); ++b) {
        cumulative += s.counts[b];
        const std::string le = b < f.bounds.size() ? format_value(f.bounds[b]) : "+Inf";
        append_sample(out, name, "_bucket", f.label_names, values, static_cast<double>(cumulative),
                      "le", le);
      }
      append_sample(out, name, "_sum", f.label_names, values, s.sum);
      append_sample(out, name, "_count", f.label_names, values, static_cast<double>(s.count));
    }
  }
  out +=
      "# HELP doppel_metrics_series_dropped_total Label combinations dropped past the limit "
      "per metric.\n# TYPE doppel_metrics_series_dropped_total counter\n"
      "doppel_metrics_series_dropped_total " +
      format_value(static_cast<double>(set.series_dropped())) + "\n";
  return out;
}

}  // namespace doppel::metrics
