#include "scenarios/swarm_record.h"

#include <algorithm>
#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <set>

namespace doppel::scenarios {
namespace {

constexpr std::string_view kMagic = "doppel-swarm-summary 1";
constexpr std::size_t kScenarioBytesMax = 1u << 20;

std::string flat(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\t' || c == '\r') c = ' ';
  }
  return s;
}

bool parse_u64(std::string_view s, std::uint64_t& out) {
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (;;) {
    const auto at = s.find(sep);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return out;
    s.remove_prefix(at + 1);
  }
}

}  // namespace

void sort_failures(std::vector<SwarmFailure>& failures, const std::vector<std::string>& scenarios) {
  auto place = [&](const std::string& name) {
    return std::find(scenarios.begin(), scenarios.end(), name) - scenarios.begin();
  };
  std::stable_sort(failures.begin(), failures.end(),
                   [&](const SwarmFailure& a, const SwarmFailure& b) {
                     if (a.seed != b.seed) return a.seed < b.seed;
                     return place(a.scenario) < place(b.scenario);
                   });
}

std::string encode_swarm_record(const SwarmRecord& r) {
  std::string out(kMagic);
  out += "\n";
  for (const auto& s : r.scenarios) {
    out += "scenario " + std::to_string(s.text.size()) + " " + flat(s.path) + "\n" + s.text + "\n";
  }
  out += "seeds " + std::to_string(r.seed_begin) + " " + std::to_string(r.seed_end) + "\n";
  out += "shard_count " + std::to_string(r.shard_count) + "\n";
  for (const std::uint32_t i : r.shards) out += "shard " + std::to_string(i) + "\n";
  const SwarmSummary& s = r.summary;
  char wall[64];
  std::snprintf(wall, sizeof wall, "%.3f", s.wall_seconds);
  out += "runs " + std::to_string(s.runs) + "\nevents " + std::to_string(s.events) +
         "\nsimulated_ns " + std::to_string(s.simulated_ns) + "\nwall_seconds " + wall +
         "\nstopped_early " + (s.stopped_early ? "1" : "0") + "\ntimed_out " +
         (s.timed_out ? "1" : "0") + "\n";
  for (const SwarmFailure& f : s.failures) {
    out += "failure " + flat(f.scenario) + "\t" + std::to_string(f.seed) + "\t" + flat(f.property) +
           "\t" + flat(f.detail) + "\t" + flat(f.trace_path) + "\n";
  }
  for (const auto& [probe, n] : s.coverage.probes()) {
    out += "probe " + std::to_string(n) + " " + flat(probe) + "\n";
  }
  out += "end\n";
  return out;
}

