// The backup server's HTTP API in the simulator, through DedupClient and Uploader: an image put
// twice with a change, listed, read back byte-identical, a version removed, gc, verify and
// check; and bad requests answered with a 4xx that the client maps to an error.

#include <catch2/catch.hpp>
#include <functional>
#include <string>
#include <vector>

#include "components/access/gate.h"
#include "components/dedup/api/client.h"
#include "components/dedup/api/uploader.h"
#include "components/dedup/dedup.h"
#include "runtime/random.h"
#include "sim/world.h"
#include "tests/support/checks.h"

using namespace doppel;
using namespace doppel::dedup;
using namespace std::chrono_literals;
using doppel::test::Checks;
using doppel::test::require_clean;
using doppel::test::SimResult;

namespace {

constexpr std::uint16_t kPort = 8080;
constexpr const char* kServer = "dedup0";
constexpr std::uint32_t kSegmentBytes = 64u << 10;
constexpr std::size_t kImageBytes = 6 * kSegmentBytes + 3 * kBlockBytes;  // a short last one

DedupSettings small_settings() {
  DedupSettings s;
  s.segment_bytes = kSegmentBytes;
  s.store.segment_bytes_max = kSegmentBytes;
  s.store.image_bytes_max = 1u << 30;
  s.store.unreferenced_ttl = 0s;  // gc may drop what no version uses at once
  return s;
}

// Seeded bytes, with the third segment all zero (a null segment, never sent).
std::string first_version(std::uint64_t seed) {
  Prng rng(seed);
  std::string bytes(kImageBytes, '\0');
  for (std::size_t i = 0; i < bytes.size(); i += 8) {
    const std::uint64_t word = rng.next();
    for (std::size_t k = 0; k < 8 && i + k < bytes.size(); ++k) {
      bytes[i + k] = static_cast<char>(word >> (8 * k));
    }
  }
  std::fill_n(bytes.begin() + 2 * kSegmentBytes, kSegmentBytes, '\0');
  return bytes;
}

// The first version with two blocks of its second segment changed.
std::string second_version(std::string bytes) {
  for (std::size_t i = 0; i < 2 * kBlockBytes; ++i) bytes[kSegmentBytes + i] ^= 0x5a;
  return bytes;
}

DedupClientOptions test_client_options(std::string authorization = "") {
  DedupClientOptions o;
  o.request_timeout = 10s;
  o.transfer_io_timeout = 10s;
  o.admin_timeout = 60s;
  o.authorization = std::move(authorization);
  return o;
}

class DedupSim {
 public:
  explicit DedupSim(std::uint64_t seed, DedupSettings settings = small_settings())
      : world_(sim::WorldOptions{seed}) {
    NodeConfig node;
    node.name = kServer;
    node.component = "dedup";
    node.listen = Endpoint{kServer, kPort};
    world_.add_node(sim::NodeSpec{
        kServer, 2, false, [node, settings](Runtime& rt) { return boot(rt, node, settings); }});
    client_ = world_.add_node(sim::NodeSpec{"client", 1, false, {}});
    world_.quiesce();  // no faults: a node that fails to boot fails the run at once
  }

  // Runs `body` in a fiber of the client node until it ends.
  bool run(const std::function<void(Runtime&, DedupClient&)>& body) {
    bool done = false;
    world_.spawn(client_, 0, "dedup-test-client", [&] {
      Runtime& rt = world_.runtime(client_);
      rt.sleep(100ms);  // the server boots in a fiber of its own
      DedupClient client(rt, Endpoint{kServer, kPort}, test_client_options());
      body(rt, client);
      done = true;
    });
    world_.run_until(world_.now() + 30min, [&] { return done; });
    return done;
  }

  sim::World& world() { return world_; }

