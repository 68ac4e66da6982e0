#include "cli/kv_load.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "components/kv/client/memcached_client.h"
#include "components/kv/server/ownership.h"
#include "runtime/real/real_runtime.h"
#include "runtime/sync.h"

namespace doppel::cli {
namespace {

using namespace std::chrono_literals;

// Reads ask for this much: a bench's pipelined replies come in large pieces.
constexpr std::size_t kReadBytes = 16384;

// One load connection's sockets: to the server, or to each routed endpoint in order.
struct Sockets {
  std::vector<std::unique_ptr<Stream>> streams;
  std::vector<std::unique_ptr<kv::McReader>> readers;
};

Sockets connect_all(Runtime& rt, const LoadSpec& spec) {
  Sockets out;
  const std::vector<Endpoint> to = spec.routed.empty() ? std::vector{spec.server} : spec.routed;
  for (const Endpoint& at : to) {
    auto s = rt.net().connect(at, 2s);
    if (!s) return {};
    out.streams.push_back(std::move(*s));
    out.readers.push_back(std::make_unique<kv::McReader>(*out.streams.back(), kReadBytes));
  }
  return out;
}

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
    std::vector<std::vector<std::int64_t>> per_connection(
        static_cast<std::size_t>(spec.connections));
    for (int c = 0; c < spec.connections; ++c) {
      rt.spawn("load", [&, c] {
        Prng rng(spec.seed * 1000 + static_cast<std::uint64_t>(c));
        auto& lat = per_connection[static_cast<std::size_t>(c)];
        Sockets sockets = connect_all(rt, spec);
        if (!sockets.streams.empty()) {
          const Duration interval = spec.open_loop_rate > 0
                                        ? Duration(static_cast<std::int64_t>(
                                              1e9 * spec.connections / spec.open_loop_rate))
                                        : Duration(0);
          Instant due = start;
          std::string request;
          const kv::Request set_request = kv::store_request(kv::Verb::set, "", value);
          while (rt.now() < end) {
            if (interval.count() > 0) {
              due += interval;
              if (due > rt.now()) rt.sleep(due - rt.now());
            } else {
              due = rt.now();
            }
            const std::string key = key_name(rng.below(spec.keys), spec.key_bytes);
            const bool set = static_cast<int>(rng.below(100)) < spec.set_percent;
            kv::Request r = set ? set_request : kv::get_request(key);
            if (set) r.keys.assign(1, key);
            request.clear();
            kv::encode_to(r, request);
            const std::size_t to = sockets.streams.size() == 1
                                       ? 0
                                       : kv::libmemcached_murmur3(key) % sockets.streams.size();
            if (!sockets.streams[to]->write(request)) break;
            const auto reply = sockets.readers[to]->next(r, rt.now() + 5s);
            if (!reply && reply.code() != Errc::invalid_argument && reply.code() != Errc::io_error)
              break;
            if (!reply || (set && reply->word != "STORED")) ++result.errors;
            if (reply && !set && !reply->hit()) ++result.misses;
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

std::optional<std::uint64_t> read_stat(const Endpoint& server, const std::string& group,
                                       std::string_view name) {
  std::optional<std::uint64_t> out;
  real::RealRuntime rt(real::RealOptions{1, false, "epoll", "/tmp", false});
  if (!rt.start()) return out;
  rt.run_blocking(0, [&] {
    auto s = rt.net().connect(server, 2s);
    if (!s) return;
    kv::Request r;
    r.verb = kv::Verb::stats;
    r.stats_group = group;
    auto reply = kv::McConnection(**s).call(r, rt.now() + 5s);
    if (reply) out = kv::McConnection::stat(*reply, name);
  });
  rt.stop();
  return out;
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
          kv::McReader reader(**s, kReadBytes);
          constexpr std::uint64_t kBatch = 64;  // pipelined requests per round trip
          std::string batch;
          for (std::uint64_t first = static_cast<std::uint64_t>(c) * kBatch; first < count && ok;
               first += kBatch * static_cast<std::uint64_t>(conns)) {
            batch.clear();
            const std::uint64_t last = std::min(count, first + kBatch);
            const kv::Request set = kv::store_request(kv::Verb::set, "", value);
            for (std::uint64_t k = first; k < last; ++k) {
              kv::Request r = set;
              r.keys.assign(1, key_name(k, spec.key_bytes));
              kv::encode_to(r, batch);
            }
            if (!(*s)->write(batch)) ok = false;
            for (std::uint64_t k = first; k < last && ok; ++k) {
              auto reply = reader.next(set, rt.now() + 10s);
              if (!reply || reply->word != "STORED") ok = false;
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
