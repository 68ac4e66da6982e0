#include "scenarios/dedup/dedup_driver.h"

#include <map>
#include <set>

#include "components/dedup/api/client.h"
#include "components/dedup/api/http_api.h"
#include "components/dedup/api/uploader.h"
#include "scenarios/dedup/image_series.h"

namespace doppel::scenarios {
namespace {

using namespace std::chrono_literals;
using dedup::VersionNumber;

constexpr std::uint16_t kPort = 8080;
constexpr const char* kServer = "dedup0";
// Where the store keeps segment files on the server's simulated disk (StoreOptions::dir).
constexpr const char* kSegmentFiles = "dedup/segments/";
constexpr int kAttemptsMax = 400;  // per operation; after the heal each must succeed well before

struct Workload {
  std::int64_t images = 2;
  std::int64_t versions = 4;
  std::int64_t image_kb = 3072;
  std::int64_t segment_mb = 1;
  std::int64_t edit_permille = 60;
  std::int64_t read_percent = 50;    // after a put: read a random live version back
  std::int64_t remove_percent = 30;  // after a put: remove a random version (not the newest)
  std::int64_t gc_percent = 20;      // after a put: collect garbage
  std::int64_t pause_ms = 2000;      // between backups, uniform in [0, 2 x pause_ms]
  std::int64_t rebuild_threshold_percent = 20;
  std::int64_t timeout_ms = 5000;
};

Result<Workload> read_workload(const toml::table& t, std::string_view source) {
  if (Status s = toml_known_keys(t, source, {"images", "versions", "image_kb", "segment_mb", "edit_permille",
                                             "read_percent", "remove_percent", "gc_percent",
                                             "rebuild_threshold_percent", "timeout_ms", "pause_ms"});
      !s) {
    return s.error();
  }
  Workload w;
  struct Field {
    const char* key;
    std::int64_t* field;
    std::int64_t lo, hi;
  };
  const Field fields[] = {{"images", &w.images, 1, 16},
                          {"versions", &w.versions, 1, 64},
                          {"image_kb", &w.image_kb, 4, 64 * 1024},
                          {"segment_mb", &w.segment_mb, 1, 32},
                          {"edit_permille", &w.edit_permille, 0, 1000},
                          {"read_percent", &w.read_percent, 0, 100},
                          {"remove_percent", &w.remove_percent, 0, 100},
                          {"gc_percent", &w.gc_percent, 0, 100},
                          {"rebuild_threshold_percent", &w.rebuild_threshold_percent, 1, 100},
                          {"timeout_ms", &w.timeout_ms, 10, 600000},
                          {"pause_ms", &w.pause_ms, 0, 600000}};
  for (const Field& f : fields) {
    auto v = toml_int(t, f.key, source, f.lo, f.hi, *f.field);
    if (!v) return v.error();
    *f.field = *v;
  }
  if (w.image_kb % 4 != 0) return toml_error(source, t.get("image_kb"), "image_kb", "expected a multiple of 4");
  return w;
}

// What the clients know of one version the server may hold.
struct Known {
  std::uint32_t content = 0;  // the series version it holds
  bool removing = false;      // a removal was sent: it may be gone
  bool removed = false;       // the removal was acknowledged
};

class DedupDriver final : public ScenarioDriver {
 public:
  DedupDriver(const ScenarioSpec& spec, Workload w, std::uint64_t seed)
      : spec_(spec), w_(w), series_(series_options(w, seed)) {}

  void setup(sim::World& world) override {
    world_ = &world;
    NodeConfig c;
    c.name = kServer;
    c.component = "dedup";
    c.listen = Endpoint{kServer, kPort};
    c.bug = spec_.bug;
    c.settings = {{"segment_mb", std::to_string(w_.segment_mb)},
                  {"rebuild_threshold_percent", std::to_string(w_.rebuild_threshold_percent)},
                  {"image_gb", "1"},
                  {"unreferenced_ttl_s", "2"}};
    server_ = world.add_node(sim::NodeSpec{kServer, spec_.cores, true,
                                           [c](Runtime& rt) { return dedup::boot_dedup(rt, c); }});
    client_node_ = world.add_node(sim::NodeSpec{"clients", 1, false, {}});
    world.spawn(client_node_, 0, "dedup-clients", [this] { run_clients(); });
  }