 private:
  sim::World world_;
  sim::NodeId client_ = 0;
};

Result<CommitResult> put(Runtime& rt, DedupClient& client, const std::string& image,
                         const std::string& bytes, UploadProgress* progress) {
  UploadOptions o;
  o.cutter.segment_bytes = kSegmentBytes;
  Uploader up(rt, client, image, o);
  // Fed in pieces that do not line up with segments.
  for (std::size_t at = 0; at < bytes.size(); at += 10000) {
    if (Status s = up.feed(std::string_view(bytes).substr(at, 10000)); !s) return s.error();
  }
  auto committed = up.finish();
  if (progress != nullptr) *progress = up.progress();
  return committed;
}

Result<std::string> read_back(DedupClient& client, const std::string& image, VersionNumber v) {
  std::string got;
  auto n = client.read(image, v, [&](std::string_view piece) -> Status {
    got += piece;
    return {};
  });
  if (!n) return n.error();
  return got;
}

// Runs `body` in a fresh world and lets the world go (see tests/support/checks.h).
SimResult run_dedup(std::uint64_t seed, const std::function<void(Runtime&, DedupClient&)>& body) {
  DedupSim sim(seed);
  const bool ran = sim.run(body);
  return SimResult::of(sim.world(), ran);
}

}  // namespace

TEST_CASE("dedup api: two versions go up deduplicated, list, read back, remove, gc and verify",
          "[sim]") {
  for (std::uint64_t seed = 0; seed < 3; ++seed) {
    Checks c;
    const std::string v1 = first_version(seed);
    const std::string v2 = second_version(v1);
    const SimResult result = run_dedup(seed, [&](Runtime& rt, DedupClient& client) {
      auto info = client.info();
      c.expect(info.ok() && info->segment_bytes == kSegmentBytes && info->hash == HashKind::sha256,
               "info");
      UploadProgress first, second;
      auto one = put(rt, client, "vm", v1, &first);
      auto two = put(rt, client, "vm", v2, &second);
      c.expect(one.ok() && one->version == 1, "put v1: " + (one ? "" : one.error().message()));
      c.expect(two.ok() && two->version == 2, "put v2: " + (two ? "" : two.error().message()));
      if (!one || !two) return;
      c.expect(first.segments == 7 && first.segments_null == 1 && first.segments_uploaded == 6,
               "v1 uploads its 6 non-null segments");
      // Only the changed segment goes up again; the others are found stored.
      c.expect(second.segments_uploaded == 1 && second.segments_deduplicated == 5,
               "v2 uploads its changed segment only");
      // Reverse dedup: v1's blocks that v2 repeats now point into v2.
      c.expect(two->blocks_reverse_deduped > 0, "v2 reverse-dedups v1's blocks");

      auto images = client.list_images();
      c.expect(images.ok() && images->size() == 1 && (*images)[0].name == "vm" &&
                   (*images)[0].versions == 2 && (*images)[0].oldest == 1 &&
                   (*images)[0].latest == 2 && (*images)[0].latest_bytes == kImageBytes,
               "list_images");
      auto versions = client.list_versions("vm");
      c.expect(versions.ok() && versions->size() == 2, "list_versions");
      if (versions && versions->size() == 2) {
        const VersionInfo& old = (*versions)[0];
        c.expect(old.version == 1 && old.image_bytes == kImageBytes && old.indirect_bytes > 0 &&
                     old.null_bytes == kSegmentBytes &&
                     old.null_bytes + old.direct_bytes + old.indirect_bytes == kImageBytes,
                 "v1 is read partly through v2");
      }
      auto head = client.head("vm", std::nullopt);
      c.expect(head.ok() && head->version == 2 && head->bytes == kImageBytes, "head latest");
      auto back1 = read_back(client, "vm", 1);
      auto back2 = read_back(client, "vm", 2);
      c.expect(back1.ok() && *back1 == v1, "v1 reads back byte-identical");
      c.expect(back2.ok() && *back2 == v2, "v2 reads back byte-identical");

      auto removed = client.remove("vm", 1);
      c.expect(removed.ok(), "remove v1: " + (removed ? "" : removed.error().message()));
      auto after = client.list_versions("vm");
      c.expect(after.ok() && after->size() == 1 && (*after)[0].version == 2, "v1 is gone");
      auto gone = read_back(client, "vm", 1);
      c.expect(!gone.ok() && gone.code() == Errc::not_found && client.last_status() == 404,
               "a read of v1 is 404");
      auto gc = client.gc();
      c.expect(gc.ok(), "gc: " + (gc ? "" : gc.error().message()));
      auto verify = client.verify();
      c.expect(verify.ok() && verify->clean() && verify->versions_checked == 1, "verify clean");
      Status checked = client.check();
      c.expect(checked.ok(), "check: " + (checked ? "" : checked.error().message()));
      auto stats = client.stats();
      c.expect(stats.ok() && stats->balanced() && stats->versions == 1 && stats->images == 1,
               "stats balance");
      auto again = read_back(client, "vm", 2);
      c.expect(again.ok() && *again == v2, "v2 still reads back");
    });
    require_clean(c, result);
  }
}

