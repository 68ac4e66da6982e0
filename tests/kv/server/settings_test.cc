// KvSettings: every key of [kv], its range and its error with the line; check() on settings a
// driver filled in; the planted bugs by name.

#include "components/kv/settings.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "base/toml.h"

using namespace doppel;
using namespace doppel::kv;

namespace {

Result<KvSettings> read(std::string_view text) {
  auto t = parse_toml(text, "kv.toml");
  REQUIRE(t.ok());
  return KvSettings::read(*t, "kv.toml");
}

std::string refused(std::string_view text) {
  auto s = read(text);
  INFO(text);
  REQUIRE_FALSE(s.ok());
  REQUIRE(s.code() == Errc::invalid_argument);
  return s.error().what;
}

}  // namespace

TEST_CASE("kv settings: an empty table gives memcached's defaults", "[unit]") {
  auto s = read("");
  REQUIRE(s.ok());
  const KvSettings defaults;
  REQUIRE(s->memory_bytes == 64ull << 20);
  REQUIRE(s->segment_bytes == 2u << 20);
  REQUIRE(s->item_bytes_max == 1u << 20);
  REQUIRE(s->connections_max == 4096);
  REQUIRE_FALSE(s->trace_evictions);
  REQUIRE_FALSE(s->strict_keys);
  REQUIRE(s->planted_bug == KvPlantedBug::none);
  REQUIRE(s->core_ports == 0);
  REQUIRE(s->owner_hash == OwnerHash::murmur3);
  REQUIRE(defaults.check().ok());
}

TEST_CASE("kv settings: every key is read into its field", "[unit]") {
  auto s = read(R"(
memory_mb = 128
segment_kb = 1024
item_size_max = 65536
connections_max = 10
trace_evictions = true
strict_keys = true
core_ports = 11300
owner_hash = "libmemcached-murmur3"
metrics_listen = "127.0.0.1:9150"
)");
  REQUIRE(s.ok());
  REQUIRE(s->metrics_listen.has_value());
  REQUIRE(s->metrics_listen->port == 9150);
  REQUIRE(s->core_ports == 11300);
  REQUIRE(s->owner_hash == OwnerHash::libmemcached_murmur3);
  REQUIRE(s->memory_bytes == 128ull << 20);
  REQUIRE(s->segment_bytes == 1u << 20);
  REQUIRE(s->item_bytes_max == 65536);
  REQUIRE(s->connections_max == 10);
  REQUIRE(s->trace_evictions);
  REQUIRE(s->strict_keys);
  auto kb = read("memory_kb = 64\nsegment_kb = 16\nitem_size_max = 1024\n");
  REQUIRE(kb.ok());
  REQUIRE(kb->memory_bytes == 64u << 10);
  REQUIRE(kb->segment_bytes == 16u << 10);
}

TEST_CASE("kv settings: each bound is inclusive, one past it names file:line:'key'", "[unit]") {
  // The edges themselves are accepted.
  for (const char* ok : {"memory_mb = 1", "memory_mb = 1048576", "memory_kb = 1073741824",
                         "segment_kb = 65536\nitem_size_max = 16777216", "connections_max = 1",
                         "connections_max = 1048576"}) {
    INFO(ok);
    REQUIRE(read(ok).ok());
  }
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"memory_mb = 0", "kv.toml:1: 'memory_mb': must be between 1 and 1048576, got 0"},
      {"memory_mb = 1048577", "kv.toml:1: 'memory_mb': must be between 1 and 1048576, got 1048577"},
      {"memory_kb = 63", "kv.toml:1: 'memory_kb': must be between 64 and 1073741824, got 63"},
      {"\nsegment_kb = 8", "kv.toml:2: 'segment_kb': must be between 16 and 65536, got 8"},
      {"segment_kb = 131072", "kv.toml:1: 'segment_kb': must be between 16 and 65536, got 131072"},
      {"\n\nsegment_kb = 48", "kv.toml:3: 'segment_kb': must be a power of two"},
      {"item_size_max = 1023",
       "kv.toml:1: 'item_size_max': must be between 1024 and 16777216, got 1023"},
      {"segment_kb = 16\nitem_size_max = 16385",
       "kv.toml:2: 'item_size_max': larger than a segment (segment_kb)"},
      {"connections_max = 0", "kv.toml:1: 'connections_max': must be between 1 and 1048576, got 0"},
      {"trace_evictions = 1", "kv.toml:1: 'trace_evictions': expected true or false"},
      {"strict_keys = \"yes\"", "kv.toml:1: 'strict_keys': expected true or false"},
      {"memory_mb = \"64\"", "kv.toml:1: 'memory_mb': expected an integer"},
      {"memory_mb = 64\nmemory_kb = 65536",
       "kv.toml:2: 'memory_kb': give memory_mb or memory_kb, not both"},
      {"core_ports = 65536", "kv.toml:1: 'core_ports': must be between 0 and 65535, got 65536"},
      {"core_ports = -1", "kv.toml:1: 'core_ports': must be between 0 and 65535, got -1"},
      {"owner_hash = \"crc\"",
       "kv.toml:1: 'owner_hash': expected one of \"murmur3\", \"libmemcached-murmur3\", got "
       "\"crc\""},
  };
  for (const auto& [text, message] : cases) REQUIRE(refused(text) == message);
}

