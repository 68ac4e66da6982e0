// The KV node in the simulator, through the client library: every verb the server answers, on
// nodes of 2 to 4 cores, with keys owned by every core; noreply; the item and key size limits;
// expiry in virtual time; and a pipeline whose foreign keys are forwarded to their owners and
// answered in the order they were asked.

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "components/kv/server/ownership.h"
#include "components/kv/server/server.h"
#include "tests/kv/server/kv_sim.h"

using namespace doppel;
using namespace doppel::kv;
using namespace doppel::kv::test;
using namespace std::chrono_literals;

namespace {

// `per_core` keys owned by each core of `cores`, core by core: "<prefix><n>".
std::vector<std::string> keys_on_every_core(const std::string& prefix, CoreId cores,
                                            std::size_t per_core) {
  std::vector<std::vector<std::string>> by_core(cores);
  for (int n = 0; n < 10000; ++n) {
    std::string key = prefix + std::to_string(n);
    auto& mine = by_core[owner_core(key, cores)];
    if (mine.size() < per_core) mine.push_back(std::move(key));
  }
  std::vector<std::string> out;
  for (auto& keys : by_core) {
    REQUIRE(keys.size() == per_core);
    out.insert(out.end(), keys.begin(), keys.end());
  }
  return out;
}

Request retrieval(Verb verb, std::vector<std::string> keys, std::int64_t exptime = 0) {
  Request r;
  r.verb = verb;
  r.keys = std::move(keys);
  r.exptime = exptime;
  return r;
}

Request keyed(Verb verb, std::string key) {
  Request r;
  r.verb = verb;
  r.keys.push_back(std::move(key));
  return r;
}

Request arith(Verb verb, std::string key, std::uint64_t delta) {
  Request r = keyed(verb, std::move(key));
  r.delta = delta;
  return r;
}

Request touch(std::string key, std::int64_t exptime) {
  Request r = keyed(Verb::touch, std::move(key));
  r.exptime = exptime;
  return r;
}

Request cas(std::string key, std::string data, std::uint64_t unique) {
  Request r = store_request(Verb::cas, std::move(key), std::move(data));
  r.cas_unique = unique;
  return r;
}

Request bare(Verb verb) {
  Request r;
  r.verb = verb;
  return r;
}

Request noreply(Request r) {
  r.noreply = true;
  return r;
}

// One connection's requests and what each must answer, checked in order.
struct Session {
  Runtime& rt;
  McConnection conn;
  Checks& checks;

  Session(Runtime& r, Stream& s, Checks& c) : rt(r), conn(s), checks(c) {}

  Result<McReply> call(const Request& r) { return conn.call(r, soon(rt)); }
  void expect(const Request& r, const std::string& want) {
    const bool with_cas = r.verb == Verb::gets || r.verb == Verb::gats;
    checks.expect_eq(encode(r).substr(0, 60), describe(call(r), with_cas), want);
  }
  std::uint64_t cas_of(const std::string& key) {
    auto got = call(retrieval(Verb::gets, {key}));
    checks.expect(got.ok() && got->values.size() == 1, "gets " + key + ": " + describe(got));
    return got.ok() && got->values.size() == 1 ? got->values[0].cas_unique : 0;
  }
};

// Boots a node of `cores` cores and runs `body` on one connection to it; then requires that
// nothing went wrong (once the world is gone, see tests/support/checks.h).
void run(std::uint64_t seed, CoreId cores, Checks& checks,
         const std::function<void(Session&)>& body) {
  const SimResult result = run_connection(seed, cores, [&](Runtime& rt, Stream& s) {
    Session session(rt, s, checks);
    body(session);
  });
  require_clean(checks, result);
}

}  // namespace

