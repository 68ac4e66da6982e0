// The bodies of the backup API (components/dedup/api/wire.h): each one written reads back the
// same (RapidCheck over every field), and each malformed body is refused with an error, never
// read as something else.

#include "components/dedup/api/wire.h"

#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <catch2/catch.hpp>
#include <cctype>
#include <string>
#include <vector>

using namespace doppel;
using namespace doppel::dedup;

namespace {

// Names of bytes with quotes, controls and UTF-8 in them.
rc::Gen<std::string> gen_name() {
  return rc::gen::container<std::string>(rc::gen::oneOf(
      rc::gen::inRange<char>('a', 'z' + 1), rc::gen::elementOf(std::string("\"\\/\n\t@. ")),
      rc::gen::map(rc::gen::inRange(0x80, 0x100), [](int b) { return static_cast<char>(b); })));
}

std::uint64_t any_u64() {
  return *rc::gen::oneOf(rc::gen::arbitrary<std::uint64_t>(),
                         rc::gen::inRange<std::uint64_t>(0, 1000));
}

std::uint32_t any_u32() {
  return *rc::gen::arbitrary<std::uint32_t>();
}

bool same(const StoreStats& a, const StoreStats& b) {
  return a.images == b.images && a.versions == b.versions && a.segments == b.segments &&
         a.complete_segments == b.complete_segments && a.logical_bytes == b.logical_bytes &&
         a.null_bytes == b.null_bytes && a.direct_bytes == b.direct_bytes &&
         a.indirect_bytes == b.indirect_bytes && a.segment_data_bytes == b.segment_data_bytes &&
         a.stored_bytes == b.stored_bytes && a.punched_bytes == b.punched_bytes &&
         a.compacted_bytes == b.compacted_bytes && a.unreferenced_bytes == b.unreferenced_bytes &&
         a.blocks_reverse_deduped == b.blocks_reverse_deduped &&
         a.blocks_punched == b.blocks_punched && a.segments_compacted == b.segments_compacted &&
         a.segments_dropped == b.segments_dropped && a.intents_replayed == b.intents_replayed;
}

bool same(const CommitResult& a, const CommitResult& b) {
  return a.version == b.version && a.new_segment_refs == b.new_segment_refs &&
         a.blocks_reverse_deduped == b.blocks_reverse_deduped &&
         a.blocks_removed == b.blocks_removed && a.segments_punched == b.segments_punched &&
         a.segments_compacted == b.segments_compacted && a.segments_dropped == b.segments_dropped;
}

bool same(const ImageSummary& a, const ImageSummary& b) {
  return a.name == b.name && a.versions == b.versions && a.oldest == b.oldest &&
         a.latest == b.latest && a.latest_bytes == b.latest_bytes &&
         a.logical_bytes == b.logical_bytes;
}

bool same(const VerifyReport& a, const VerifyReport& b) {
  if (a.segments_checked != b.segments_checked || a.blocks_checked != b.blocks_checked ||
      a.versions_checked != b.versions_checked || a.damage_count != b.damage_count ||
      a.problems != b.problems || a.damage.size() != b.damage.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.damage.size(); ++i) {
    const Damage& x = a.damage[i];
    const Damage& y = b.damage[i];
    if (x.image != y.image || x.version != y.version || x.offset != y.offset ||
        x.length != y.length || x.what != y.what) {
      return false;
    }
  }
  return true;
}

Fingerprint fp_of(HashKind kind, std::string_view bytes) {
  return Hasher::of(kind, bytes);
}

}  // namespace

