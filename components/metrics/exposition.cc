#include "components/metrics/exposition.h"

#include <charconv>
#include <cmath>

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