TEST_CASE("dedup api: bad requests get a 4xx with a reason, mapped to the client's errors",
          "[sim]") {
  Checks c;
  const SimResult result = run_dedup(7, [&](Runtime& rt, DedupClient& client) {
    const auto expect_refusal = [&](const std::string& what, Errc code, int status,
                                    const Error* e) {
      c.expect(e != nullptr && e->code == code && client.last_status() == status,
               what + ": " + (e ? e->message() : "no error") + ", HTTP " +
                   std::to_string(client.last_status()));
    };
    auto versions = client.list_versions("nothing");
    expect_refusal("an unknown image", Errc::not_found, 404,
                   versions ? nullptr : &versions.error());
    auto removed = client.remove("nothing", 1);
    expect_refusal("removing an unknown version", Errc::not_found, 404,
                   removed ? nullptr : &removed.error());
    // A segment whose bytes do not hash to its fingerprint.
    std::string bytes(kBlockBytes, 'x');
    auto put = client.put_segment(Hasher::of(HashKind::sha256, "other"), bytes);
    expect_refusal("a segment that does not match", Errc::protocol, 422,
                   put ? nullptr : &put.error());
    // A commit naming a segment never uploaded.
    ImageCutter cutter(CutterOptions{kSegmentBytes});
    std::vector<CutSegment> done;
    REQUIRE(cutter.feed(std::string(kSegmentBytes, 'q'), done).ok());
    (void)cutter.finish();
    auto commit = client.commit("vm", cutter.manifest());
    expect_refusal("a commit of a missing segment", Errc::protocol, 409,
                   commit ? nullptr : &commit.error());
    // Raw requests a client library would never send.
    http::HttpClient raw(rt, Endpoint{kServer, kPort});
    const auto status_of = [&](const std::string& method, const std::string& target,
                               const std::string& body) {
      http::ClientRequest r;
      r.method = method;
      r.target = target;
      r.body = body;
      auto got = raw.request(r, rt.now() + 10s);
      return got ? got->status : 0;
    };
    c.expect(status_of("PUT", "/segments/not-hex", "x") == 400, "a malformed fingerprint");
    c.expect(status_of("POST", "/segments/query", "zz\n") == 400, "a malformed query line");
    c.expect(status_of("POST", "/images/vm/versions", "not a manifest") == 400,
             "a malformed manifest");
    c.expect(status_of("GET", "/images/vm/versions/abc", "") / 100 == 4, "a version not a number");
    c.expect(status_of("DELETE", "/images/vm/versions/latest", "") / 100 == 4,
             "removing \"latest\"");
    c.expect(status_of("GET", "/nowhere", "") == 404, "an unknown path");
    c.expect(status_of("PATCH", "/images", "") == 405, "an unknown method");
    // And the server still serves.
    c.expect(client.info().ok(), "info after the refusals");
    Status checked = client.check();
    c.expect(checked.ok(), "check after the refusals");
  });
  require_clean(c, result);
}

namespace {

// The users of the access tests: name, password, role.
struct TestUser {
  const char* name;
  const char* password;
};
constexpr TestUser kAlice{"alice", "alice-pw"}, kBob{"bob", "bob-pw"},
    kNightly{"nightly", "nightly-pw"}, kOps{"ops", "ops-pw"};

DedupSettings settings_with_users() {
  std::string htpasswd = "# test users\n";
  int salt = 0;
  for (const TestUser& u : {kAlice, kBob, kNightly, kOps}) {
    auto hash =
        access::bcrypt_hash(u.password, 4, std::string(16, static_cast<char>('a' + salt++)));
    REQUIRE(hash.ok());
    htpasswd += std::string(u.name) + ":" + *hash + "\n";
  }
  auto users = access::Users::parse(htpasswd, "test.htpasswd");
  REQUIRE(users.ok());
  DedupSettings s = small_settings();
  s.access.users = std::make_shared<const access::Users>(std::move(*users));
  s.policy.private_repos = true;
  s.policy.append_only = {"nightly"};
  s.policy.admins = {"ops"};
  return s;
}

DedupClient client_as(Runtime& rt, const TestUser& u, const char* password = nullptr) {
  return DedupClient(rt, Endpoint{kServer, kPort},
                     test_client_options(access::basic_authorization(
                         u.name, password != nullptr ? password : u.password)));
}

}  // namespace