TEST_CASE("dedup wire: info reads back, and limits out of range are refused", "[prop]") {
  rc::prop("info_from_json(info_to_json(i)) == i", [] {
    ServerInfo i;
    i.hash = *rc::gen::element(HashKind::sha256, HashKind::sha1);
    i.segment_bytes_max = *rc::gen::inRange<std::uint32_t>(1, kSegmentBytesMax + 1);
    i.segment_bytes = *rc::gen::inRange<std::uint32_t>(0, i.segment_bytes_max + 1);
    i.image_bytes_max = any_u64();
    i.query_fingerprints_max = *rc::gen::inRange<std::uint32_t>(1, UINT32_MAX);
    auto back = info_from_json(info_to_json(i));
    RC_ASSERT(back.ok());
    RC_ASSERT(back->hash == i.hash);
    RC_ASSERT(back->segment_bytes == i.segment_bytes);
    RC_ASSERT(back->segment_bytes_max == i.segment_bytes_max);
    RC_ASSERT(back->image_bytes_max == i.image_bytes_max);
    RC_ASSERT(back->query_fingerprints_max == i.query_fingerprints_max);
  });
  const std::string ok =
      info_to_json(ServerInfo{HashKind::sha256, 1u << 20, 4u << 20, 1u << 30, 8});
  REQUIRE(info_from_json(ok).ok());
  auto with = [&](const std::string& from, const std::string& to) {
    std::string text = ok;
    const auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
  };
  const std::vector<std::string> bad = {
      "",
      "[]",
      "{\"hash\":\"sha256\"}",
      "not json",
      with("\"sha256\"", "\"md5\""),
      with("\"sha256\"", "256"),
      with("\"segment_bytes\":1048576", "\"segment_bytes\":5242880"),  // over the max
      with("\"segment_bytes_max\":4194304", "\"segment_bytes_max\":33554433"),
      with("\"query_fingerprints_max\":8", "\"query_fingerprints_max\":0"),
      with("\"query_fingerprints_max\":8", "\"query_fingerprints_max\":4294967296"),
      with("\"image_bytes_max\":1073741824", "\"image_bytes_max\":-1"),
      with("\"image_bytes_max\":1073741824", "\"image_bytes_max\":1.5"),
  };
  for (const std::string& body : bad) {
    INFO(body);
    auto got = info_from_json(body);
    REQUIRE_FALSE(got.ok());
    REQUIRE(got.code() == Errc::protocol);
  }
}

TEST_CASE("dedup wire: fingerprint lines read back in either case and line ending", "[unit]") {
  for (const HashKind kind : {HashKind::sha256, HashKind::sha1}) {
    std::vector<Fingerprint> fps;
    for (int i = 0; i < 5; ++i) fps.push_back(fp_of(kind, "segment " + std::to_string(i)));
    const std::string body = encode_fingerprint_lines(fps);
    auto back = decode_fingerprint_lines(body, kind, 5);
    REQUIRE(back.ok());
    REQUIRE(*back == fps);
    // Upper case, CRLF, and no newline after the last line.
    std::string shouted;
    for (std::size_t i = 0; i < fps.size(); ++i) {
      std::string hex = fps[i].hex();
      for (char& c : hex) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      shouted += hex + (i + 1 < fps.size() ? "\r\n" : "");
    }
    auto upper = decode_fingerprint_lines(shouted, kind, 5);
    REQUIRE(upper.ok());
    REQUIRE(*upper == fps);
    auto over = decode_fingerprint_lines(body, kind, 4);
    REQUIRE(over.code() == Errc::too_large);
    REQUIRE(over.error().what == "more than 4 fingerprints in one query");
  }
  REQUIRE(decode_fingerprint_lines("", HashKind::sha256, 1)->empty());
}

TEST_CASE("dedup wire: a malformed fingerprint line is refused naming the line", "[unit]") {
  const std::string good = fp_of(HashKind::sha256, "a").hex() + "\n";
  const std::string sha1 = fp_of(HashKind::sha1, "a").hex() + "\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {good + sha1, "line 2: not a sha256 fingerprint (64 hex digits)"},
      {good + "\n", "line 2: not a sha256 fingerprint (64 hex digits)"},  // an empty line
      {"g" + good.substr(1), "line 1: not a sha256 fingerprint (64 hex digits)"},
      {good + good.substr(0, 63) + "\n", "line 2: not a sha256 fingerprint (64 hex digits)"},
      {good + " " + good, "line 2: not a sha256 fingerprint (64 hex digits)"},
  };
  for (const auto& [body, message] : cases) {
    auto got = decode_fingerprint_lines(body, HashKind::sha256, 100);
    REQUIRE(got.code() == Errc::invalid_argument);
    REQUIRE(got.error().what == message);
  }
  auto sha1_short = decode_fingerprint_lines(good, HashKind::sha1, 100);
  REQUIRE(sha1_short.error().what == "line 1: not a sha1 fingerprint (40 hex digits)");
}

