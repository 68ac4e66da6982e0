#include "cli/dvv_load.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <memory>
#include <optional>
#include <set>

#include "components/dvv/client/riak_client.h"
#include "components/http/codec.h"
#include "properties/dvv/causal_history.h"
#include "runtime/assert.h"
#include "runtime/sync.h"

namespace doppel::cli {
namespace {

using namespace std::chrono_literals;

// A search of the causal history walks at most this many values (a hot key's history at
// the paper's load is deep; a capped search is counted, not guessed).
constexpr std::size_t kAncestryVisitsMax = 1u << 16;

using properties::dvv::CausalHistory;

// What one read returned.
struct Read {
  bool ok = false;
  std::vector<std::uint64_t> ids;  // the values' ids, one per sibling
  std::string vclock;              // base64, as sent
};

// A value: "v<id>;" padded to the workload's size.
std::string make_value(std::uint64_t id, std::size_t bytes) {
  std::string v = "v" + std::to_string(id) + ";";
  if (v.size() < bytes) v.append(bytes - v.size(), 'x');
  return v;
}

std::uint64_t value_id(std::string_view body) {
  std::uint64_t id = 0;
  if (body.size() < 2 || body[0] != 'v') return 0;
  auto [p, ec] = std::from_chars(body.data() + 1, body.data() + body.size(), id);
  return ec == std::errc() && p != body.data() + body.size() && *p == ';' ? id : 0;
}

// Basho Bench's {pareto_int, MaxKey} (basho_bench_keygen.erl):
//   Mean = trunc(MaxKey * 0.2), S2 = Mean * (Shape - 1), Shape = 1.5,
//   key = trunc(((1 - uniform()) ^ (-1 / Shape) - 1) * S2)
// which is pareto(scale S2, shape 1.5) - S2. Not truncated at MaxKey; capped
// far beyond it only to keep keys finite.
class KeyGen {
 public:
  static constexpr std::uint64_t kTailFactorMax = 1000;

  KeyGen(const std::string& kind, std::uint64_t keys)
      : pareto_(kind == "pareto"), keys_(keys), hot_(keys, 0.2, 0.8) {
    DOPPEL_ASSERT(kind == "pareto" || kind == "hotset");
  }
  std::uint64_t operator()(Prng& rng) const {
    if (!pareto_) return hot_(rng);
    const double s2 = std::floor(static_cast<double>(keys_) * 0.2) * 0.5;
    if (s2 <= 0) return 0;
    const double x = std::floor(pareto(rng, s2, 1.5) - s2);
    const double cap = static_cast<double>(keys_) * kTailFactorMax;
    return static_cast<std::uint64_t>(std::clamp(x, 0.0, cap));
  }

 private:
  bool pareto_;
  std::uint64_t keys_;
  HotSet hot_;
};

class Bench {
 public:
  Bench(Runtime& rt, const DvvLoadSpec& spec, std::uint32_t nodes, const NodeEndpoint& endpoint)
      : rt_(rt),
        spec_(spec),
        nodes_(nodes),
        endpoint_(endpoint),
        keys_(spec.keygen, spec.keys),
        history_(kAncestryVisitsMax) {}

  DvvLoadResult run() {
    if (std::string why = set_props(); !why.empty()) {
      out_.setup_error = why;
      return std::move(out_);
    }
    const Instant start = rt_.now();
    end_ = start + spec_.duration;
    int running = spec_.clients;
    Condition done(rt_);
    for (int c = 0; c < spec_.clients; ++c) {
      rt_.spawn("dvv-bench-client", [this, c, &running, &done] {
        client_loop(c);
        --running;
        done.notify_all();
      });
    }
    while (running > 0) done.wait();
    out_.seconds = static_cast<double>((rt_.now() - start).count()) / 1e9;
    for (OpLatencies* l : {&out_.get, &out_.put, &out_.upd}) std::sort(l->ns.begin(), l->ns.end());
    return std::move(out_);
  }

 private:
  Instant deadline() { return rt_.now() + spec_.request_timeout; }

