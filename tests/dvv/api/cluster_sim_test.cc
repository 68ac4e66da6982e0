// A three-node DVV cluster in the simulator, through Riak's HTTP API from the client library
// (components/dvv/client/riak_client.h): writes read back through any node; concurrent blind
// writes kept as siblings (300 multipart) and resolved by a write with the read's vclock; the
// quorum parameters accepted and refused; DELETE; bucket props set on one node reaching the
// others.

#include <algorithm>
#include <catch2/catch.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "components/dvv/client/riak_client.h"
#include "components/dvv/dvv.h"
#include "sim/world.h"
#include "tests/support/checks.h"

using namespace doppel;
using namespace doppel::dvv;
using namespace std::chrono_literals;
using doppel::test::Checks;
using doppel::test::require_clean;
using doppel::test::SimResult;

namespace {

constexpr std::uint32_t kNodes = 3;
constexpr std::uint16_t kHttpPort = 8098;  // Riak's HTTP API, for clients
constexpr std::uint16_t kRpcPort = 8087;   // the nodes' own RPC, listed in `peers`

std::string node_name(std::uint32_t i) {
  return "dvv" + std::to_string(i);
}

class DvvSim {
 public:
  explicit DvvSim(std::uint64_t seed) : world_(sim::WorldOptions{seed}) {
    std::vector<Endpoint> peers;
    for (std::uint32_t i = 0; i < kNodes; ++i) peers.push_back(Endpoint{node_name(i), kRpcPort});
    DvvSettings settings;
    settings.partitions = 8;
    for (std::uint32_t i = 0; i < kNodes; ++i) {
      NodeConfig c;
      c.name = node_name(i);
      c.node_id = i;
      c.component = "dvv";
      c.listen = Endpoint{c.name, kHttpPort};
      c.peers = peers;
      world_.add_node(sim::NodeSpec{c.name, 1, false,
                                    [c, settings](Runtime& rt) { return boot(rt, c, settings); }});
    }
    client_ = world_.add_node(sim::NodeSpec{"client", 1, false, {}});
    world_.quiesce();    // no faults: a node that fails to boot fails the run at once
    world_.run_for(3s);  // booted, and each has seen the others answer a ping
  }

  // Runs `body` in a fiber of the client node, with a client of each node.
  bool run(const std::function<void(Runtime&, std::vector<std::unique_ptr<RiakClient>>&)>& body) {
    bool done = false;
    world_.spawn(client_, 0, "dvv-test-client", [&] {
      Runtime& rt = world_.runtime(client_);
      std::vector<std::unique_ptr<RiakClient>> nodes;
      for (std::uint32_t i = 0; i < kNodes; ++i) {
        nodes.push_back(std::make_unique<RiakClient>(rt, Endpoint{node_name(i), kHttpPort}));
      }
      body(rt, nodes);
      done = true;
    });
    world_.run_until(world_.now() + 10min, [&] { return done; });
    return done;
  }

  sim::World& world() { return world_; }

 private:
  sim::World world_;
  sim::NodeId client_ = 0;
};

Instant soon(Runtime& rt) {
  return rt.now() + 10s;
}

// "<status> <sorted siblings>" of a read or write, or the error.
std::string describe(const Result<RiakObject>& o) {
  if (!o) return o.error().message();
  std::vector<std::string> values = o->siblings;
  std::sort(values.begin(), values.end());
  std::string out = std::to_string(o->status);
  for (const std::string& v : values) out += " " + v;
  return out;
}

Quorum all_replicas() {
  Quorum q;
  q.r = "all";
  q.w = "all";
  return q;
}

WriteOptions with_vclock(std::string vclock) {
  WriteOptions o;
  o.vclock = std::move(vclock);
  o.quorum = all_replicas();
  return o;
}

// Runs `body` in a fresh world and lets the world go (see tests/support/checks.h).
SimResult run_dvv(
    std::uint64_t seed,
    const std::function<void(Runtime&, std::vector<std::unique_ptr<RiakClient>>&)>& body) {
  DvvSim sim(seed);
  const bool ran = sim.run(body);
  return SimResult::of(sim.world(), ran);
}

}  // namespace

TEST_CASE("dvv api: a write reads back through every node, with a vclock", "[sim]") {
  Checks c;
  const SimResult result = run_dvv(1, [&](Runtime& rt, auto& nodes) {
    c.expect_eq("get before", describe(nodes[0]->get("b", "k", {}, soon(rt))), "404");
    auto put = nodes[0]->put("b", "k", "one", with_vclock(""), soon(rt));
    c.expect_eq("put", describe(put), "204");
    c.expect(put.ok() && !put->vclock.empty(), "a put answers its vclock");
    for (auto& node : nodes) {
      auto got = node->get("b", "k", all_replicas(), soon(rt));
      c.expect_eq("get via " + node->node().host, describe(got), "200 one");
      c.expect(got.ok() && !got->vclock.empty() && got->clock_entries == 1,
               "a read's vclock names one coordinator");
    }
    Quorum returnbody = all_replicas();
    returnbody.returnbody = true;
    WriteOptions o;
    o.quorum = returnbody;
    auto got = nodes[1]->get("b", "k", {}, soon(rt));
    o.vclock = got.ok() ? got->vclock : "";
    c.expect_eq("put returnbody", describe(nodes[1]->put("b", "k", "two", o, soon(rt))), "200 two");
  });
  require_clean(c, result);
}

