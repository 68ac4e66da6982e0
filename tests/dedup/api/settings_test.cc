// DedupSettings: every key of [dedup], its range and its error with the line; unknown keys;
// the planted bugs by name; the manifest size the HTTP body limit must admit.

#include "components/dedup/settings.h"

#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "base/toml.h"
#include "components/access/users.h"

using namespace doppel;
using namespace doppel::dedup;
using namespace std::chrono_literals;

namespace {

Result<DedupSettings> read(std::string_view text) {
  auto t = parse_toml(text, "dedup.toml");
  REQUIRE(t.ok());
  return DedupSettings::read(*t, "dedup.toml");
}

std::string refused(std::string_view text) {
  auto s = read(text);
  INFO(text);
  REQUIRE_FALSE(s.ok());
  REQUIRE(s.code() == Errc::invalid_argument);
  return s.error().what;
}

}  // namespace

TEST_CASE("dedup settings: an empty table gives the defaults, and they pass check()", "[unit]") {
  auto s = read("");
  REQUIRE(s.ok());
  REQUIRE(s->segment_bytes == kSegmentBytesDefault);
  REQUIRE(s->store.segment_bytes_max == kSegmentBytesDefault);
  REQUIRE(s->store.hash == HashKind::sha256);
  REQUIRE(s->store.rebuild_threshold_percent == 20);
  REQUIRE(s->store.cross_dedup_segments_per_mib == 4);
  REQUIRE(s->store.image_bytes_max == 64ull << 30);
  REQUIRE(s->store.unreferenced_ttl == 3600s);
  REQUIRE(s->store.verify_reads);
  REQUIRE(s->connections_max == 64);
  REQUIRE(s->store.planted_bug == PlantedBug::none);
  REQUIRE(s->check().ok());
  REQUIRE(DedupSettings{}.check().ok());
}

TEST_CASE("dedup settings: every key is read into its field", "[unit]") {
  auto s = read(R"(
segment_mb = 8
hash = "sha1"
rebuild_threshold_percent = 0
cross_dedup_segments_per_mib = 0
image_gb = 2
unreferenced_ttl_s = 0
verify_reads = false
connections_max = 3
)");
  REQUIRE(s.ok());
  REQUIRE(s->segment_bytes == 8u << 20);
  REQUIRE(s->store.segment_bytes_max == 8u << 20);  // the store accepts what clients cut
  REQUIRE(s->store.hash == HashKind::sha1);
  REQUIRE(s->store.rebuild_threshold_percent == 0);
  REQUIRE(s->store.cross_dedup_segments_per_mib == 0);
  REQUIRE(s->store.image_bytes_max == 2ull << 30);
  REQUIRE(s->store.unreferenced_ttl == 0s);
  REQUIRE_FALSE(s->store.verify_reads);
  REQUIRE(s->connections_max == 3);
}

TEST_CASE("dedup settings: each bound is inclusive, one past it names file:line:'key'", "[unit]") {
  for (const char* ok : {"segment_mb = 1", "segment_mb = 32", "rebuild_threshold_percent = 100",
                         "cross_dedup_segments_per_mib = 256", "image_gb = 1", "image_gb = 1024",
                         "unreferenced_ttl_s = 31536000", "connections_max = 65536"}) {
    INFO(ok);
    REQUIRE(read(ok).ok());
  }
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"segment_mb = 0", "dedup.toml:1: 'segment_mb': must be between 1 and 32, got 0"},
      {"\nsegment_mb = 33", "dedup.toml:2: 'segment_mb': must be between 1 and 32, got 33"},
      {"hash = \"md5\"", "dedup.toml:1: 'hash': expected one of \"sha256\", \"sha1\", got \"md5\""},
      {"hash = 256", "dedup.toml:1: 'hash': expected a string"},
      {"rebuild_threshold_percent = 101",
       "dedup.toml:1: 'rebuild_threshold_percent': must be between 0 and 100, got 101"},
      {"cross_dedup_segments_per_mib = 257",
       "dedup.toml:1: 'cross_dedup_segments_per_mib': must be between 0 and 256, got 257"},
      {"image_gb = 0", "dedup.toml:1: 'image_gb': must be between 1 and 1024, got 0"},
      {"image_gb = 1025", "dedup.toml:1: 'image_gb': must be between 1 and 1024, got 1025"},
      {"unreferenced_ttl_s = -1",
       "dedup.toml:1: 'unreferenced_ttl_s': must be between 0 and 31536000, got -1"},
      {"verify_reads = \"yes\"", "dedup.toml:1: 'verify_reads': expected true or false"},
      {"connections_max = 0",
       "dedup.toml:1: 'connections_max': must be between 1 and 65536, got 0"},
      {"connections_max = 65537",
       "dedup.toml:1: 'connections_max': must be between 1 and 65536, got 65537"},
  };
  for (const auto& [text, message] : cases) REQUIRE(refused(text) == message);
}

TEST_CASE("dedup settings: an unknown key is refused with the keys there are", "[unit]") {
  REQUIRE(refused("segment_mb = 4\n\nbug = \"skip-decrement\"\n") ==
          "dedup.toml:3: 'bug': unknown key (expected one of: segment_mb, hash, "
          "rebuild_threshold_percent, cross_dedup_segments_per_mib, image_gb, unreferenced_ttl_s, "
          "verify_reads, "
          "connections_max, insecure, users_file, tls_cert_file, tls_key_file, tls_ca_file, "
          "private_repos, append_only, admins)");
}