TEST_CASE("kv server: get and gets of many keys answer every core's hits in the order asked",
          "[sim]") {
  for (CoreId cores = 2; cores <= 4; ++cores) {
    Checks checks;
    const auto keys = keys_on_every_core("multi", cores, 2);
    run(cores, cores, checks, [&](Session& s) {
      s.expect(retrieval(Verb::get, keys), "END");
      // Every other key stored, the flags of each its index.
      std::string want = "END", want_cas = "END";
      for (std::size_t i = 0; i < keys.size(); i += 2) {
        const auto flags = static_cast<std::uint32_t>(i);
        s.expect(store_request(Verb::set, keys[i], "v" + std::to_string(i), flags), "STORED");
        want += " " + keys[i] + "=v" + std::to_string(i) + (i ? "/" + std::to_string(i) : "");
        want_cas +=
            " " + keys[i] + "=v" + std::to_string(i) + (i ? "/" + std::to_string(i) : "") + "#cas";
      }
      s.expect(retrieval(Verb::get, keys), want);
      s.expect(retrieval(Verb::gets, keys), want_cas);
      // Reversed, the hits come reversed.
      std::vector<std::string> reversed(keys.rbegin(), keys.rend());
      auto got = s.call(retrieval(Verb::get, reversed));
      s.checks.expect(
          got.ok() && got->values.size() == (keys.size() + 1) / 2 &&
              got->values.front().key == keys[keys.size() % 2 ? keys.size() - 1 : keys.size() - 2],
          "get reversed: " + describe(got));
    });
  }
}

TEST_CASE("kv server: set, add, replace, append and prepend answer as memcached", "[sim]") {
  Checks checks;
  run(1, 3, checks, [&](Session& s) {
    s.expect(store_request(Verb::add, "a", "1"), "STORED");
    s.expect(store_request(Verb::add, "a", "2"), "NOT_STORED");
    s.expect(store_request(Verb::replace, "missing", "x"), "NOT_STORED");
    s.expect(store_request(Verb::replace, "a", "3", 9), "STORED");
    s.expect(retrieval(Verb::get, {"a"}), "END a=3/9");
    s.expect(store_request(Verb::append, "a", "4"), "STORED");
    s.expect(store_request(Verb::prepend, "a", "0"), "STORED");
    s.expect(retrieval(Verb::get, {"a"}), "END a=034/9");  // append/prepend keep the flags
    s.expect(store_request(Verb::append, "missing", "x"), "NOT_STORED");
    s.expect(store_request(Verb::prepend, "missing", "x"), "NOT_STORED");
    s.expect(store_request(Verb::set, "a", ""), "STORED");
    s.expect(retrieval(Verb::get, {"a"}), "END a=");
  });
}

TEST_CASE("kv server: cas stores on a hit, refuses a stale unique and a missing key", "[sim]") {
  Checks checks;
  run(2, 2, checks, [&](Session& s) {
    s.expect(cas("c", "x", 1), "NOT_FOUND");
    s.expect(store_request(Verb::set, "c", "one"), "STORED");
    const std::uint64_t first = s.cas_of("c");
    s.expect(cas("c", "two", first), "STORED");
    s.expect(cas("c", "three", first), "EXISTS");  // stale: "two" has a new unique
    s.expect(retrieval(Verb::get, {"c"}), "END c=two");
    const std::uint64_t second = s.cas_of("c");
    s.checks.expect(second != first, "the unique did not change with the value");
    s.expect(store_request(Verb::append, "c", "!"), "STORED");
    s.expect(cas("c", "four", second), "EXISTS");  // an append changes it too
    s.expect(cas("c", "five", s.cas_of("c")), "STORED");
    s.expect(retrieval(Verb::get, {"c"}), "END c=five");
  });
}

TEST_CASE("kv server: delete, incr and decr answer hits, misses, wraps and non-numbers", "[sim]") {
  Checks checks;
  run(3, 4, checks, [&](Session& s) {
    s.expect(keyed(Verb::delete_, "d"), "NOT_FOUND");
    s.expect(store_request(Verb::set, "d", "x"), "STORED");
    s.expect(keyed(Verb::delete_, "d"), "DELETED");
    s.expect(retrieval(Verb::get, {"d"}), "END");
    s.expect(arith(Verb::incr, "n", 1), "NOT_FOUND");
    s.expect(arith(Verb::decr, "n", 1), "NOT_FOUND");
    s.expect(store_request(Verb::set, "n", "99"), "STORED");
    s.expect(arith(Verb::incr, "n", 1), "100");
    s.expect(retrieval(Verb::get, {"n"}), "END n=100");
    s.expect(arith(Verb::decr, "n", 30), "70");
    s.expect(arith(Verb::decr, "n", 1000), "0");  // decr stops at 0
    s.expect(store_request(Verb::set, "n", "18446744073709551615"), "STORED");
    s.expect(arith(Verb::incr, "n", 2), "1");  // incr wraps at 2^64
    s.expect(store_request(Verb::set, "s", "abc"), "STORED");
    const std::string non_numeric =
        "invalid argument: CLIENT_ERROR cannot increment or decrement non-numeric value";
    s.expect(arith(Verb::incr, "s", 1), non_numeric);
    s.expect(arith(Verb::decr, "s", 1), non_numeric);
    s.expect(retrieval(Verb::get, {"s"}), "END s=abc");
  });
}

