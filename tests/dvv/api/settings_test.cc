// DvvSettings: every key of [dvv], its range and its error with the line; the settings against
// the cluster (check_cluster); the planted bugs by name; and bucket properties as JSON, both
// ways.

#include "components/dvv/settings.h"

#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "base/toml.h"
#include "components/dvv/store/bucket_props.h"

using namespace doppel;
using namespace doppel::dvv;
using namespace std::chrono_literals;

namespace {

Result<DvvSettings> read(std::string_view text) {
  auto t = parse_toml(text, "dvv.toml");
  REQUIRE(t.ok());
  return DvvSettings::read(*t, "dvv.toml");
}

std::string refused(std::string_view text) {
  auto s = read(text);
  INFO(text);
  REQUIRE_FALSE(s.ok());
  REQUIRE(s.code() == Errc::invalid_argument);
  return s.error().what;
}

NodeConfig cluster_node(std::uint32_t id, std::size_t nodes) {
  NodeConfig c;
  c.node_id = id;
  for (std::size_t i = 0; i < nodes; ++i) c.peers.push_back(Endpoint{"n" + std::to_string(i), 1});
  return c;
}

}  // namespace

TEST_CASE("dvv settings: an empty table gives the defaults", "[unit]") {
  auto s = read("");
  REQUIRE(s.ok());
  REQUIRE(s->partitions == 64);
  REQUIRE(s->request_timeout == 2s);
  REQUIRE(s->ping_interval == 500ms);
  REQUIRE(s->handoff_interval == 1s);
  REQUIRE(s->aae_interval == 2s);
  REQUIRE_FALSE(s->bug_ack_early);
  REQUIRE_FALSE(s->bug_no_repair);
  REQUIRE_FALSE(s->bug_dot_per_write);
  REQUIRE_FALSE(s->bug_ignore_context);
}

TEST_CASE("dvv settings: every key is read into its field", "[unit]") {
  auto s = read(R"(
partitions = 4096
request_timeout_ms = 1
ping_interval_ms = 3600000
handoff_interval_ms = 250
aae_interval_ms = 7000
)");
  REQUIRE(s.ok());
  REQUIRE(s->partitions == 4096);
  REQUIRE(s->request_timeout == 1ms);
  REQUIRE(s->ping_interval == 1h);
  REQUIRE(s->handoff_interval == 250ms);
  REQUIRE(s->aae_interval == 7s);
  REQUIRE(read("partitions = 1")->partitions == 1);
}

TEST_CASE("dvv settings: each bound and the power of two name file:line:'key'", "[unit]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"partitions = 0", "dvv.toml:1: 'partitions': must be between 1 and 4096, got 0"},
      {"partitions = 8192", "dvv.toml:1: 'partitions': must be between 1 and 4096, got 8192"},
      {"\npartitions = 48", "dvv.toml:2: 'partitions': must be a power of two"},
      {"partitions = \"64\"", "dvv.toml:1: 'partitions': expected an integer"},
      {"request_timeout_ms = 0",
       "dvv.toml:1: 'request_timeout_ms': must be between 1 and 3600000, got 0"},
      {"ping_interval_ms = 3600001",
       "dvv.toml:1: 'ping_interval_ms': must be between 1 and 3600000, got 3600001"},
      {"handoff_interval_ms = -5",
       "dvv.toml:1: 'handoff_interval_ms': must be between 1 and 3600000, got -5"},
      {"aae_interval_ms = 1.5", "dvv.toml:1: 'aae_interval_ms': expected an integer"},
  };
  for (const auto& [text, message] : cases) REQUIRE(refused(text) == message);
}

TEST_CASE("dvv settings: an unknown key is refused with the keys there are", "[unit]") {
  REQUIRE(
      refused("partitions = 8\nbug = \"ack-early\"\n") ==
      "dvv.toml:2: 'bug': unknown key (expected one of: partitions, members, request_timeout_ms, "
      "aae_interval_ms, handoff_interval_ms, ping_interval_ms, insecure, users_file, "
      "tls_cert_file, tls_key_file, tls_ca_file, cluster_secret_file)");
}