TEST_CASE("kv settings: an unknown key is refused with the keys there are", "[unit]") {
  REQUIRE(refused("memory_mb = 8\nbug = \"lost-at-roll\"\n") ==
          "kv.toml:2: 'bug': unknown key (expected one of: memory_mb, memory_kb, segment_kb, "
          "item_size_max, connections_max, trace_evictions, strict_keys, core_ports, owner_hash, "
          "metrics_listen)");
}

TEST_CASE("kv settings: check() refuses settings a driver got wrong, naming the key", "[unit]") {
  const auto refusal = [](KvSettings s) {
    const Status st = s.check();
    REQUIRE_FALSE(st.ok());
    REQUIRE(st.code() == Errc::invalid_argument);
    return st.error().what;
  };
  KvSettings s;
  s.memory_bytes = 0;
  REQUIRE(refusal(s) == "memory: zero bytes");
  s = KvSettings{};
  s.segment_bytes = 3u << 20;
  REQUIRE(refusal(s) == "segment_kb: must be a power of two");
  s.segment_bytes = 0;
  REQUIRE(refusal(s) == "segment_kb: must be a power of two");
  s = KvSettings{};
  s.item_bytes_max = s.segment_bytes + 1;
  REQUIRE(refusal(s) == "item_size_max: larger than a segment (segment_kb)");
  s = KvSettings{};
  s.connections_max = 0;
  REQUIRE(refusal(s) == "connections_max: zero");
  s = KvSettings{};
  s.item_bytes_max = s.segment_bytes;  // the edge: an item may fill a segment
  REQUIRE(s.check().ok());
}

TEST_CASE("kv settings: per-core ports must fit below 65536 and leave out the listen port",
          "[unit]") {
  KvSettings s;
  REQUIRE(s.check_ports(11211, 64).ok());  // off: nothing to fit
  s.core_ports = 11300;
  REQUIRE(s.check_ports(11211, 4).ok());
  REQUIRE(s.check_ports(11304, 4).ok());  // just past the last core's port
  REQUIRE(s.check_ports(11299, 4).ok());  // just before the first
  auto refusal = [&](std::uint16_t listen, std::uint32_t cores) {
    const Status st = s.check_ports(listen, cores);
    REQUIRE_FALSE(st.ok());
    return st.error().what;
  };
  REQUIRE(refusal(11303, 4) == "core_ports: ports 11300..11303 take in the listen port 11303");
  REQUIRE(refusal(11300, 1) == "core_ports: ports 11300..11300 take in the listen port 11300");
  s.core_ports = 65534;
  REQUIRE(s.check_ports(11211, 2).ok());
  REQUIRE(refusal(11211, 3) == "core_ports: 3 cores from port 65534 run past port 65535");
}

TEST_CASE("kv settings: planted bugs are found by name, unknown names refused", "[unit]") {
  REQUIRE(*kv_planted_bug("") == KvPlantedBug::none);
  REQUIRE(*kv_planted_bug("swapped-replies") == KvPlantedBug::swapped_replies);
  REQUIRE(*kv_planted_bug("lost-at-roll") == KvPlantedBug::lost_at_roll);
  REQUIRE(*kv_planted_bug("core-port-runs-local") == KvPlantedBug::core_port_runs_local);
  auto unknown = kv_planted_bug("ack-early");
  REQUIRE_FALSE(unknown.ok());
  REQUIRE(unknown.error().what == "bug: kv has no planted bug 'ack-early'");
}

TEST_CASE("kv settings: metrics_listen must be host:port and a port of its own", "[unit]") {
  REQUIRE_FALSE(read("").value().metrics_listen.has_value());
  const std::string bad = refused("metrics_listen = \"nowhere\"");
  INFO(bad);
  REQUIRE(bad.starts_with("kv.toml:1: 'metrics_listen': 'nowhere' is not host:port"));
  auto same = read("metrics_listen = \"127.0.0.1:11211\"");
  REQUIRE(same.ok());
  REQUIRE(same->check_ports(11211, 2).error().what ==
          "metrics_listen: port 11211 is the memcached listen port; give it a port of its own");
  auto among = read("core_ports = 11300\nmetrics_listen = \"127.0.0.1:11301\"");
  REQUIRE(among.ok());
  REQUIRE(among->check_ports(11211, 2).error().what ==
          "metrics_listen: port 11301 is one of the cores' ports (core_ports)");
  REQUIRE(among->check_ports(11211, 1).ok());  // one core: only 11300 is a core's
}