TEST_CASE("kv server: touch, gat and gats set expiry; items expire in virtual time", "[sim]") {
  Checks checks;
  run(4, 2, checks, [&](Session& s) {
    s.expect(touch("t", 100), "NOT_FOUND");
    s.expect(store_request(Verb::set, "t", "x"), "STORED");
    s.expect(touch("t", 100), "TOUCHED");
    s.expect(store_request(Verb::set, "g", "y", 3), "STORED");
    s.expect(retrieval(Verb::gats, {"g", "none"}, 0), "END g=y/3#cas");
    s.expect(retrieval(Verb::gat, {"g"}, 50), "END g=y/3");
    s.expect(store_request(Verb::set, "forever", "z"), "STORED");
    s.rt.sleep(48s);
    s.expect(retrieval(Verb::get, {"t", "g", "forever"}), "END t=x g=y/3 forever=z");
    s.rt.sleep(4s);  // past g's 50 s
    s.expect(retrieval(Verb::get, {"t", "g", "forever"}), "END t=x forever=z");
    s.rt.sleep(50s);  // past t's 100 s
    s.expect(retrieval(Verb::get, {"t", "g", "forever"}), "END forever=z");
    // A negative exptime expires at once; gat answers with the item it expired.
    s.expect(retrieval(Verb::gat, {"forever"}, -1), "END forever=z");
    s.expect(retrieval(Verb::get, {"forever"}), "END");
    s.expect(retrieval(Verb::gat, {"forever"}, 10), "END");
  });
}

TEST_CASE("kv server: flush_all empties every core, now or after its delay", "[sim]") {
  Checks checks;
  const auto keys = keys_on_every_core("f", 3, 1);
  run(5, 3, checks, [&](Session& s) {
    for (const auto& k : keys) s.expect(store_request(Verb::set, k, "x"), "STORED");
    s.expect(bare(Verb::flush_all), "OK");
    s.expect(retrieval(Verb::get, keys), "END");
    for (const auto& k : keys) s.expect(store_request(Verb::set, k, "y"), "STORED");
    Request later = bare(Verb::flush_all);
    later.delay = 10;
    s.expect(later, "OK");
    s.expect(retrieval(Verb::get, {keys[0]}), "END " + keys[0] + "=y");
    s.rt.sleep(11s);
    s.expect(retrieval(Verb::get, keys), "END");
    s.expect(store_request(Verb::set, keys[0], "z"), "STORED");  // new items are not flushed
    s.expect(retrieval(Verb::get, {keys[0]}), "END " + keys[0] + "=z");
  });
}

TEST_CASE("kv server: version, verbosity and stats answer; an unknown stats group is ERROR",
          "[sim]") {
  for (CoreId cores = 2; cores <= 4; ++cores) {
    Checks checks;
    run(6, cores, checks, [&](Session& s) {
      s.expect(bare(Verb::version), "VERSION " + std::string(kVersion));
      Request verbosity = bare(Verb::verbosity);
      verbosity.verbosity = 1;
      s.expect(verbosity, "OK");
      s.expect(store_request(Verb::set, "k", "v"), "STORED");
      s.expect(retrieval(Verb::get, {"k", "other"}), "END k=v");
      auto stats = s.call(bare(Verb::stats));
      s.checks.expect(stats.ok() && stats->word == "STAT", "stats: " + describe(stats));
      if (!stats) return;
      const auto stat = [&](const McReply& r, std::string_view name) {
        return McConnection::stat(r, name).value_or(UINT64_MAX);
      };
      s.checks.expect(stat(*stats, "threads") == cores, "threads");
      s.checks.expect(stat(*stats, "cmd_get") == 2, "cmd_get");
      s.checks.expect(stat(*stats, "get_hits") == 1, "get_hits");
      s.checks.expect(stat(*stats, "get_misses") == 1, "get_misses");
      s.checks.expect(stat(*stats, "cmd_set") == 1, "cmd_set");
      s.checks.expect(stat(*stats, "curr_items") == 1, "curr_items");
      s.checks.expect(stat(*stats, "curr_connections") == 1, "curr_connections");
      s.checks.expect(stat(*stats, "limit_maxbytes") == 8u << 20, "limit_maxbytes");
      Request group = bare(Verb::stats);
      group.stats_group = "cores";
      auto per_core = s.call(group);
      s.checks.expect(per_core.ok(), "stats cores: " + describe(per_core));
      if (per_core) {
        std::uint64_t items = 0;
        for (CoreId c = 0; c < cores; ++c) {
          items += stat(*per_core, "core" + std::to_string(c) + ":curr_items");
        }
        s.checks.expect(items == 1, "stats cores: the items of every core add up");
      }
      group.stats_group = "memory";
      auto memory = s.call(group);
      s.checks.expect(memory.ok() && stat(*memory, "segment_bytes") == 64u << 10,
                      "stats memory: " + describe(memory));
      group.stats_group = "detail";  // memcached's prefix stats: not ours
      s.expect(group, "invalid argument: ERROR");
      s.expect(bare(Verb::version), "VERSION " + std::string(kVersion));  // still in sync
    });
  }
}