  sim::ClusterShape shape() const override {
    sim::ClusterShape s;
    s.servers = {server_};
    s.crashable = {server_};
    s.all = {server_, client_node_};
    s.cores = spec_.cores;
    return s;
  }

  void on_quiet(sim::World& world) override { quiet_since_ = world.now(); }
  bool finished() const override { return checked_; }

  void check(sim::World& world) override {
    if (!checked_ && !world.failed()) world.fail("progress", "the final checks did not finish after the faults healed");
    world.record(sim::kNoNode, 0,
                 Event("DedupRunStats").detail("committed", committed_).detail("maybe_committed", maybe_committed_)
                     .detail("removed", removed_).detail("reads", reads_).detail("gcs", gcs_)
                     .detail("failed_ops", failed_ops_));
  }

 private:
  static ImageSeriesOptions series_options(const Workload& w, std::uint64_t seed) {
    ImageSeriesOptions o;
    o.seed = seed;
    o.images = static_cast<std::uint32_t>(w.images);
    o.versions = static_cast<std::uint32_t>(w.versions);
    o.image_bytes = static_cast<std::uint64_t>(w.image_kb) << 10;
    o.edit_permille = static_cast<std::uint32_t>(w.edit_permille);
    o.append_permille = 20;
    o.move_permille = 30;
    return o;
  }

  bool wants(std::string_view p) const {
    return std::find(spec_.properties.begin(), spec_.properties.end(), p) != spec_.properties.end();
  }
  Runtime& rt() { return world_->runtime(client_node_); }
  std::string name(std::uint32_t image) const { return series_.image_name(image); }

  std::unique_ptr<dedup::DedupClient> make_client() {
    dedup::DedupClientOptions o;
    o.request_timeout = std::chrono::milliseconds(w_.timeout_ms);
    o.transfer_io_timeout = std::chrono::milliseconds(w_.timeout_ms);
    o.admin_timeout = std::chrono::milliseconds(w_.timeout_ms * 4);
    return std::make_unique<dedup::DedupClient>(rt(), Endpoint{kServer, kPort}, o);
  }

  void backoff(int attempt) { rt().sleep(std::chrono::milliseconds(50 + 25 * std::min(attempt, 40))); }

  // One upload and commit of series version `content`.
  Result<VersionNumber> put_once(dedup::DedupClient& client, std::uint32_t image, std::uint32_t content) {
    dedup::UploadOptions o;
    o.cutter.segment_bytes = static_cast<std::uint32_t>(w_.segment_mb) << 20;
    dedup::Uploader up(rt(), client, name(image), o);
    Status fed;
    series_.write(image, content, [&](std::string_view chunk) {
      fed = up.feed(chunk);
      return fed.ok();
    }, 256u << 10);
    if (!fed) return fed.error();
    auto committed = up.finish();
    if (!committed) return committed.error();
    return committed->version;
  }

  // Backs up series version `content` of the image until a commit is acknowledged.
  bool put(dedup::DedupClient& client, std::uint32_t image, std::uint32_t content) {
    for (int attempt = 0; attempt < kAttemptsMax; ++attempt) {
      auto v = put_once(client, image, content);
      rt().record(Event("DedupClientPut").detail("image", image).detail("content", content)
                      .detail("version", v ? *v : 0).detail("error", v ? "" : v.error().message()));
      if (v) {
        auto [it, fresh] = known_[image].emplace(*v, Known{content});
        if (!fresh) {
          world_->fail("restorable", name(image) + " version " + std::to_string(*v) + " was acknowledged twice");
        }
        ++committed_;
        return true;
      }
      // The commit may have happened before the answer was lost.
      maybe_[image].insert(content);
      ++maybe_committed_;
      backoff(attempt);
    }
    ++failed_ops_;
    return false;
  }

