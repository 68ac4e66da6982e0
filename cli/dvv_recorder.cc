#include "cli/dvv_recorder.h"

#include <map>
#include <memory>
#include <optional>
#include <utility>

#include "base/json.h"
#include "components/dvv/client/riak_client.h"
#include "runtime/assert.h"
#include "runtime/random.h"
#include "runtime/sync.h"

namespace doppel::cli {
namespace {

using dvv::RiakClient;
using dvv::RiakObject;

// How an operation ended, in the history's words.
enum class Outcome { ok, fail, info };

const char* type_of(Outcome o) {
  switch (o) {
    case Outcome::ok:
      return "ok";
    case Outcome::fail:
      return "fail";
    case Outcome::info:
      return "info";
  }
  return "info";
}

// A write's outcome: acknowledged (2xx), refused with an answer, or no answer at all (it may
// still be applied).
Outcome write_outcome(const Result<RiakObject>& r) {
  if (!r) return Outcome::info;
  return r->status == 200 || r->status == 204 ? Outcome::ok : Outcome::fail;
}

class Recorder {
 public:
  Recorder(Runtime& rt, const DvvRecorderSpec& spec) : rt_(rt), spec_(spec) {}

  DvvRecorderResult run() {
    const int processes = spec_.final ? static_cast<int>(spec_.nodes.size()) : spec_.clients;
    int running = processes;
    Condition done(rt_);
    for (int p = 0; p < processes; ++p) {
      rt_.spawn("dvv-recorder", [this, p, &running, &done] {
        if (spec_.final) {
          read_every_key(p);
        } else {
          client_loop(p);
        }
        --running;
        done.notify_all();
      });
    }
    while (running > 0) done.wait();
    return std::move(out_);
  }

 private:
  RiakClient& client(int process, std::size_t node) {
    auto& slot = clients_[{process, node}];
    if (!slot)
      slot = std::make_unique<RiakClient>(rt_, spec_.nodes[node].at, spec_.nodes[node].options);
    return *slot;
  }
  Instant deadline() const { return rt_.now() + spec_.timeout; }
  std::int64_t now_ns() const { return rt_.now().time_since_epoch().count(); }

  // The fields every event has; the caller adds its own and closes the object.
  JsonWriter event(int process, const char* type, const char* f, const std::string& key) {
    JsonWriter w;
    w.begin_object()
        .field("process", process)
        .field("type", type)
        .field("f", f)
        .field("key", key)
        .field("time", now_ns());
    return w;
  }
  void emit(JsonWriter& w) { out_.history += w.end_object().take() + "\n"; }
  void count(Outcome o) {
    (o == Outcome::ok ? out_.ok : o == Outcome::fail ? out_.failed : out_.unknown) += 1;
  }

  // A recorded GET: the siblings, or nullopt when it got no answer it could use.
  std::optional<RiakObject> get(int process, std::size_t node, const std::string& key, bool final) {
    JsonWriter inv = event(process, "invoke", "get", key);
    inv.field("node", static_cast<std::uint64_t>(node));
    if (final) inv.field("final", true);
    emit(inv);
    dvv::Quorum q;
    if (final) q.r = "all";
    auto r = client(process, node).get(spec_.bucket, key, q, deadline());
    // A read changes nothing: one without an answer simply failed (as the simulator's clients
    // count it).
    const Outcome o = r ? Outcome::ok : Outcome::fail;
    JsonWriter done = event(process, type_of(o), "get", key);
    if (r) {
      done.key("value").begin_array();
      for (const std::string& s : r->siblings) done.value(s);
      done.end_array();
    } else {
      done.field("error", r.error().message());
    }
    emit(done);
    count(o);
    if (!r) return std::nullopt;
    return std::move(*r);
  }

  // A recorded PUT (or DELETE, `tombstone`) of `value` with the context of `seen` (or none: a
  // blind write; a blind DELETE names no value, it deletes whatever its coordinator finds).
  void write(int process, std::size_t node, const std::string& key, const std::string& value,
             const RiakObject* seen, bool tombstone) {
    const char* f = tombstone ? "delete" : "put";
    JsonWriter inv = event(process, "invoke", f, key);
    inv.field("node", static_cast<std::uint64_t>(node));
    if (!tombstone || seen != nullptr) inv.field("value", value);
    if (seen != nullptr) {
      inv.key("observed").begin_array();
      for (const std::string& s : seen->siblings) inv.value(s);
      inv.end_array();
    }
    emit(inv);
    dvv::WriteOptions o;
    o.once = true;  // a resent copy is a new, concurrent write of one value
    o.vclock = seen != nullptr ? seen->vclock : "";
    o.client_id = "client-" + std::to_string(process);
    auto r = tombstone ? client(process, node).remove(spec_.bucket, key, o, deadline())
                       : client(process, node).put(spec_.bucket, key, value, o, deadline());
    const Outcome outcome = write_outcome(r);
    JsonWriter done = event(process, type_of(outcome), f, key);
    if (!r) done.field("error", r.error().message());
    if (r && outcome == Outcome::fail)
      done.field("error", std::to_string(r->status) + " " + r->error);
    emit(done);
    count(outcome);
  }

  void client_loop(int c) {
    Prng rng = Prng(spec_.seed).fork(static_cast<std::uint64_t>(c) + 1);
    const auto pct = [&](int p) { return rng.chance(static_cast<std::uint64_t>(p), 100); };
    const auto some_node = [&] { return static_cast<std::size_t>(rng.below(spec_.nodes.size())); };
    for (int i = 0; i < spec_.ops_per_client; ++i) {
      if (spec_.pause.count() > 0) {
        rt_.sleep(Duration(
            static_cast<std::int64_t>(exponential(rng, static_cast<double>(spec_.pause.count())))));
      }
      const std::string key = "k" + std::to_string(rng.below(spec_.keys));
      if (pct(spec_.read_percent)) {
        (void)get(c, some_node(), key, false);
        continue;
      }
      const std::string value = spec_.tag + ".c" + std::to_string(c) + "." + std::to_string(i);
      // As the simulator's clients: of the writes, DELETEs (delete_percent), with the read's
      // context, or blind when there is none (no read, or it found nothing).
      if (pct(spec_.blind_percent)) {
        write(c, some_node(), key, value, nullptr, pct(spec_.delete_percent));
        continue;
      }
      const std::optional<RiakObject> seen = get(c, some_node(), key, false);
      if (!seen) continue;
      const bool remove = pct(spec_.delete_percent);
      write(c, some_node(), key, value, remove && seen->vclock.empty() ? nullptr : &*seen, remove);
    }
  }

  void read_every_key(int node) {
    for (std::uint64_t k = 0; k < spec_.keys; ++k) {
      (void)get(node, static_cast<std::size_t>(node), "k" + std::to_string(k), true);
    }
  }

  Runtime& rt_;
  const DvvRecorderSpec& spec_;
  std::map<std::pair<int, std::size_t>, std::unique_ptr<RiakClient>> clients_;
  DvvRecorderResult out_;
};

}  // namespace

DvvRecorderResult record_dvv_load(Runtime& rt, const DvvRecorderSpec& spec) {
  DOPPEL_ASSERT(!spec.nodes.empty());
  DOPPEL_ASSERT(spec.clients > 0 && spec.ops_per_client >= 0);
  DOPPEL_ASSERT(static_cast<std::uint64_t>(spec.clients) *
                    static_cast<std::uint64_t>(spec.ops_per_client) <=
                DvvRecorderSpec::kOperationsMax);
  Recorder recorder(rt, spec);
  return recorder.run();
}

}  // namespace doppel::cli
