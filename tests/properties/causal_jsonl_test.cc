// doppel check causal's reader and verdicts (properties/dvv/causal_jsonl.h): what a history of
// a Riak-style store's clients may and may not show.

#include "properties/dvv/causal_jsonl.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace doppel::properties::dvv {
namespace {

std::string list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const std::string& s : items) out += (out.size() > 1 ? ",\"" : "\"") + s + "\"";
  return out + "]";
}

// One event of process `p` on key "k" (or `key`).
std::string put(int p, const std::string& value,
                std::optional<std::vector<std::string>> observed = std::nullopt,
                const std::string& key = "k") {
  std::string line = "{\"process\":" + std::to_string(p) +
                     ",\"type\":\"invoke\",\"f\":\"put\",\"key\":\"" + key + "\",\"value\":\"" +
                     value + "\"";
  if (observed) line += ",\"observed\":" + list(*observed);
  return line + ",\"time\":1}";
}
std::string remove(int p, std::optional<std::string> tombstone,
                   std::optional<std::vector<std::string>> observed) {
  std::string line =
      "{\"process\":" + std::to_string(p) + ",\"type\":\"invoke\",\"f\":\"delete\",\"key\":\"k\"";
  if (tombstone) line += ",\"value\":\"" + *tombstone + "\"";
  if (observed) line += ",\"observed\":" + list(*observed);
  return line + "}";
}
std::string get(int p, bool final = false, const std::string& key = "k") {
  return "{\"process\":" + std::to_string(p) + ",\"type\":\"invoke\",\"f\":\"get\",\"key\":\"" +
         key + "\"" + (final ? ",\"final\":true}" : "}");
}
std::string ended(int p, const char* type, const char* f, const std::string& key = "k") {
  return "{\"process\":" + std::to_string(p) + ",\"type\":\"" + type + "\",\"f\":\"" + f +
         "\",\"key\":\"" + key + "\"}";
}
std::string read(int p, const std::vector<std::string>& siblings, const std::string& key = "k") {
  return "{\"process\":" + std::to_string(p) + ",\"type\":\"ok\",\"f\":\"get\",\"key\":\"" + key +
         "\",\"value\":" + list(siblings) + "}";
}

CausalReport check(const std::vector<std::string>& lines) {
  CausalCheck c;
  for (const std::string& l : lines) {
    const Status s = c.line(l);
    INFO(l);
    REQUIRE(s.ok());
  }
  return c.finish();
}

// The error the lines end in.
std::string refused(const std::vector<std::string>& lines) {
  CausalCheck c;
  for (const std::string& l : lines) {
    if (Status s = c.line(l); !s) return s.error().what;
  }
  return "";
}

std::uint64_t count(const CausalReport& r, const char* kind) {
  const auto it = r.counts.find(kind);
  return it == r.counts.end() ? 0 : it->second;
}

TEST_CASE("a final read holding every acknowledged value, or one written knowing it, passes",
          "[causal]") {
  const CausalReport r = check({put(1, "a"), ended(1, "ok", "put"), get(2), read(2, {"a"}),
                                put(2, "b", {{"a"}}), ended(2, "ok", "put"), put(1, "c"),
                                ended(1, "ok", "put"), get(3, true), read(3, {"b", "c"})});
  CHECK(r.ok());
  CHECK(r.operations == 5);
  CHECK(r.writes == 3);
  CHECK(r.acked == 3);
  CHECK(r.reads == 2);
  CHECK(r.final_reads == 1);
  CHECK(r.keys_unjudged == 0);
}

TEST_CASE("an acknowledged value missing from a final read is lost; from any other read it is not",
          "[causal]") {
  const CausalReport sloppy = check({put(1, "a"), ended(1, "ok", "put"), put(1, "b"),
                                     ended(1, "ok", "put"), get(2), read(2, {"b"})});
  CHECK(sloppy.ok());
  CHECK(sloppy.keys_unjudged == 1);
  const CausalReport r = check({put(1, "a"), ended(1, "ok", "put"), put(1, "b"),
                                ended(1, "ok", "put"), get(2, true), read(2, {"b"})});
  CHECK(count(r, "lost") == 1);
  REQUIRE(r.findings.size() == 1);
  CHECK(r.findings[0].value == "a");
  CHECK(r.findings[0].line == 6);
}

TEST_CASE("a write that failed or got no answer may be missing, and may appear", "[causal]") {
  const CausalReport r =
      check({put(1, "a"), ended(1, "fail", "put"), put(1, "b"), ended(1, "info", "put"),
             put(1, "c"), get(2, true), read(2, {"b"})});
  CHECK(r.ok());
}