TEST_CASE("kv server: noreply requests answer nothing, and the stream stays in step", "[sim]") {
  Checks checks;
  run(7, 2, checks, [&](Session& s) {
    s.expect(noreply(store_request(Verb::set, "q", "1")), "");
    s.expect(noreply(store_request(Verb::add, "q", "2")), "");  // NOT_STORED, silently
    s.expect(noreply(store_request(Verb::append, "q", "0")), "");
    s.expect(noreply(arith(Verb::incr, "q", 5)), "");
    s.expect(noreply(store_request(Verb::set, "s", "abc")), "");
    s.expect(noreply(arith(Verb::incr, "s", 1)), "");  // an error, silently
    s.expect(noreply(touch("q", 1000)), "");
    s.expect(noreply(keyed(Verb::delete_, "gone")), "");
    Request verbosity = noreply(bare(Verb::verbosity));
    s.expect(verbosity, "");
    s.expect(retrieval(Verb::get, {"q", "s"}), "END q=15 s=abc");
    s.expect(noreply(bare(Verb::flush_all)), "");
    s.expect(retrieval(Verb::get, {"q", "s"}), "END");
    s.expect(bare(Verb::version), "VERSION " + std::string(kVersion));
  });
}

TEST_CASE("kv server: an item over the limit and a key of 251 bytes are refused, in step",
          "[sim]") {
  Checks checks;
  const KvSettings settings = small_settings();
  const std::string key_250(250, 'k');
  const std::string key_251(251, 'k');
  run(8, 2, checks, [&](Session& s) {
    const std::string big(settings.item_bytes_max + 1, 'b');
    s.expect(store_request(Verb::set, "big", big),
             "I/O error: SERVER_ERROR object too large for cache");
    s.expect(retrieval(Verb::get, {"big"}), "END");
    const std::string half(settings.item_bytes_max / 2, 'h');
    s.expect(store_request(Verb::set, "big", half), "STORED");
    s.expect(retrieval(Verb::get, {"big"}), "END big=" + half);
    s.expect(store_request(Verb::set, key_250, "ok"), "STORED");
    s.expect(retrieval(Verb::get, {key_250}), "END " + key_250 + "=ok");
    const std::string bad_format = "invalid argument: CLIENT_ERROR bad command line format";
    s.expect(store_request(Verb::set, key_251, "no"), bad_format);  // its data is discarded
    s.expect(retrieval(Verb::get, {key_251}), bad_format);
    s.expect(keyed(Verb::delete_, key_251), bad_format);
    s.expect(retrieval(Verb::get, {key_250}), "END " + key_250 + "=ok");
  });
}

TEST_CASE("kv server: quit closes the connection", "[sim]") {
  Checks checks;
  run(9, 2, checks, [&](Session& s) {
    s.expect(store_request(Verb::set, "k", "v"), "STORED");
    s.expect(bare(Verb::quit), "");  // no reply to read
    auto after = s.call(bare(Verb::version));
    s.checks.expect(!after.ok() && (after.code() == Errc::closed || after.code() == Errc::reset),
                    "after quit: " + describe(after));
  });
}

// --- pipelines: foreign keys forwarded, replies in order