TEST_CASE("dedup wire: presence answers read back; a wrong count or a stray byte is refused",
          "[unit]") {
  const std::vector<bool> present = {true, false, false, true};
  REQUIRE(encode_presence(present) == "1001\n");
  REQUIRE(*decode_presence("1001\n", 4) == present);
  REQUIRE(*decode_presence("1001", 4) == present);
  REQUIRE(decode_presence("\n", 0)->empty());
  for (const auto& [body, count] : std::vector<std::pair<std::string, std::size_t>>{
           {"100\n", 4}, {"10011\n", 4}, {"10x1\n", 4}, {"1001\n\n", 4}, {"", 1}}) {
    INFO(body);
    REQUIRE(decode_presence(body, count).code() == Errc::protocol);
  }
}

TEST_CASE("dedup wire: listings of images and versions read back", "[prop]") {
  rc::prop("images_from_json(images_to_json(s)) == s", [] {
    const auto count = *rc::gen::inRange(0, 5);
    std::vector<ImageSummary> images;
    for (int i = 0; i < count; ++i) {
      images.push_back(
          ImageSummary{*gen_name(), any_u64(), any_u64(), any_u64(), any_u64(), any_u64()});
    }
    auto back = images_from_json(images_to_json(images));
    RC_ASSERT(back.ok());
    RC_ASSERT(back->size() == images.size());
    for (std::size_t i = 0; i < images.size(); ++i) RC_ASSERT(same((*back)[i], images[i]));
  });
  rc::prop("versions_from_json(versions_to_json(v)) == v", [] {
    std::vector<VersionInfo> versions(*rc::gen::inRange<std::size_t>(0, 5));
    for (VersionInfo& v : versions)
      v = VersionInfo{any_u64(), any_u64(), any_u64(), any_u64(), any_u64()};
    auto back = versions_from_json(versions_to_json(*gen_name(), versions));
    RC_ASSERT(back.ok());
    RC_ASSERT(*back == versions);
  });
}

TEST_CASE("dedup wire: commit, remove and gc results read back", "[prop]") {
  rc::prop("commit", [] {
    const CommitResult c{any_u64(), any_u64(), any_u64(), any_u64(),
                         any_u32(), any_u32(), any_u32()};
    auto back = commit_from_json(commit_to_json(*gen_name(), c));
    RC_ASSERT(back.ok());
    RC_ASSERT(same(*back, c));
  });
  rc::prop("remove and gc", [] {
    const RemoveResult r{any_u64(), any_u64(), any_u64()};
    auto back = remove_from_json(remove_to_json(*gen_name(), any_u64(), r));
    RC_ASSERT(back.ok());
    RC_ASSERT(back->entries_repointed == r.entries_repointed);
    RC_ASSERT(back->blocks_removed == r.blocks_removed);
    RC_ASSERT(back->bytes_freed == r.bytes_freed);
    const GcReport g{any_u64(), any_u64()};
    auto gc = gc_from_json(gc_to_json(g));
    RC_ASSERT(gc.ok());
    RC_ASSERT(gc->segments_dropped == g.segments_dropped);
    RC_ASSERT(gc->bytes_freed == g.bytes_freed);
  });
}