  // Reads the version whole; true if it is the series' version `content`.
  Result<bool> same(dedup::DedupClient& client, std::uint32_t image, VersionNumber v, std::uint32_t content) {
    std::uint64_t offset = 0;
    bool equal = true;
    std::string expected;
    auto n = client.read(name(image), v, [&](std::string_view piece) -> Status {
      expected.resize(piece.size());
      const std::size_t got = series_.read(image, content, offset, expected);
      if (got != piece.size() || std::string_view(expected) != piece) equal = false;
      offset += piece.size();
      return {};
    });
    if (!n) return n.error();
    ++reads_;
    return equal && offset == series_.bytes(image, content);
  }

  void read_some(dedup::DedupClient& client, std::uint32_t image) {
    std::vector<std::pair<VersionNumber, std::uint32_t>> live;
    for (const auto& [v, k] : known_[image]) {
      if (!k.removing) live.emplace_back(v, k.content);
    }
    if (live.empty()) return;
    const auto [v, content] = live[rt().random().below(live.size())];
    auto r = same(client, image, v, content);
    if (r && !*r && wants("restorable")) {
      world_->fail("restorable", name(image) + " version " + std::to_string(v) + " read back different bytes");
    }
  }

  void remove_some(dedup::DedupClient& client, std::uint32_t image) {
    std::vector<VersionNumber> removable;
    for (const auto& [v, k] : known_[image]) {
      if (!k.removing && v != known_[image].rbegin()->first) removable.push_back(v);
    }
    if (removable.empty()) return;
    const VersionNumber v = removable[rt().random().below(removable.size())];
    Known& k = known_[image][v];
    k.removing = true;
    auto r = client.remove(name(image), v);
    rt().record(Event("DedupClientRemove").detail("image", image).detail("version", v).detail("ok", r.ok()));
    if (r) {
      k.removed = true;
      ++removed_;
    }
  }

  void run_client(std::uint32_t image) {
    auto client = make_client();
    Prng& rng = rt().random();
    for (std::uint32_t content = 1; content <= series_.options().versions; ++content) {
      if (w_.pause_ms > 0) rt().sleep(std::chrono::milliseconds(rng.between(0, 2 * w_.pause_ms)));
      if (!put(*client, image, content)) return;
      if (rng.chance(static_cast<std::uint64_t>(w_.read_percent), 100)) read_some(*client, image);
      if (rng.chance(static_cast<std::uint64_t>(w_.remove_percent), 100)) remove_some(*client, image);
      if (rng.chance(static_cast<std::uint64_t>(w_.gc_percent), 100)) gcs_ += client->gc().ok() ? 1 : 0;
    }
  }

  void run_clients() {
    int running = static_cast<int>(w_.images);
    Condition done(rt());
    for (std::uint32_t image = 0; image < series_.options().images; ++image) {
      rt().spawn("dedup-client", [this, image, &running, &done] {
        run_client(image);
        --running;
        done.notify_all();
      });
    }
    while (running > 0) done.wait();
    while (!quiet_since_) rt().sleep(100ms);
    auto client = make_client();
    if (final_checks(*client)) checked_ = true;
  }

  // Retries `op` while the server gives no answer (a transport error) or is unavailable (503);
  // an answer, refusals included, is final. A `read` is tried a few times whatever the error (a
  // bit flip in what the disk returned cuts it short once, damage every time).
  template <typename Op>
  auto retried(dedup::DedupClient& client, Op op, bool read = false) -> decltype(op()) {
    auto r = op();
    for (int attempt = 0; !r && attempt < (read ? 4 : kAttemptsMax / 4); ++attempt) {
      if (!read && client.last_status() != 0 && client.last_status() != 503) break;
      backoff(attempt);
      r = op();
    }
    return r;
  }