TEST_CASE("dvv settings: the cluster secret is read from its file, and a short one refused",
          "[unit]") {
  const FileReader reader = [](const std::string& path) -> Result<std::string> {
    if (path == "good") return std::string("0123456789abcdefXYZ\n");
    if (path == "short") return std::string("too short\n");
    return make_error(Errc::not_found, "cannot open " + path);
  };
  auto with = [&](std::string_view text) {
    auto t = parse_toml(text, "dvv.toml");
    REQUIRE(t.ok());
    return DvvSettings::read(*t, "dvv.toml", reader);
  };
  auto s = with("cluster_secret_file = \"good\"");
  REQUIRE(s.ok());
  REQUIRE(s->cluster_secret == "0123456789abcdefXYZ");  // without the newline
  auto none = with("");
  REQUIRE(none.ok());
  REQUIRE(none->cluster_secret.empty());
  auto short_one = with("cluster_secret_file = \"short\"");
  REQUIRE_FALSE(short_one.ok());
  REQUIRE(short_one.error().what ==
          "dvv.toml:1: 'cluster_secret_file': a secret of at least 16 bytes (e.g. head -c 32 "
          "/dev/urandom | base64)");
  auto missing = with("cluster_secret_file = \"nowhere\"");
  REQUIRE_FALSE(missing.ok());
  REQUIRE(missing.error().what == "dvv.toml:1: 'cluster_secret_file': cannot open nowhere");
}

TEST_CASE("dvv settings: check_cluster wants peers, a node id among them, enough partitions",
          "[unit]") {
  DvvSettings s;
  s.partitions = 4;
  REQUIRE(check_cluster(cluster_node(0, 3), s).ok());
  REQUIRE(check_cluster(cluster_node(3, 4), s).ok());
  const auto refusal = [&](const NodeConfig& node) {
    const Status st = check_cluster(node, s);
    REQUIRE_FALSE(st.ok());
    REQUIRE(st.code() == Errc::invalid_argument);
    return st.error().what;
  };
  REQUIRE(refusal(cluster_node(0, 0)) == "peers: a dvv node needs the cluster's peers");
  REQUIRE(refusal(cluster_node(3, 3)) == "node_id: not an index into peers");
  REQUIRE(refusal(cluster_node(0, 5)) == "partitions: fewer than nodes");
  s.members = 3;  // the first ring's members: at most the peers
  REQUIRE(check_cluster(cluster_node(0, 3), s).ok());
  REQUIRE(refusal(cluster_node(0, 2)) == "members: more than the 2 peers");
}

TEST_CASE("dvv settings: members names how many peers form the first ring", "[unit]") {
  REQUIRE(read("").value().members == 0);  // every peer
  REQUIRE(read("members = 3").value().members == 3);
  REQUIRE_THAT(refused("members = 0"), Catch::Contains("members"));
}

TEST_CASE("dvv settings: each planted bug sets its own flag; unknown names are refused", "[unit]") {
  const auto planted = [](std::string_view name) {
    DvvSettings s;
    REQUIRE(plant_dvv_bug(name, s).ok());
    return std::vector<bool>{s.bug_ack_early, s.bug_no_repair, s.bug_dot_per_write,
                             s.bug_ignore_context};
  };
  REQUIRE(planted("") == std::vector<bool>{false, false, false, false});
  REQUIRE(planted("ack-early") == std::vector<bool>{true, false, false, false});
  REQUIRE(planted("no-repair") == std::vector<bool>{false, true, false, false});
  REQUIRE(planted("dot-per-write") == std::vector<bool>{false, false, true, false});
  REQUIRE(planted("ignore-context") == std::vector<bool>{false, false, false, true});
  DvvSettings s;
  const Status unknown = plant_dvv_bug("swapped-replies", s);
  REQUIRE_FALSE(unknown.ok());
  REQUIRE(unknown.error().what == "bug: dvv has no planted bug 'swapped-replies'");
}

// --- bucket properties as JSON

TEST_CASE("dvv props: the defaults are written as Riak writes them", "[unit]") {
  REQUIRE(props_to_json(BucketProps{}) ==
          R"({"props":{"n_val":3,"allow_mult":true,"clock":"dvvset","r":"quorum",)"
          R"("w":"quorum","dw":"quorum","pr":0,"pw":0}})");
}