TEST_CASE("a sibling beside one written knowing it is a false sibling, in any read", "[causal]") {
  const CausalReport r = check({put(1, "a"), ended(1, "ok", "put"), put(1, "b", {{"a"}}),
                                ended(1, "ok", "put"), get(2), read(2, {"a", "b"})});
  CHECK(count(r, "false-sibling") == 1);
  CHECK(r.findings.at(0).value == "a");
}

TEST_CASE("a sibling no client wrote to its key is unwritten", "[causal]") {
  const CausalReport r = check({put(1, "a", std::nullopt, "other"), ended(1, "ok", "put", "other"),
                                get(2), read(2, {"a"}), get(2), read(2, {"never"})});
  CHECK(count(r, "unwritten") == 2);
}

TEST_CASE("a value an acknowledged delete superseded must not come back", "[causal]") {
  const std::vector<std::string> before = {put(1, "a"), ended(1, "ok", "put"),
                                           remove(1, "t1", {{"a"}}), ended(1, "ok", "delete")};
  auto gone = before;
  gone.insert(gone.end(), {get(2, true), read(2, {})});
  CHECK(check(gone).ok());
  auto back = before;
  back.insert(back.end(), {get(2, true), read(2, {"a"})});
  CHECK(count(check(back), "resurrected") == 1);
}

TEST_CASE("a blind delete excuses what was written before it ended, not what came after",
          "[causal]") {
  const std::vector<std::string> before = {put(1, "a"), ended(1, "ok", "put"),
                                           remove(1, std::nullopt, std::nullopt)};
  auto answered = before;
  answered.insert(answered.end(), {ended(1, "ok", "delete"), put(1, "b"), ended(1, "ok", "put"),
                                   get(2, true), read(2, {})});
  const CausalReport r = check(answered);
  CHECK(count(r, "lost") == 1);
  CHECK(r.findings.at(0).value == "b");
  // Unanswered, it may still run at any time: every value of the key is excused.
  auto unanswered = before;
  unanswered.insert(unanswered.end(), {ended(1, "info", "delete"), put(1, "b"),
                                       ended(1, "ok", "put"), get(2, true), read(2, {})});
  CHECK(check(unanswered).ok());
}

TEST_CASE("a history the checks cannot trust is refused with the reason", "[causal]") {
  CHECK_THAT(refused({put(1, "a"), ended(1, "ok", "put"), get(2, true), put(1, "b"),
                      ended(1, "ok", "put"), read(2, {"a", "b"})}),
             Catch::Contains("overlaps an acknowledged write"));
  CHECK_THAT(refused({remove(1, std::nullopt, std::nullopt), get(2, true)}),
             Catch::Contains("while a blind delete of its key is pending"));
  CHECK_THAT(refused({put(1, "a"), ended(1, "ok", "put"), put(1, "a")}),
             Catch::Contains("written twice"));
  CHECK_THAT(refused({ended(1, "ok", "put")}), Catch::Contains("none pending"));
  CHECK_THAT(refused({put(1, "a"), get(1)}), Catch::Contains("is pending"));
  CHECK_THAT(refused({put(1, "a"), ended(1, "fail", "get")}),
             Catch::Contains("with another operation"));
  CHECK_THAT(refused({remove(1, "t", std::nullopt)}), Catch::Contains("names no value"));
  CHECK_THAT(refused({remove(1, std::nullopt, {{"a"}})}), Catch::Contains("must name its value"));
  CHECK_THAT(refused({"{\"process\":1,\"type\":\"invoke\",\"f\":\"cas\",\"key\":\"k\"}"}),
             Catch::Contains("'f'"));
  CHECK_THAT(refused({"{\"process\":1,\"type\":\"invoke\",\"f\":\"get\",\"key\":\"k\","
                      "\"observed\":[]}"}),
             Catch::Contains("'observed' on a get"));
  CHECK_THAT(refused({get(1),
                      "{\"process\":1,\"type\":\"ok\",\"f\":\"get\",\"key\":\"k\","
                      "\"value\":\"a\"}"}),
             Catch::Contains("expected an array of strings"));
  CHECK_THAT(refused({"{\"process\":1,"}), Catch::Contains("json"));
}

TEST_CASE("a file's errors name the file and the line", "[causal]") {
  const std::string path = "/tmp/doppel-causal-jsonl-test.jsonl";
  {
    std::ofstream out(path);
    out << put(1, "a") << "\n\n" << ended(1, "ok", "put") << "\n{\"process\": 1\n";
  }
  auto r = check_causal_file(path);
  std::remove(path.c_str());
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().what, Catch::StartsWith(path + ":4: "));
  CHECK_FALSE(check_causal_file(path).ok());  // gone: not found
}

}  // namespace
}  // namespace doppel::properties::dvv