  // Every listed version is one a client committed and restores byte-identical; every
  // acknowledged version not removed is listed. False if a property failed or the server
  // never answered.
  bool all_restorable(dedup::DedupClient& client, std::string_view property) {
    for (std::uint32_t image = 0; image < series_.options().images; ++image) {
      auto listed = retried(client, [&] { return client.list_versions(name(image)); });
      if (!listed && listed.code() == Errc::not_found) listed = std::vector<dedup::VersionInfo>{};
      if (!listed) {
        world_->fail("progress", "listing " + name(image) + ": " + listed.error().message());
        return false;
      }
      std::set<VersionNumber> present;
      for (const dedup::VersionInfo& info : *listed) {
        present.insert(info.version);
        std::vector<std::uint32_t> candidates;
        if (auto k = known_[image].find(info.version); k != known_[image].end()) {
          candidates = {k->second.content};
        } else {
          candidates.assign(maybe_[image].begin(), maybe_[image].end());
        }
        bool matched = false;
        for (std::uint32_t content : candidates) {
          if (series_.bytes(image, content) != info.image_bytes) continue;
          auto r = retried(client, [&] { return same(client, image, info.version, content); }, true);
          if (!r) {
            world_->fail(property, name(image) + " version " + std::to_string(info.version) +
                                       " cannot be read: " + r.error().message());
            return false;
          }
          if (*r) {
            matched = true;
            break;
          }
        }
        if (!matched && wants(property)) {
          world_->fail(property, name(image) + " version " + std::to_string(info.version) + " (" +
                                     std::to_string(info.image_bytes) + " bytes) is not what any client committed");
          return false;
        }
      }
      for (const auto& [v, k] : known_[image]) {
        if (!k.removing && present.count(v) == 0 && wants(property)) {
          world_->fail(property, name(image) + " version " + std::to_string(v) +
                                     " was acknowledged, never removed, and is gone");
          return false;
        }
        if (k.removed && present.count(v) != 0 && wants(property)) {
          world_->fail(property, name(image) + " version " + std::to_string(v) + " was removed and is back");
          return false;
        }
      }
    }
    return true;
  }

  bool final_checks(dedup::DedupClient& client) {
    if (!all_restorable(client, "restorable")) return false;
    if (wants("refcounts-balance")) {
      Status s = retried(client, [&] { return client.check(); });
      if (!s) {
        world_->fail("refcounts-balance", "the store's check: " + s.error().message());
        return false;
      }
    }
    if (!wants("damage-found")) return true;
    // One stored bit flips; verify must say so, or nothing readable may have changed.
    const std::optional<std::string> hit = world_->disk(server_).corrupt(kSegmentFiles);
    if (!hit) return true;
    auto report = retried(client, [&] { return client.verify(); });
    if (!report) {
      world_->fail("progress", "verify: " + report.error().message());
      return false;
    }
    world_->record(sim::kNoNode, 0, Event("DedupVerifyAfterFlip").detail("file", *hit)
                                        .detail("clean", report->clean()).detail("damage", report->damage_count));
    if (report->clean()) return all_restorable(client, "damage-found");
    return true;
  }

  const ScenarioSpec& spec_;
  Workload w_;
  ImageSeries series_;
  sim::World* world_ = nullptr;
  sim::NodeId server_ = 0;
  sim::NodeId client_node_ = 0;
  std::map<std::uint32_t, std::map<VersionNumber, Known>> known_;
  std::map<std::uint32_t, std::set<std::uint32_t>> maybe_;  // contents whose commit may have happened
  std::uint64_t committed_ = 0, maybe_committed_ = 0, removed_ = 0, reads_ = 0, gcs_ = 0, failed_ops_ = 0;
  std::optional<Instant> quiet_since_;
  bool checked_ = false;
};

}  // namespace

ComponentDef dedup_component() {
  ComponentDef def;
  def.name = "dedup";
  def.boot = &dedup::boot_dedup;
  def.properties = {"restorable", "refcounts-balance", "damage-found", "progress"};
  def.bugs = {"skip-decrement", "commit-unsynced", "verify-skips-data"};
  def.probes = {"DedupVersionCommitted", "DedupRunStats", "DedupVerified", "DedupClientRemove"};
  def.validate = [](const toml::table& workload, std::string_view source) -> Status {
    auto w = read_workload(workload, source);
    if (!w) return w.error();
    return {};
  };
  def.make = [](const ScenarioSpec& spec, std::uint64_t seed) -> std::unique_ptr<ScenarioDriver> {
    auto w = read_workload(spec.workload, spec.path);
    DOPPEL_ASSERT(w.ok());
    return std::make_unique<DedupDriver>(spec, *w, seed);
  };
  return def;
}

}  // namespace doppel::scenarios