namespace {

struct Expected {
  Request request;
  std::string reply;
};

// Sets, reads, overwrites and increments keys of every core, and a multi-key get of them all:
// a reply out of order shows up as a wrong value.
std::vector<Expected> pipeline_for(const std::vector<std::string>& keys) {
  std::vector<Expected> out;
  std::string all = "END";
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const std::string v = std::to_string(i * 10);
    out.push_back({store_request(Verb::set, keys[i], v), "STORED"});
    out.push_back({retrieval(Verb::get, {keys[i]}), "END " + keys[i] + "=" + v});
    out.push_back({arith(Verb::incr, keys[i], i + 1), std::to_string(i * 11 + 1)});
    out.push_back(
        {retrieval(Verb::get, {keys[i]}), "END " + keys[i] + "=" + std::to_string(i * 11 + 1)});
    all += " " + keys[i] + "=" + std::to_string(i * 11 + 1);
  }
  out.push_back({retrieval(Verb::get, keys), all});
  for (const std::string& k : keys) out.push_back({keyed(Verb::delete_, k), "DELETED"});
  out.push_back({retrieval(Verb::get, keys), "END"});
  return out;
}

// Units (one per key of a request) of the pipeline that `core` owns.
std::uint64_t units_owned(const std::vector<Expected>& pipeline, CoreId core, CoreId cores) {
  std::uint64_t n = 0;
  for (const Expected& e : pipeline) {
    for (const std::string& k : e.request.keys) n += owner_core(k, cores) == core ? 1 : 0;
  }
  return n;
}

// Writes the whole pipeline at once, then reads and checks every reply in order; then checks
// with "stats cores" that every unit of a key the connection's core does not own was
// forwarded to its owner.
void run_pipeline(Runtime& rt, Stream& stream, CoreId cores, const std::vector<Expected>& p,
                  Checks& checks) {
  std::string bytes;
  for (const Expected& e : p) encode_to(e.request, bytes);
  if (!stream.write(bytes, soon(rt))) {
    checks.expect(false, "the pipeline could not be written");
    return;
  }
  McReader reader(stream);
  for (std::size_t i = 0; i < p.size(); ++i) {
    checks.expect_eq("pipeline request " + std::to_string(i),
                     describe(reader.next(p[i].request, soon(rt))), p[i].reply);
  }
  Request stats = bare(Verb::stats);
  stats.stats_group = "cores";
  McConnection conn(stream);
  auto per_core = conn.call(stats, soon(rt));
  checks.expect(per_core.ok(), "stats cores: " + describe(per_core));
  if (!per_core) return;
  std::vector<std::uint64_t> forwarded_in(cores);
  CoreId idle = cores;  // the connection's core: nothing was forwarded to it
  for (CoreId c = 0; c < cores; ++c) {
    const std::string name = "core" + std::to_string(c) + ":forwarded_in";
    forwarded_in[c] = McConnection::stat(*per_core, name).value_or(UINT64_MAX);
    if (forwarded_in[c] == 0) idle = c;
  }
  checks.expect(idle < cores, "every core had units forwarded to it");
  for (CoreId c = 0; c < cores && idle < cores; ++c) {
    const std::uint64_t want = c == idle ? 0 : units_owned(p, c, cores);
    checks.expect(forwarded_in[c] == want, "core " + std::to_string(c) + " had " +
                                               std::to_string(forwarded_in[c]) +
                                               " units forwarded, wanted " + std::to_string(want));
  }
}

}  // namespace

TEST_CASE("kv server: a pipeline's foreign keys are forwarded and answered in the order asked",
          "[sim]") {
  sim::AmbientFaults jittery;
  jittery.latency = true;
  jittery.split_reads = true;
  for (std::uint64_t seed = 0; seed < 12; ++seed) {
    const auto cores = static_cast<CoreId>(2 + seed % 3);
    const auto pipeline = pipeline_for(keys_on_every_core("p", cores, 3));
    Checks checks;
    const SimResult result = run_connection(
        seed, cores, [&](Runtime& rt, Stream& s) { run_pipeline(rt, s, cores, pipeline, checks); },
        small_settings(), seed % 2 ? jittery : sim::AmbientFaults{});
    INFO("seed " << seed << ", " << cores << " cores");
    require_clean(checks, result);
  }
}

TEST_CASE("kv server: the pipeline check catches a server that swaps forwarded replies", "[sim]") {
  KvSettings swapped = small_settings();
  swapped.planted_bug = KvPlantedBug::swapped_replies;
  const auto pipeline = pipeline_for(keys_on_every_core("p", 2, 3));
  Checks checks;
  const SimResult result = run_connection(
      1, 2, [&](Runtime& rt, Stream& s) { run_pipeline(rt, s, 2, pipeline, checks); }, swapped);
  REQUIRE(result.ran);
  REQUIRE_FALSE(checks.failures.empty());
}