TEST_CASE("dvv api: concurrent blind writes become siblings; a write with the vclock resolves",
          "[sim]") {
  for (std::uint64_t seed = 0; seed < 5; ++seed) {
    Checks c;
    const SimResult result = run_dvv(seed, [&](Runtime& rt, auto& nodes) {
      // Blind writes through two coordinators: neither saw the other.
      c.expect_eq("blind put a", describe(nodes[0]->put("b", "s", "a", with_vclock(""), soon(rt))),
                  "204");
      c.expect_eq("blind put b", describe(nodes[1]->put("b", "s", "b", with_vclock(""), soon(rt))),
                  "204");
      auto both = nodes[2]->get("b", "s", all_replicas(), soon(rt));
      c.expect_eq("siblings", describe(both), "300 a b");
      if (!both) return;
      // A blind write adds a third sibling; one with the read's vclock replaces the two it saw.
      c.expect_eq("blind put c", describe(nodes[2]->put("b", "s", "c", with_vclock(""), soon(rt))),
                  "204");
      c.expect_eq("resolve",
                  describe(nodes[0]->put("b", "s", "d", with_vclock(both->vclock), soon(rt))),
                  "204");
      c.expect_eq("after resolve", describe(nodes[1]->get("b", "s", all_replicas(), soon(rt))),
                  "300 c d");
      auto two = nodes[1]->get("b", "s", all_replicas(), soon(rt));
      c.expect_eq(
          "resolve all",
          describe(nodes[1]->put("b", "s", "e", with_vclock(two ? two->vclock : ""), soon(rt))),
          "204");
      c.expect_eq("one value", describe(nodes[2]->get("b", "s", all_replicas(), soon(rt))),
                  "200 e");
    });
    INFO("seed " << seed);
    require_clean(c, result);
  }
}

TEST_CASE("dvv api: r, w, pr, pw and dw are accepted as numbers and words, others refused 400",
          "[sim]") {
  Checks c;
  const SimResult result = run_dvv(2, [&](Runtime& rt, auto& nodes) {
    RiakClient& n = *nodes[0];
    c.expect_eq("put", describe(n.put("b", "q", "v", with_vclock(""), soon(rt))), "204");
    // pr and pw (primaries) also take 0, their default.
    for (const std::string value : {"1", "2", "3", "one", "quorum", "all", "default", "0"}) {
      const bool primaries_only = value == "0";
      Quorum read;
      read.r = primaries_only ? "" : value;
      read.pr = value;
      c.expect_eq("get r=" + read.r + " pr=" + value, describe(n.get("b", "q", read, soon(rt))),
                  "200 v");
      WriteOptions write;
      write.quorum.w = primaries_only ? "" : value;
      write.quorum.dw = primaries_only ? "" : value;
      write.quorum.pw = value;
      auto got = n.get("b", "q", all_replicas(), soon(rt));
      write.vclock = got.ok() ? got->vclock : "";
      c.expect_eq("put w=dw=" + write.quorum.w + " pw=" + value,
                  describe(n.put("b", "q", "v", write, soon(rt))), "204");
    }
    for (const std::string name : {"r", "pr"}) {
      for (const std::string value : {"4", "-1", "two", "1x"}) {
        Quorum bad;
        (name == "r" ? bad.r : bad.pr) = value;
        auto got = n.get("b", "q", bad, soon(rt));
        c.expect(!got.ok() && got.error().what.find("400") != std::string::npos,
                 "get " + name + "=" + value + ": " + describe(got));
      }
    }
    for (const std::string name : {"w", "dw", "pw"}) {
      for (const std::string value : {"4", "-1", "most", "2.5"}) {
        WriteOptions bad;
        (name == "w" ? bad.quorum.w : name == "dw" ? bad.quorum.dw : bad.quorum.pw) = value;
        c.expect_eq("put " + name + "=" + value, describe(n.put("b", "q", "x", bad, soon(rt))),
                    "400");
      }
    }
    // A vclock that is not base64 is refused too; nothing was written by the refusals.
    c.expect_eq("bad vclock", describe(n.put("b", "q", "x", with_vclock("*not base64*"), soon(rt))),
                "400");
    c.expect_eq("still v", describe(n.get("b", "q", all_replicas(), soon(rt))), "200 v");
  });
  require_clean(c, result);
}