TEST_CASE("dedup api: with users, 401 without the right credentials, 403 where a role forbids",
          "[sim]") {
  Checks c;
  DedupSim sim(7, settings_with_users());
  const std::string bytes = first_version(7);
  const bool ran = sim.run([&](Runtime& rt, DedupClient& anonymous) {
    // A refusal of who asks (401) or of what they may do (403), as the client maps it.
    auto denied = [&](const auto& result, DedupClient& by, int status, const std::string& what) {
      c.expect(!result.ok() && result.code() == Errc::denied && by.last_status() == status,
               what + " is refused with " + std::to_string(status));
    };
    // Every route refuses a request without credentials, or with a wrong password.
    denied(anonymous.info(), anonymous, 401, "info without credentials");
    denied(anonymous.list_images(), anonymous, 401, "a listing without credentials");
    denied(anonymous.stats(), anonymous, 401, "stats without credentials");
    denied(anonymous.gc(), anonymous, 401, "gc without credentials");
    denied(anonymous.metrics(), anonymous, 401, "metrics without credentials");
    denied(anonymous.remove("alice.disk", 1), anonymous, 401, "a remove without credentials");
    DedupClient wrong = client_as(rt, kAlice, "not-alice-pw");
    denied(wrong.info(), wrong, 401, "a wrong password");
    DedupClient unknown = client_as(rt, TestUser{"mallory", "x"});
    denied(unknown.list_images(), unknown, 401, "an unknown user");

    // A user keeps to its own images under private_repos.
    DedupClient alice = client_as(rt, kAlice), bob = client_as(rt, kBob);
    auto mine = put(rt, alice, "alice.disk", bytes, nullptr);
    c.expect(mine.ok(), "alice backs up alice.disk: " + (mine ? "" : mine.error().message()));
    auto theirs = put(rt, alice, "bob.disk", bytes, nullptr);
    c.expect(!theirs.ok() && theirs.code() == Errc::denied && alice.last_status() == 403,
             "alice may not commit to bob.disk (403)");
    auto listed = bob.list_images();
    c.expect(listed.ok() && listed->empty(), "bob's listing leaves alice's image out");
    denied(bob.list_versions("alice.disk"), bob, 403, "bob listing alice's versions");
    denied(read_back(bob, "alice.disk", 1), bob, 403, "bob reading alice's image");
    denied(bob.remove("alice.disk", 1), bob, 403, "bob removing alice's version");

    // An append-only user puts, reads, lists and verifies; it may not remove nor gc.
    DedupClient nightly = client_as(rt, kNightly);
    auto v1 = put(rt, nightly, "nightly", bytes, nullptr);
    auto v2 = put(rt, nightly, "nightly.db", second_version(bytes), nullptr);
    c.expect(v1.ok() && v2.ok(), "the append-only user backs up");
    auto back = read_back(nightly, "nightly", 1);
    c.expect(back.ok() && *back == bytes, "the append-only user reads back");
    auto its = nightly.list_images();
    c.expect(its.ok() && its->size() == 2, "the append-only user lists its images");
    auto verify = nightly.verify();
    c.expect(verify.ok() && verify->clean(), "the append-only user verifies");
    denied(nightly.remove("nightly", 1), nightly, 403, "an append-only remove");
    denied(nightly.gc(), nightly, 403, "an append-only gc");
    auto still = nightly.list_versions("nightly");
    c.expect(still.ok() && still->size() == 1, "the refused remove removed nothing");

    // An admin sees and may remove every image.
    DedupClient ops = client_as(rt, kOps);
    auto all = ops.list_images();
    c.expect(all.ok() && all->size() == 3, "the admin lists every image");
    auto removed = ops.remove("alice.disk", 1);
    c.expect(removed.ok(), "the admin removes alice's version");
    auto gc = alice.gc();
    c.expect(gc.ok(), "a full user runs gc");
  });
  require_clean(c, SimResult::of(sim.world(), ran));
}