  // Through node 0; props spread by push and gossip, so wait until every
  // node has them (the first write must meet the right clock kind).
  std::string set_props() {
    dvv::BucketPropsUpdate props;
    props.n_val = spec_.n_val;
    props.allow_mult = true;
    props.clock = spec_.clock;
    const Instant give_up = rt_.now() + 60s;
    std::string last;
    dvv::RiakClient first(rt_, endpoint_(0));
    for (;;) {
      auto r = first.set_props(spec_.bucket, props, deadline());
      if (r && *r == 204) break;
      last = r ? "status " + std::to_string(*r) : r.error().message();
      if (rt_.now() > give_up) return "setting the bucket props through node 0: " + last;
      rt_.sleep(200ms);
    }
    for (std::uint32_t n = 0; n < nodes_; ++n) {
      dvv::RiakClient c(rt_, endpoint_(n));
      for (;;) {
        auto r = c.props(spec_.bucket, deadline());
        if (r && r->status == 200 &&
            r->body.find("\"clock\":\"" + spec_.clock + "\"") != std::string::npos)
          break;
        last = r ? "status " + std::to_string(r->status) + " " + r->body : r.error().message();
        if (rt_.now() > give_up)
          return "node " + std::to_string(n) + " never got the bucket props: " + last;
        rt_.sleep(200ms);
      }
    }
    return {};
  }

  void client_loop(int c) {
    Prng rng = Prng(spec_.seed).fork(static_cast<std::uint64_t>(c) + 1);
    dvv::RiakClient http(rt_, endpoint_(static_cast<std::uint32_t>(c) % nodes_));
    const std::string client_id = "client-" + std::to_string(c);
    // Basho Bench's workers start together; spread the first requests over
    // one mean pause so they do not all land in the same instant.
    if (spec_.rate_per_client > 0) pause(rng);
    while (rt_.now() < end_) {
      const std::uint64_t key = keys_(rng);
      const auto roll = static_cast<int>(rng.below(100));
      if (roll < spec_.workload.get_percent) {
        const Instant t0 = rt_.now();
        Read r = read(http, key);
        record(out_.get, r.ok, t0);
      } else if (roll < spec_.workload.get_percent + spec_.workload.put_percent) {
        const Instant t0 = rt_.now();
        const bool ok = write(http, client_id, key, {}, {});
        record(out_.put, ok, t0);
      } else {
        update(http, client_id, key);
      }
      if (spec_.rate_per_client > 0 && rt_.now() < end_) pause(rng);
    }
  }

  void pause(Prng& rng) {
    const double mean_ns = 1e9 / spec_.rate_per_client;
    const Instant until =
        std::min(end_, rt_.now() + Duration(static_cast<std::int64_t>(exponential(rng, mean_ns))));
    if (until > rt_.now()) rt_.sleep(until - rt_.now());
  }

  void record(OpLatencies& l, bool ok, Instant t0) {
    if (ok) {
      l.ns.push_back((rt_.now() - t0).count());
    } else {
      ++l.errors;
    }
  }

  // GET, think, PUT with the GET's context. The latency is the two requests'.
  void update(dvv::RiakClient& http, const std::string& client_id, std::uint64_t key) {
    const Instant t0 = rt_.now();
    Read r = read(http, key);
    const Duration get_time = rt_.now() - t0;
    if (!r.ok) {
      ++out_.upd.errors;
      return;
    }
    rt_.sleep(spec_.think);
    const Instant t1 = rt_.now();
    const bool ok = write(http, client_id, key, r.ids, r.vclock);
    if (ok) {
      out_.upd.ns.push_back((get_time + (rt_.now() - t1)).count());
    } else {
      ++out_.upd.errors;
    }
  }

  Read read(dvv::RiakClient& http, std::uint64_t key) {
    Read out;
    dvv::Quorum q;
    q.r = std::to_string(spec_.r);
    auto resp = http.get(spec_.bucket, std::to_string(key), q, deadline());
    if (!resp) return out;
    out.ok = true;
    if (!resp->found()) return out;
    out.vclock = resp->vclock;
    for (const std::string& b : resp->siblings) out.ids.push_back(value_id(b));
    measure(out, resp->clock_entries);
    return out;
  }