TEST_CASE("dvv props: fields present are applied onto the base, the version moves on", "[unit]") {
  BucketProps base;
  base.version = 7;
  auto p = props_from_json(R"({"props":{"allow_mult":false}})", base);
  REQUIRE(p.ok());
  REQUIRE_FALSE(p->allow_mult);
  REQUIRE(p->n_val == 3);
  REQUIRE(p->version == 8);
  p = props_from_json(R"({"props":{"last_write_wins":false,"clock":"vv","n_val":5,)"
                      R"("r":"all","w":"one","dw":2,"pr":"quorum","pw":"default"}})",
                      base);
  REQUIRE(p.ok());
  REQUIRE(p->allow_mult);
  REQUIRE(p->clock == ClockKind::vv);
  REQUIRE(p->n_val == 5);
  REQUIRE(p->r == 5);  // "all" means the new n_val, wherever n_val stands
  REQUIRE(p->w == 1);
  REQUIRE(p->dw == 2);
  REQUIRE(p->pr == BucketProps::kQuorum);
  REQUIRE(p->pw == BucketProps::kQuorum);
  REQUIRE(p->resolve(p->pr) == 3);
  REQUIRE(props_from_json(R"({"props":{}})", base)->version == 8);
}

TEST_CASE("dvv props: malformed bodies and values are refused naming the field", "[unit]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "malformed JSON: json at byte 0: unexpected end"},
      {"[]", "expected {\"props\":{...}}"},
      {R"({"props":[]})", "expected {\"props\":{...}}"},
      {R"({"props":{},"more":1})", "expected {\"props\":{...}}"},
      {R"({"n_val":3})", "expected {\"props\":{...}}"},
      {R"({"props":{"n_val":0}})", "n_val: expected 1 to 16"},
      {R"({"props":{"n_val":17}})", "n_val: expected 1 to 16"},
      {R"({"props":{"n_val":"3"}})", "n_val: expected 1 to 16"},
      {R"({"props":{"allow_mult":1}})", "allow_mult: expected true or false"},
      {R"({"props":{"last_write_wins":"no"}})", "last_write_wins: expected true or false"},
      {R"({"props":{"clock":"lamport"}})", "clock: expected \"dvvset\" or \"vv\""},
      {R"({"props":{"clock":1}})", "clock: expected \"dvvset\" or \"vv\""},
      {R"({"props":{"r":"most"}})",
       "r: expected a number up to 16, \"quorum\", \"one\" or \"all\""},
      {R"({"props":{"w":-1}})", "w: expected a number up to 16, \"quorum\", \"one\" or \"all\""},
      {R"({"props":{"pw":17}})", "pw: expected a number up to 16, \"quorum\", \"one\" or \"all\""},
      {R"({"props":{"r":4}})", "a quorum is larger than n_val"},
      {R"({"props":{"n_val":2,"dw":3}})", "a quorum is larger than n_val"},
      {R"({"props":{"colour":"red"}})",
       "colour: unknown bucket property (n_val, allow_mult, clock, r, w, dw, pr, pw)"},
      {R"({"props":{"a":{"b":{"c":{"d":1}}}}})",
       "malformed JSON: json at byte 24: nested too deep"},
  };
  for (const auto& [body, message] : cases) {
    INFO(body);
    auto p = props_from_json(body, BucketProps{});
    REQUIRE_FALSE(p.ok());
    REQUIRE(p.code() == Errc::invalid_argument);
    REQUIRE(p.error().what == message);
  }
}

TEST_CASE("dvv props: any valid props read back from their JSON", "[prop]") {
  rc::prop("props_from_json(props_to_json(p)) == p, one version on", [] {
    BucketProps p;
    p.n_val = *rc::gen::inRange<std::uint32_t>(1, BucketProps::kNValMax + 1);
    p.allow_mult = *rc::gen::arbitrary<bool>();
    p.clock = *rc::gen::element(ClockKind::dvvset, ClockKind::vv);
    const auto quorum = rc::gen::oneOf(rc::gen::just(BucketProps::kQuorum),
                                       rc::gen::inRange<std::uint32_t>(0, p.n_val + 1));
    for (std::uint32_t* q : {&p.r, &p.w, &p.dw, &p.pr, &p.pw}) *q = *quorum;
    p.version = *rc::gen::inRange<std::uint64_t>(0, 1000);
    auto back = props_from_json(props_to_json(p), BucketProps{});
    RC_ASSERT(back.ok());
    BucketProps want = p;
    want.version = BucketProps{}.version + 1;  // the version is the node's, not the body's
    RC_ASSERT(*back == want);
  });
}
