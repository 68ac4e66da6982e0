#include "cli/kv_load.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "runtime/real/real_runtime.h"
#include "runtime/sync.h"

namespace doppel::cli {
namespace {

using namespace std::chrono_literals;

// Reads one memcached reply: a line, plus a VALUE's data block and END.
class ReplyReader {
 public:
  explicit ReplyReader(Stream& s) : s_(s) {}

  // "STORED", "END" (a miss), "VALUE" (a hit, data skipped), or "" on error.
  std::string next(Instant deadline) {
    std::string line;
    if (!read_line(line, deadline)) return {};
    if (line.rfind("VALUE ", 0) != 0) return line;
    const auto last_space = line.rfind(' ');
    const std::size_t bytes = std::strtoull(line.c_str() + last_space + 1, nullptr, 10);
    if (!skip(bytes + 2, deadline)) return {};
    std::string end;
    if (!read_line(end, deadline) || end != "END") return {};
    return "VALUE";
  }

 private:
  bool fill(Instant deadline) {
    if (start_ > 0 && start_ == buf_.size()) {
      buf_.clear();
      start_ = 0;
    }
    char tmp[16384];
    auto n = s_.read(tmp, deadline);
    if (!n || *n == 0) return false;
    buf_.append(tmp, *n);
    return true;
  }
  bool read_line(std::string& out, Instant deadline) {
    for (;;) {
      const auto nl = buf_.find("\r\n", start_);
      if (nl != std::string::npos) {
        out.assign(buf_, start_, nl - start_);
        start_ = nl + 2;
        return true;
      }
      if (!fill(deadline)) return false;
    }
  }
  bool skip(std::size_t n, Instant deadline) {
    while (buf_.size() - start_ < n) {
      if (!fill(deadline)) return false;
    }
    start_ += n;
    return true;
  }
  Stream& s_;
  std::string buf_;
  std::size_t start_ = 0;
};

}  // namespace

std::string key_name(std::uint64_t index, std::size_t key_bytes) {
  char digits[32];
  std::snprintf(digits, sizeof digits, "%llu", static_cast<unsigned long long>(index));
  std::string key = "key:";
  key.append(key_bytes > 4 + std::strlen(digits) ? key_bytes - 4 - std::strlen(digits) : 0, '0');
  key += digits;
  return key;
}

std::int64_t LoadResult::percentile_ns(double p) const {
  if (latencies_ns.empty()) return 0;
  const auto i = std::min(latencies_ns.size() - 1,
                          static_cast<std::size_t>(p * static_cast<double>(latencies_ns.size())));
  return latencies_ns[i];
}

LoadResult run_load(const LoadSpec& spec) {
  LoadResult result;
  real::RealRuntime rt(real::RealOptions{1, false, "epoll", "/tmp", false});
  if (!rt.start()) return result;
  rt.run_blocking(0, [&] {
    int finished = 0;
    Condition all_done(rt);
    const Instant start = rt.now();
    const Instant end = start + spec.duration;
    const std::string value(spec.value_bytes, 'v');
    std::vector<std::vector<std::int64_t>> per_connection(static_cast<std::size_t>(spec.connections));
    for (int c = 0; c < spec.connections; ++c) {
      rt.spawn("load", [&, c] {
        Prng rng(spec.seed * 1000 + static_cast<std::uint64_t>(c));
        auto& lat = per_connection[static_cast<std::size_t>(c)];
        auto s = rt.net().connect(spec.server, 2s);
        if (s) {
          ReplyReader reader(**s);
          const Duration interval = spec.open_loop_rate > 0
                                        ? Duration(static_cast<std::int64_t>(1e9 * spec.connections / spec.open_loop_rate))
                                        : Duration(0);
          Instant due = start;
          std::string request;
          while (rt.now() < end) {
            if (interval.count() > 0) {
              due += interval;
              if (due > rt.now()) rt.sleep(due - rt.now());
            } else {
              due = rt.now();
            }
            const std::string key = key_name(rng.below(spec.keys), spec.key_bytes);
            const bool set = static_cast<int>(rng.below(100)) < spec.set_percent;
            request.clear();
            if (set) {
              request += "set " + key + " 0 0 " + std::to_string(value.size()) + "\r\n";
              request += value;
              request += "\r\n";
            } else {
              request += "get " + key + "\r\n";
            }
            if (!(*s)->write(request)) break;
            const std::string reply = reader.next(rt.now() + 5s);
            if (reply.empty()) break;
            if (set ? reply != "STORED" : (reply != "VALUE" && reply != "END")) ++result.errors;
            if (!set && reply == "END") ++result.misses;
            lat.push_back((rt.now() - due).count());
          }
        } else {
          ++result.errors;
        }
        ++finished;
        all_done.notify_all();
      });
    }
    while (finished < spec.connections) all_done.wait(rt.now() + 60s);
    result.seconds = static_cast<double>((rt.now() - start).count()) / 1e9;
    for (auto& v : per_connection) {
      result.ops += v.size();
      result.latencies_ns.insert(result.latencies_ns.end(), v.begin(), v.end());
    }
  });
  rt.stop();
  std::sort(result.latencies_ns.begin(), result.latencies_ns.end());
  return result;
}

bool preload(const LoadSpec& spec, std::uint64_t count) {
  bool ok = true;
  real::RealRuntime rt(real::RealOptions{1, false, "epoll", "/tmp", false});
  if (!rt.start()) return false;
  rt.run_blocking(0, [&] {
    int finished = 0;
    Condition all_done(rt);
    const std::string value(spec.value_bytes, 'v');
    const int conns = std::max(1, spec.connections);
    for (int c = 0; c < conns; ++c) {
      rt.spawn("preload", [&, c] {
        auto s = rt.net().connect(spec.server, 2s);
        if (!s) {
          ok = false;
        } else {
          ReplyReader reader(**s);
          constexpr std::uint64_t kBatch = 64;  // pipelined requests per round trip
          std::string batch;
          for (std::uint64_t first = static_cast<std::uint64_t>(c) * kBatch; first < count && ok;
               first += kBatch * static_cast<std::uint64_t>(conns)) {
            batch.clear();
            const std::uint64_t last = std::min(count, first + kBatch);
            for (std::uint64_t k = first; k < last; ++k) {
              batch += "set " + key_name(k, spec.key_bytes) + " 0 0 " + std::to_string(value.size()) + "\r\n";
              batch += value;
              batch += "\r\n";
            }
            if (!(*s)->write(batch)) ok = false;
            for (std::uint64_t k = first; k < last && ok; ++k) {
              if (reader.next(rt.now() + 10s) != "STORED") ok = false;
            }
          }
        }
        ++finished;
        all_done.notify_all();
      });
    }
    while (finished < conns) all_done.wait(rt.now() + 600s);
  });
  rt.stop();
  return ok;
}

}  // namespace doppel::cli