TEST_CASE("dvv api: DELETE then GET is 404 on every node", "[sim]") {
  Checks c;
  const SimResult result = run_dvv(3, [&](Runtime& rt, auto& nodes) {
    c.expect_eq("put", describe(nodes[0]->put("b", "gone", "v", with_vclock(""), soon(rt))), "204");
    auto got = nodes[1]->get("b", "gone", all_replicas(), soon(rt));
    c.expect_eq(
        "delete",
        describe(nodes[1]->remove("b", "gone", with_vclock(got ? got->vclock : ""), soon(rt))),
        "204");
    for (auto& node : nodes) {
      c.expect_eq("get via " + node->node().host,
                  describe(node->get("b", "gone", all_replicas(), soon(rt))), "404");
    }
    c.expect_eq("delete a missing key",
                describe(nodes[2]->remove("b", "never", with_vclock(""), soon(rt))), "204");
    c.expect_eq("written again",
                describe(nodes[2]->put("b", "gone", "back", with_vclock(""), soon(rt))), "204");
    c.expect_eq("reads again", describe(nodes[0]->get("b", "gone", all_replicas(), soon(rt))),
                "200 back");
  });
  require_clean(c, result);
}

TEST_CASE("dvv api: a props change conditional on an ETag is refused 412 once the props moved on",
          "[sim]") {
  Checks c;
  const SimResult result = run_dvv(3, [&](Runtime& rt, auto& nodes) {
    auto before = nodes[0]->props("p", soon(rt));
    REQUIRE(before.ok());
    const auto tag = before->headers.get("ETag");
    c.expect(tag.has_value(), "GET props carries an ETag");
    const std::string etag(tag.value_or(""));
    BucketPropsUpdate vv;
    vv.clock = "vv";
    BucketPropsUpdate dvvset;
    dvvset.clock = "dvvset";
    // A change made with the ETag it read applies; a late attempt with the same ETag (a retry
    // whose first try was applied, or one delayed past a newer change) does not.
    auto first = nodes[0]->set_props("p", vv, soon(rt), etag);
    c.expect(first.ok() && *first == 204, "the change with a current ETag answers 204");
    auto newer = nodes[0]->set_props("p", dvvset, soon(rt));
    c.expect(newer.ok() && *newer == 204, "an unconditional change answers 204");
    auto late = nodes[0]->set_props("p", vv, soon(rt), etag);
    c.expect(late.ok() && *late == 412, "the same ETag again is refused 412");
    auto now = nodes[0]->props("p", soon(rt));
    c.expect(now.ok() && now->body.find("\"clock\":\"dvvset\"") != std::string::npos,
             "the refused change changed nothing");
    c.expect(now.ok() && now->headers.get("ETag") != tag, "every change gives a new ETag");
    auto bad = nodes[1]->set_props("p", vv, soon(rt), "W/\"x\"");
    c.expect(bad.ok() && *bad == 400, "an If-Match that is not our ETag is refused 400");
  });
  require_clean(c, result);
}

TEST_CASE("dvv api: bucket props set on one node reach the others; bad props are 400", "[sim]") {
  Checks c;
  const SimResult result = run_dvv(4, [&](Runtime& rt, auto& nodes) {
    BucketPropsUpdate lww;
    lww.allow_mult = false;
    auto set = nodes[0]->set_props("p", lww, soon(rt));
    c.expect(set.ok() && *set == 204, "set_props answers 204");
    // Every node learns them (pushed, and gossiped every gossip_interval).
    for (auto& node : nodes) {
      bool seen = false;
      for (int attempt = 0; attempt < 20 && !seen; ++attempt) {
        auto props = node->props("p", soon(rt));
        seen = props.ok() && props->status == 200 &&
               props->body.find("\"allow_mult\":false") != std::string::npos;
        if (!seen) rt.sleep(500ms);
      }
      c.expect(seen, node->node().host + " learns allow_mult false");
    }
    // Last write wins now: concurrent blind writes leave one value.
    c.expect_eq("lww a", describe(nodes[0]->put("p", "k", "a", with_vclock(""), soon(rt))), "204");
    c.expect_eq("lww b", describe(nodes[1]->put("p", "k", "b", with_vclock(""), soon(rt))), "204");
    auto one = nodes[2]->get("p", "k", all_replicas(), soon(rt));
    c.expect(one.ok() && one->status == 200 && one->siblings.size() == 1,
             "allow_mult false keeps one value: " + describe(one));
    // Other buckets keep the defaults.
    auto other = nodes[1]->props("q", soon(rt));
    c.expect(other.ok() && other->body.find("\"allow_mult\":true") != std::string::npos,
             "another bucket keeps allow_mult true");
    BucketPropsUpdate bad;
    bad.n_val = 0;
    auto refused = nodes[1]->set_props("p", bad, soon(rt));
    c.expect(refused.ok() && *refused == 400, "n_val 0 is refused 400");
    http::ClientRequest garbage;
    garbage.method = "PUT";
    garbage.target = "/buckets/p/props";
    garbage.body = "{not json";
    auto raw = nodes[2]->raw(garbage, soon(rt));
    c.expect(
        raw.ok() && raw->status == 400 && raw->body.find("malformed JSON") != std::string::npos,
        "malformed props are refused 400 with a reason");
  });
  require_clean(c, result);
}