TEST_CASE("dedup settings: users, roles and TLS files are read through the reader, or refused",
          "[unit]") {
  auto hash = access::bcrypt_hash("pw", 4, "0123456789abcdef");
  REQUIRE(hash.ok());
  const std::map<std::string, std::string> files{
      {"users", "alice:" + *hash + "\nnightly:" + *hash + "\n"},
      {"empty", "# nobody\n"},
      {"cert.pem", "CERT"},
      {"key.pem", "KEY"}};
  const FileReader reader = [&](const std::string& path) -> Result<std::string> {
    auto it = files.find(path);
    if (it == files.end()) return make_error(Errc::not_found, "cannot open " + path);
    return it->second;
  };
  auto with = [&](std::string_view text) {
    auto t = parse_toml(text, "dedup.toml");
    REQUIRE(t.ok());
    return DedupSettings::read(*t, "dedup.toml", reader);
  };
  auto s = with(
      "users_file = \"users\"\nprivate_repos = true\nappend_only = [\"nightly\"]\n"
      "admins = [\"alice\"]\ntls_cert_file = \"cert.pem\"\ntls_key_file = \"key.pem\"\n");
  REQUIRE(s.ok());
  REQUIRE(s->access.users != nullptr);
  REQUIRE(s->access.users->check("alice", "pw"));
  REQUIRE(s->policy.private_repos);
  REQUIRE(s->policy.append_only.count("nightly") == 1);
  REQUIRE(s->policy.admins.count("alice") == 1);
  REQUIRE(s->access.tls.has_value());
  REQUIRE(s->access.tls->cert_pem == "CERT");
  REQUIRE(s->access.tls->key_pem == "KEY");
  // Defaults: nobody, no roles, no TLS, loopback only.
  auto open = with("");
  REQUIRE(open.ok());
  REQUIRE(open->access.users == nullptr);
  REQUIRE_FALSE(open->access.tls.has_value());
  REQUIRE_FALSE(open->access.insecure);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"users_file = \"missing\"", "dedup.toml:1: 'users_file': cannot open missing"},
      {"users_file = \"empty\"", "dedup.toml:1: 'users_file': lists no users: nobody could get in"},
      {"private_repos = true",
       "dedup.toml:1: 'private_repos': needs a users_file (without users there is nobody to keep "
       "apart)"},
      {"users_file = \"users\"\nappend_only = [\"bob\"]",
       "dedup.toml:2: 'append_only': user 'bob' is not in the users_file"},
      {"users_file = \"users\"\nadmins = \"alice\"",
       "dedup.toml:2: 'admins': expected an array of strings"},
      {"tls_cert_file = \"cert.pem\"",
       "dedup.toml:1: 'tls_cert_file': tls_cert_file and tls_key_file go together"},
  };
  for (const auto& [text, message] : cases) {
    auto r = with(text);
    INFO(text);
    REQUIRE_FALSE(r.ok());
    REQUIRE(r.error().what == message);
  }
}

TEST_CASE("dedup settings: planted bugs are found by name, unknown names refused", "[unit]") {
  REQUIRE(*dedup_planted_bug("") == PlantedBug::none);
  REQUIRE(*dedup_planted_bug("skip-decrement") == PlantedBug::skip_decrement);
  // commit-unsynced became syncs-lie, a disk the tests plant (tests/planted/).
  REQUIRE_FALSE(dedup_planted_bug("commit-unsynced").ok());
  REQUIRE(*dedup_planted_bug("verify-skips-data") == PlantedBug::verify_skips_data);
  auto unknown = dedup_planted_bug("lost-at-roll");
  REQUIRE_FALSE(unknown.ok());
  REQUIRE(unknown.error().what == "bug: dedup has no planted bug 'lost-at-roll'");
}

TEST_CASE("dedup settings: check() refuses store options out of their bounds", "[unit]") {
  DedupSettings s;
  s.store.rebuild_threshold_percent = 101;
  REQUIRE_FALSE(s.check().ok());
  s = DedupSettings{};
  s.store.segment_bytes_max = kSegmentBytesMax + 1;
  REQUIRE_THAT(s.check().error().what, Catch::StartsWith("segment_bytes_max: "));
  s = DedupSettings{};
  s.store.image_bytes_max = 0;
  REQUIRE_THAT(s.check().error().what, Catch::StartsWith("image_bytes_max: "));
}

TEST_CASE("dedup settings: the manifest limit grows with the image and the digest", "[unit]") {
  DedupSettings small;
  small.store.image_bytes_max = 1ull << 30;
  DedupSettings large = small;
  large.store.image_bytes_max = 2ull << 30;
  DedupSettings sha1 = small;
  sha1.store.hash = HashKind::sha1;
  REQUIRE(manifest_bytes_max(large) > manifest_bytes_max(small));
  REQUIRE(manifest_bytes_max(sha1) < manifest_bytes_max(small));
  // At least a digest and a flag per 4 KiB block.
  REQUIRE(manifest_bytes_max(small) > (small.store.image_bytes_max / kBlockBytes) * 33);
}