TEST_CASE("dedup wire: verify reports and stats read back", "[prop]") {
  rc::prop("verify", [] {
    VerifyReport r;
    r.segments_checked = any_u64();
    r.blocks_checked = any_u64();
    r.versions_checked = any_u64();
    r.damage_count = any_u64();
    r.problems = *rc::gen::resize(4, rc::gen::container<std::vector<std::string>>(gen_name()));
    for (int i = 0, n = *rc::gen::inRange(0, 4); i < n; ++i) {
      r.damage.push_back(Damage{*gen_name(), any_u64(), any_u64(), any_u64(), *gen_name()});
    }
    const std::string json = verify_to_json(r);
    auto back = verify_from_json(json);
    RC_ASSERT(back.ok());
    RC_ASSERT(same(*back, r));
    RC_ASSERT((json.find("\"clean\":true") != std::string::npos) == r.clean());
  });
  rc::prop("stats", [] {
    StoreStats s;
    for (std::uint64_t* f :
         {&s.images, &s.versions, &s.segments, &s.complete_segments, &s.logical_bytes,
          &s.null_bytes, &s.direct_bytes, &s.indirect_bytes, &s.segment_data_bytes, &s.stored_bytes,
          &s.punched_bytes, &s.compacted_bytes, &s.unreferenced_bytes, &s.blocks_reverse_deduped,
          &s.blocks_punched, &s.segments_compacted, &s.segments_dropped, &s.intents_replayed}) {
      *f = any_u64();
    }
    const std::string json = stats_to_json(s);
    auto back = stats_from_json(json);
    RC_ASSERT(back.ok());
    RC_ASSERT(same(*back, s));
    RC_ASSERT((json.find("\"balanced\":true") != std::string::npos) == s.balanced());
  });
}

TEST_CASE("dedup wire: malformed result bodies are refused naming the member", "[unit]") {
  const CommitResult c{3, 1, 2, 0, 0, 0, 0};
  const std::string commit = commit_to_json("vm", c);
  auto with = [](std::string text, const std::string& from, const std::string& to) {
    const auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
  };
  const std::vector<std::pair<std::string, std::string>> commits = {
      {"", "json at byte 0: unexpected end"},
      {"[1]", "json: not an object"},
      {with(commit, "\"version\":3,", ""), "json: member \"version\": expected a whole number"},
      {with(commit, "\"version\":3", "\"version\":-3"),
       "json: member \"version\": expected a whole number"},
      {with(commit, "\"version\":3", "\"version\":\"3\""),
       "json: member \"version\": expected a whole number"},
      {with(commit, "\"segments_punched\":0", "\"segments_punched\":4294967296"),
       "json: member \"segments_punched\": too large"},
      {commit + "x", "json at byte " + std::to_string(commit.size()) + ": trailing bytes"},
  };
  for (const auto& [body, message] : commits) {
    INFO(body);
    auto got = commit_from_json(body);
    REQUIRE(got.code() == Errc::protocol);
    REQUIRE(got.error().what == message);
  }
  REQUIRE(
      commit_from_json(with(commit, "\"segments_punched\":0", "\"segments_punched\":4294967295"))
          ->segments_punched == UINT32_MAX);
  // Listings: the array, each item's name and fields.
  REQUIRE(images_from_json("{\"images\":{}}").error().what ==
          "json: member \"images\": expected an array");
  REQUIRE(images_from_json("{\"images\":[{\"versions\":1}]}").error().what ==
          "json: member \"name\": expected a string");
  REQUIRE(versions_from_json("{\"versions\":[{\"version\":1}]}").error().what ==
          "json: member \"bytes\": expected a whole number");
  REQUIRE(gc_from_json("{\"segments_dropped\":1}").error().what ==
          "json: member \"bytes_freed\": expected a whole number");
  REQUIRE(remove_from_json("{}").code() == Errc::protocol);
  REQUIRE(stats_from_json("{\"images\":1}").code() == Errc::protocol);
  // Verify: the problems must be strings, each damage complete.
  VerifyReport r;
  r.problems = {"dedup/segments/1"};
  r.damage.push_back(Damage{"vm", 1, 0, 4096, "block hash mismatch"});
  r.damage_count = 1;
  const std::string verify = verify_to_json(r);
  REQUIRE(verify_from_json(verify).ok());
  REQUIRE(verify_from_json(with(verify, "[\"dedup/segments/1\"]", "[7]")).error().what ==
          "json: a problem");
  REQUIRE(verify_from_json(with(verify, ",\"what\":\"block hash mismatch\"", "")).error().what ==
          "json: member \"what\": expected a string");
  REQUIRE(verify_from_json(with(verify, "\"damage\":[", "\"damage\":7,\"x\":[")).error().what ==
          "json: member \"damage\": expected an array");
}