  void measure(const Read& r, std::size_t entries) {
    ++out_.reads_found;
    out_.values += r.ids.size();
    if (auto bytes = http::base64_decode(r.vclock)) out_.clock_bytes += bytes->size();
    out_.clock_entries += entries;
    if (r.ids.size() < 2) return;
    for (std::uint64_t a : r.ids) {
      for (std::uint64_t b : r.ids) {
        if (a == b) continue;
        auto seen = history_.in_past(a, b);
        if (!seen) ++out_.ancestry_capped;
        if (!seen.value_or(false)) continue;
        // Each value counts once, the first time it is met beside one that superseded it.
        if (history_.known(a) && flagged_.insert(a).second) ++out_.false_conflicts;
        break;
      }
    }
  }

  bool write(dvv::RiakClient& http, const std::string& client_id, std::uint64_t key,
             std::vector<std::uint64_t> seen, const std::string& vclock) {
    const std::uint64_t id = history_.write(std::move(seen));
    dvv::WriteOptions o;
    o.quorum.w = std::to_string(spec_.w);
    o.client_id = client_id;
    o.vclock = vclock;
    o.content_type = "application/octet-stream";
    auto resp = http.put(spec_.bucket, std::to_string(key),
                         make_value(id, spec_.workload.value_bytes), o, deadline());
    const bool ok = resp && (resp->status == 204 || resp->status == 200);
    if (ok) ++out_.writes_acked;
    return ok;
  }

  Runtime& rt_;
  const DvvLoadSpec& spec_;
  std::uint32_t nodes_;
  const NodeEndpoint& endpoint_;
  KeyGen keys_;
  Instant end_ = instant_ns(0);
  CausalHistory history_;
  std::set<std::uint64_t> flagged_;  // values already counted as false conflicts
  DvvLoadResult out_;
};

}  // namespace

const std::vector<DvvWorkload>& dvv_workloads() {
  static const std::vector<DvvWorkload> all = {
      {"60-10-30", "1", 60, 10, 30, 1024}, {"30-10-60", "1", 30, 10, 60, 1024},
      {"browsing", "2", 95, 0, 5, 1024},   {"shopping", "2", 80, 0, 20, 5120},
      {"ordering", "2", 50, 0, 50, 1024},
  };
  return all;
}

double OpLatencies::mean_ms() const {
  if (ns.empty()) return 0;
  long double sum = 0;
  for (std::int64_t x : ns) sum += static_cast<long double>(x);
  return static_cast<double>(sum / static_cast<long double>(ns.size()) / 1e6L);
}

double OpLatencies::percentile_ms(double p) const {
  if (ns.empty()) return 0;
  const auto i =
      std::min(ns.size() - 1, static_cast<std::size_t>(p * static_cast<double>(ns.size())));
  return static_cast<double>(ns[i]) / 1e6;
}

double DvvLoadResult::clock_bytes_mean() const {
  return reads_found ? static_cast<double>(clock_bytes) / static_cast<double>(reads_found) : 0;
}
double DvvLoadResult::clock_entries_mean() const {
  return reads_found ? static_cast<double>(clock_entries) / static_cast<double>(reads_found) : 0;
}
double DvvLoadResult::values_per_key() const {
  return reads_found ? static_cast<double>(values) / static_cast<double>(reads_found) : 0;
}
double DvvLoadResult::false_per_1000_writes() const {
  return writes_acked
             ? 1000.0 * static_cast<double>(false_conflicts) / static_cast<double>(writes_acked)
             : 0;
}

DvvLoadResult run_dvv_load(Runtime& rt, const DvvLoadSpec& spec, std::uint32_t nodes,
                           const NodeEndpoint& endpoint) {
  DOPPEL_ASSERT(nodes > 0);
  DOPPEL_ASSERT(spec.clients > 0);
  Bench bench(rt, spec, nodes, endpoint);
  return bench.run();
}

}  // namespace doppel::cli
