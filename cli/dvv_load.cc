#include "cli/dvv_load.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <memory>
#include <optional>

#include "components/http/client.h"
#include "components/http/codec.h"
#include "runtime/assert.h"
#include "runtime/sync.h"

namespace doppel::cli {
namespace {

using namespace std::chrono_literals;

// Every value written and the values its writer had seen: the exact causal
// order of the run. Ids count from 1 in write order, and a writer only sees
// values written before it, so a value's ancestors all have smaller ids.
class CausalGraph {
 public:
  static constexpr std::size_t kWritesMax = 64u << 20;
  static constexpr std::size_t kVisitsMax = 1u << 16;  // per ancestry search

  std::uint64_t add(std::vector<std::uint64_t> parents) {
    DOPPEL_ASSERT_MSG(nodes_.size() < kWritesMax, "too many writes for the causal graph");
    nodes_.push_back(Node{std::move(parents), false});
    return nodes_.size();
  }
  bool known(std::uint64_t id) const { return id >= 1 && id <= nodes_.size(); }

  // Whether `a` is in `b`'s causal past; nullopt if the search hit its limit.
  std::optional<bool> ancestor(std::uint64_t a, std::uint64_t b) {
    if (!known(a) || !known(b) || a >= b) return false;
    stack_.assign(node(b).parents.begin(), node(b).parents.end());
    visited_.clear();
    while (!stack_.empty()) {
      const std::uint64_t x = stack_.back();
      stack_.pop_back();
      if (x == a) return true;
      if (x < a || !known(x)) continue;  // older than a: cannot lead to it
      if (std::find(visited_.begin(), visited_.end(), x) != visited_.end()) continue;
      if (visited_.size() >= kVisitsMax) return std::nullopt;
      visited_.push_back(x);
      for (std::uint64_t p : node(x).parents) stack_.push_back(p);
    }
    return false;
  }

  // True the first time a value is flagged a false conflict.
  bool flag(std::uint64_t id) {
    if (!known(id) || node(id).flagged) return false;
    node(id).flagged = true;
    return true;
  }

 private:
  struct Node {
    std::vector<std::uint64_t> parents;
    bool flagged = false;
  };
  Node& node(std::uint64_t id) { return nodes_[id - 1]; }

  std::vector<Node> nodes_;
  std::vector<std::uint64_t> stack_, visited_;
};

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
      : rt_(rt), spec_(spec), nodes_(nodes), endpoint_(endpoint), keys_(spec.keygen, spec.keys) {}

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
  std::string target(std::uint64_t key) const {
    return "/buckets/" + spec_.bucket + "/keys/" + std::to_string(key);
  }
  Instant deadline() { return rt_.now() + spec_.request_timeout; }

  // Through node 0; props spread by push and gossip, so wait until every
  // node has them (the first write must meet the right clock kind).
  std::string set_props() {
    const std::string props = "{\"props\":{\"n_val\":" + std::to_string(spec_.n_val) +
                              ",\"allow_mult\":true,\"clock\":\"" + spec_.clock + "\"}}";
    const Instant give_up = rt_.now() + 60s;
    std::string last;
    http::HttpClient first(rt_, endpoint_(0));
    for (;;) {
      auto r =
          first.put("/buckets/" + spec_.bucket + "/props", props, "application/json", deadline());
      if (r && r->status == 204) break;
      last = r ? "status " + std::to_string(r->status) + " " + r->body : r.error().message();
      if (rt_.now() > give_up) return "setting the bucket props through node 0: " + last;
      rt_.sleep(200ms);
    }
    for (std::uint32_t n = 0; n < nodes_; ++n) {
      http::HttpClient c(rt_, endpoint_(n));
      for (;;) {
        auto r = c.get("/buckets/" + spec_.bucket + "/props", deadline());
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
    http::HttpClient http(rt_, endpoint_(static_cast<std::uint32_t>(c) % nodes_));
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
  void update(http::HttpClient& http, const std::string& client_id, std::uint64_t key) {
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

  Read read(http::HttpClient& http, std::uint64_t key) {
    Read out;
    auto resp = http.get(target(key) + "?r=" + std::to_string(spec_.r), deadline());
    if (!resp) return out;
    if (resp->status == 404) {
      out.ok = true;
      return out;
    }
    if (resp->status != 200 && resp->status != 300) return out;
    if (auto v = resp->headers.get("X-Riak-Vclock")) out.vclock = std::string(*v);
    std::vector<std::string> bodies;
    if (resp->status == 200) {
      bodies.push_back(std::move(resp->body));
    } else {
      auto boundary = http::multipart_boundary(resp->headers.get("Content-Type").value_or(""));
      if (!boundary) return out;
      auto parts = http::multipart_parse(resp->body, *boundary);
      if (!parts) return out;
      for (auto& p : *parts) bodies.push_back(std::move(p.body));
    }
    for (const std::string& b : bodies) out.ids.push_back(value_id(b));
    out.ok = true;
    measure(out, resp->headers.get("X-Doppel-Clock-Entries"));
    return out;
  }

  void measure(const Read& r, std::optional<std::string_view> entries) {
    ++out_.reads_found;
    out_.values += r.ids.size();
    if (auto bytes = http::base64_decode(r.vclock)) out_.clock_bytes += bytes->size();
    std::uint64_t e = 0;
    if (entries) std::from_chars(entries->data(), entries->data() + entries->size(), e);
    out_.clock_entries += e;
    if (r.ids.size() < 2) return;
    for (std::uint64_t a : r.ids) {
      for (std::uint64_t b : r.ids) {
        if (a == b) continue;
        auto seen = graph_.ancestor(a, b);
        if (!seen) ++out_.ancestry_capped;
        if (!seen.value_or(false)) continue;
        if (graph_.flag(a)) ++out_.false_conflicts;
        break;
      }
    }
  }

  bool write(http::HttpClient& http, const std::string& client_id, std::uint64_t key,
             std::vector<std::uint64_t> seen, const std::string& vclock) {
    std::erase(seen, 0);
    const std::uint64_t id = graph_.add(std::move(seen));
    http::ClientRequest req;
    req.method = "PUT";
    req.target = target(key) + "?w=" + std::to_string(spec_.w);
    req.body = make_value(id, spec_.workload.value_bytes);
    req.headers.set("Content-Type", "application/octet-stream");
    req.headers.set("X-Riak-ClientId", client_id);
    if (!vclock.empty()) req.headers.set("X-Riak-Vclock", vclock);
    auto resp = http.request(req, deadline());
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
  CausalGraph graph_;
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