Result<SwarmRecord> decode_swarm_record(std::string_view text, std::string_view source) {
  SwarmRecord r;
  std::size_t line_no = 0;
  auto bad = [&](const std::string& why) {
    return make_error(Errc::corrupt,
                      std::string(source) + ":" + std::to_string(line_no) + ": " + why);
  };
  auto next_line = [&](std::string_view& line) {
    const auto nl = text.find('\n');
    if (nl == std::string_view::npos) return false;
    line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    ++line_no;
    return true;
  };
  std::string_view line;
  if (!next_line(line) || line != kMagic) return bad("not a swarm summary");
  bool ended = false;
  while (!ended && next_line(line)) {
    const auto space = line.find(' ');
    const std::string_view key = line.substr(0, space);
    const std::string_view rest =
        space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
    std::uint64_t n = 0;
    if (key == "scenario") {
      const auto sp = rest.find(' ');
      if (sp == std::string_view::npos || !parse_u64(rest.substr(0, sp), n) ||
          n > kScenarioBytesMax || n + 1 > text.size() || text[n] != '\n') {
        return bad("a scenario's length does not match its text");
      }
      r.scenarios.push_back({std::string(rest.substr(sp + 1)), std::string(text.substr(0, n))});
      for (const char c : text.substr(0, n)) line_no += c == '\n';
      text.remove_prefix(n + 1);
      ++line_no;
    } else if (key == "seeds") {
      const auto parts = split(rest, ' ');
      if (parts.size() != 2 || !parse_u64(parts[0], r.seed_begin) ||
          !parse_u64(parts[1], r.seed_end) || r.seed_end < r.seed_begin) {
        return bad("expected 'seeds A B' with A <= B");
      }
    } else if (key == "shard_count" || key == "shard") {
      if (!parse_u64(rest, n) || n > (1u << 20)) return bad("expected a shard number");
      if (key == "shard") {
        r.shards.push_back(static_cast<std::uint32_t>(n));
      } else {
        r.shard_count = static_cast<std::uint32_t>(n);
      }
    } else if (key == "runs" || key == "events" || key == "simulated_ns" ||
               key == "stopped_early" || key == "timed_out") {
      if (!parse_u64(rest, n)) return bad("expected a number after '" + std::string(key) + "'");
      if (key == "runs") r.summary.runs = n;
      if (key == "events") r.summary.events = n;
      if (key == "simulated_ns") r.summary.simulated_ns = static_cast<std::int64_t>(n);
      if (key == "stopped_early") r.summary.stopped_early = n != 0;
      if (key == "timed_out") r.summary.timed_out = n != 0;
    } else if (key == "wall_seconds") {
      r.summary.wall_seconds = std::strtod(std::string(rest).c_str(), nullptr);
    } else if (key == "failure") {
      const auto f = split(rest, '\t');
      if (f.size() != 5 || !parse_u64(f[1], n))
        return bad("a failure needs 5 tab-separated fields");
      r.summary.failures.push_back(
          {std::string(f[0]), n, std::string(f[2]), std::string(f[3]), std::string(f[4])});
    } else if (key == "probe") {
      const auto sp = rest.find(' ');
      if (sp == std::string_view::npos || !parse_u64(rest.substr(0, sp), n)) {
        return bad("expected 'probe COUNT NAME'");
      }
      r.summary.coverage.hit(rest.substr(sp + 1), n);
    } else if (key == "end") {
      ended = true;
    } else {
      return bad("unknown line '" + std::string(key) + "'");
    }
  }
  if (!ended) return bad("truncated: no 'end' line (was the swarm stopped while writing it?)");
  if (r.scenarios.empty()) return bad("no scenario");
  if (r.shard_count == 0) return bad("shard_count 0");
  for (const std::uint32_t i : r.shards) {
    if (i >= r.shard_count)
      return bad("shard " + std::to_string(i) + " of " + std::to_string(r.shard_count));
  }
  return r;
}

Result<SwarmRecord> merge_swarm_records(const std::vector<SwarmRecord>& records) {
  if (records.empty()) return make_error(Errc::invalid_argument, "nothing to merge");
  SwarmRecord out;
  const SwarmRecord& first = records.front();
  out.scenarios = first.scenarios;
  out.seed_begin = first.seed_begin;
  out.seed_end = first.seed_end;
  out.shard_count = first.shard_count;
  std::set<std::uint32_t> shards;
  for (const SwarmRecord& r : records) {
    if (r.scenarios != first.scenarios) {
      return make_error(Errc::invalid_argument, "the shards ran different scenario files");
    }
    if (r.seed_begin != first.seed_begin || r.seed_end != first.seed_end ||
        r.shard_count != first.shard_count) {
      return make_error(Errc::invalid_argument,
                        "the shards ran different seed ranges or shard counts");
    }
    for (const std::uint32_t i : r.shards) {
      if (!shards.insert(i).second) {
        return make_error(Errc::invalid_argument,
                          "shard " + std::to_string(i) + " is in the merge twice");
      }
    }
    SwarmSummary& s = out.summary;
    s.runs += r.summary.runs;
    s.events += r.summary.events;
    s.simulated_ns += r.summary.simulated_ns;
    s.wall_seconds = std::max(s.wall_seconds, r.summary.wall_seconds);
    s.stopped_early = s.stopped_early || r.summary.stopped_early;
    s.timed_out = s.timed_out || r.summary.timed_out;
    s.failures.insert(s.failures.end(), r.summary.failures.begin(), r.summary.failures.end());
    s.coverage.merge(r.summary.coverage);
  }
  for (std::uint32_t i = 0; i < out.shard_count; ++i) {
    if (!shards.count(i)) {
      return make_error(
          Errc::invalid_argument,
          "shard " + std::to_string(i) + " of " + std::to_string(out.shard_count) + " is missing");
    }
  }
  out.shards.assign(shards.begin(), shards.end());
  return out;
}

}  // namespace doppel::scenarios
