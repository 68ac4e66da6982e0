// Trace files: round trips, and a reader that survives any damage.

#include "sim/trace_file.h"

#include <rapidcheck/catch.h>

#include <catch2/catch.hpp>

#include "sim/trace_log.h"

using namespace doppel;
using namespace doppel::sim;

namespace {

TraceFile sample_trace(int events) {
  TraceFile t;
  t.header.build_id = "abc";
  t.header.scenario_name = "s";
  t.header.scenario_toml = "name = 's'\n";
  t.header.seed = 42;
  t.header.fault_plan_toml = "[ambient]\n";
  t.header.passed = false;
  t.header.failed_property = "p";
  t.header.failure_detail = "why";
  TraceLog log(true);
  for (int i = 0; i < events; ++i) {
    log.add(instant_ns(i * 1000), static_cast<NodeId>(i % 3), 0,
            Event("Thing").detail("i", i).detail("text", "v" + std::to_string(i)));
  }
  t.records = log.records();
  t.header.event_count = log.count();
  t.header.trace_hash = log.hash();
  return t;
}

}  // namespace

TEST_CASE("trace file: what is written reads back the same", "[unit]") {
  const TraceFile t = sample_trace(100);
  auto back = decode_trace(encode_trace(t));
  REQUIRE(back.ok());
  REQUIRE(back->records == t.records);
  REQUIRE(back->header.seed == 42);
  REQUIRE(back->header.failed_property == "p");
  REQUIRE_FALSE(back->header.passed);
  REQUIRE(back->header.trace_hash == t.header.trace_hash);
  REQUIRE(format_record(back->records[7]) == "t=0.000007000 n1/c0 Thing i=7 text=\"v7\"");
}

TEST_CASE("trace file: a foreign, empty or truncated file is an error, not a crash", "[unit]") {
  const std::string good = encode_trace(sample_trace(10));
  REQUIRE_FALSE(decode_trace("").ok());
  REQUIRE_FALSE(decode_trace("hello, world").ok());
  REQUIRE_THAT(decode_trace("hello, world").error().what, Catch::Contains("not a zstd frame"));
  for (std::size_t cut = 0; cut < good.size(); ++cut) {
    REQUIRE_FALSE(decode_trace(std::string_view(good).substr(0, cut)).ok());
  }
}

TEST_CASE("trace file: any mutation is either rejected or harmless (reader fuzz)", "[prop]") {
  const TraceFile original = sample_trace(50);
  const std::string good = encode_trace(original);
  rc::prop("decode(mutate(file)) never crashes", [&] {
    std::string bytes = good;
    const int edits = *rc::gen::inRange(1, 8);
    for (int e = 0; e < edits; ++e) {
      const int kind = *rc::gen::inRange(0, 4);
      const std::size_t at = *rc::gen::inRange<std::size_t>(0, bytes.size());
      if (kind == 0) {
        bytes[at] = static_cast<char>(bytes[at] ^ (1 << *rc::gen::inRange(0, 8)));
      } else if (kind == 1) {
        bytes.resize(at);
      } else if (kind == 2) {
        bytes.insert(at, 1, static_cast<char>(*rc::gen::inRange(0, 256)));
      } else {
        bytes[at] = static_cast<char>(*rc::gen::inRange(0, 256));
      }
      if (bytes.empty()) break;
    }
    auto t = decode_trace(bytes);
    if (t.ok()) RC_ASSERT(t->records == original.records);
  });
}

TEST_CASE("trace file: a damaged but decompressible payload fails its checksum", "[unit]") {
  // Re-encode with one record changed after the fact: the checksum catches it.
  TraceFile t = sample_trace(5);
  std::string raw = encode_trace(t);
  t.records[2][0] ^= 1;
  REQUIRE(decode_trace(encode_trace(t))->records[2] == t.records[2]);  // a valid new file
  REQUIRE(decode_trace(raw)->records[2] != t.records[2]);
}
