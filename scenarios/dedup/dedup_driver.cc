#include "scenarios/dedup/dedup_driver.h"

#include <functional>
#include <map>
#include <set>
#include <tuple>

#include "components/dedup/api/client.h"
#include "components/dedup/api/uploader.h"
#include "components/dedup/dedup.h"
#include "properties/dedup/backup_ledger.h"
#include "properties/dedup/image_series.h"
#include "properties/dedup/listing_accuracy.h"
#include "properties/dedup/reference_counts.h"
#include "scenarios/cluster_driver.h"
#include "sim/disk.h"

namespace doppel::scenarios {
namespace {

using namespace std::chrono_literals;
using dedup::VersionNumber;
using properties::dedup::BackupLedger;
using properties::dedup::ImageSeries;
using properties::dedup::ImageSeriesOptions;

constexpr std::uint16_t kPort = 8080;
constexpr const char* kServer = "dedup0";
// Where the store keeps its files on the server's simulated disk (StoreOptions::dir).
constexpr std::string_view kStoreDir = "dedup";
constexpr const char* kSegmentFiles = "dedup/segments/";
constexpr std::size_t kStoreDirsMax = 1024;  // directories walked for the reference-count oracle
constexpr int kAttemptsMax = 400;  // per final check (the puts are bounded by liveness_ms)

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
  std::int64_t liveness_ms = 60000;  // after the heal, each put succeeds within this
  // Racers: per image, fibers that race the image's backups with reads of live versions (a
  // restore while the next commit compacts its segments), puts of the same image, gc and
  // verify, in these weights.
  std::int64_t racers = 1;
  std::int64_t race_read = 50, race_put = 15, race_gc = 15, race_verify = 20;
};

Result<Workload> read_workload(const toml::table& t, std::string_view source) {
  Workload w;
  TomlFields f(t, source);
  w.images = f.integer("images", 1, 16, w.images);
  w.versions = f.integer("versions", 1, 64, w.versions);
  w.image_kb = f.integer("image_kb", 4, 64 * 1024, w.image_kb);
  w.segment_mb = f.integer("segment_mb", 1, 32, w.segment_mb);
  w.edit_permille = f.integer("edit_permille", 0, 1000, w.edit_permille);
  w.read_percent = f.integer("read_percent", 0, 100, w.read_percent);
  w.remove_percent = f.integer("remove_percent", 0, 100, w.remove_percent);
  w.gc_percent = f.integer("gc_percent", 0, 100, w.gc_percent);
  w.rebuild_threshold_percent =
      f.integer("rebuild_threshold_percent", 1, 100, w.rebuild_threshold_percent);
  w.timeout_ms = f.integer("timeout_ms", 10, 600000, w.timeout_ms);
  w.pause_ms = f.integer("pause_ms", 0, 600000, w.pause_ms);
  w.liveness_ms = f.integer("liveness_ms", 1000, 3600000, w.liveness_ms);
  w.racers = f.integer("racers", 0, 4, w.racers);
  w.race_read = f.integer("race_read", 0, 100, w.race_read);
  w.race_put = f.integer("race_put", 0, 100, w.race_put);
  w.race_gc = f.integer("race_gc", 0, 100, w.race_gc);
  w.race_verify = f.integer("race_verify", 0, 100, w.race_verify);
  f.reject_unknown_keys();
  if (f.ok() && w.image_kb % 4 != 0) f.fail("image_kb", "expected a multiple of 4");
  if (!f.ok()) return f.error();
  return w;
}

class DedupDriver final : public ClusterDriver {
 public:
  DedupDriver(const ScenarioSpec& spec, Workload w, std::uint64_t seed)
      : ClusterDriver(spec), w_(w), series_(series_options(w, seed)) {}

  void setup(sim::World& world) override {
    dedup::DedupSettings settings;
    settings.segment_bytes = static_cast<std::uint32_t>(w_.segment_mb) << 20;
    settings.store.segment_bytes_max = settings.segment_bytes;
    settings.store.rebuild_threshold_percent =
        static_cast<std::uint32_t>(w_.rebuild_threshold_percent);
    settings.store.image_bytes_max = 1ull << 30;
    settings.store.unreferenced_ttl = 2s;
    settings.store.planted_bug =
        *dedup::dedup_planted_bug(component_bug());  // validated with the scenario
    add_cluster(world, "dedup", [&](std::uint32_t i, const std::string& name) -> NodeBoot {
      NodeConfig c;
      c.name = name;
      c.node_id = i;
      c.component = "dedup";
      c.listen = Endpoint{name, kPort};
      return [c, settings](Runtime& rt) { return dedup::boot(rt, c, settings); };
    });
    world.set_observer([this](sim::NodeId, const Event& e) {
      if (e.name() == "SimDiskCorrupt") damaged(e);
    });
    world.spawn(client_node_, 0, "dedup-clients", [this] { run_clients(); });
  }

  void on_quiet(sim::World& world) override { quiet_since_ = world.now(); }
  bool finished() const override { return checked_; }

  void check(sim::World& world) override {
    if (!checked_ && !world.failed())
      world.fail("progress", "the final checks did not finish after the faults healed");
    world.record(sim::kNoNode, 0,
                 Event("DedupRunStats")
                     .detail("committed", committed_)
                     .detail("maybe_committed", maybe_committed_)
                     .detail("removed", removed_)
                     .detail("reads", reads_)
                     .detail("gcs", gcs_)
                     .detail("failed_ops", failed_ops_)
                     .detail("damage_answers", damage_answers_));
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

  // A disk_corrupt flip: the store may now answer `corrupt`, and the file it hit (store-relative)
  // may fail to decode in the reference-count oracle.
  void damaged(const Event& e) {
    stored_damage_ = true;
    std::string path;
    std::optional<std::uint64_t> byte;
    for (int i = 0; i < e.detail_count(); ++i) {
      const Event::Detail& d = e.detail_at(i);
      if (d.key == "path") path = d.text;
      if (d.key == "byte" && d.number >= 0) byte = static_cast<std::uint64_t>(d.number);
    }
    if (!byte || !path.starts_with(std::string(kStoreDir) + "/")) return;
    damaged_files_[path.substr(kStoreDir.size() + 1)].insert(*byte);
  }

  Runtime& rt() { return client_runtime(); }
  std::string name(std::uint32_t image) const { return series_.image_name(image); }

  // Odd images' clients stream their segments chunked (pieces of 1 to 64 KiB).
  std::unique_ptr<dedup::DedupClient> make_client(std::uint32_t image = 0) {
    dedup::DedupClientOptions o;
    if (image % 2 == 1) o.upload_chunk_bytes = 1 + rt().random().below(64 << 10);
    o.request_timeout = std::chrono::milliseconds(w_.timeout_ms);
    o.transfer_io_timeout = std::chrono::milliseconds(w_.timeout_ms);
    o.admin_timeout = std::chrono::milliseconds(w_.timeout_ms * 4);
    return std::make_unique<dedup::DedupClient>(rt(), Endpoint{kServer, kPort}, o);
  }

  void backoff(int attempt) {
    rt().sleep(std::chrono::milliseconds(50 + 25 * std::min(attempt, 40)));
  }

  // One upload and commit of series version `content`.
  Result<VersionNumber> put_once(dedup::DedupClient& client, std::uint32_t image,
                                 std::uint32_t content) {
    dedup::UploadOptions o;
    o.cutter.segment_bytes = static_cast<std::uint32_t>(w_.segment_mb) << 20;
    dedup::Uploader up(rt(), client, name(image), o);
    Status fed;
    series_.write(
        image, content,
        [&](std::string_view chunk) {
          fed = up.feed(chunk);
          return fed.ok();
        },
        256u << 10);
    if (!fed) return fed.error();
    auto committed = up.finish();
    if (!committed) return committed.error();
    return committed->version;
  }

  // Backs up series version `content` of the image until a commit is acknowledged.
  // During the fault phase it keeps trying; once the faults have healed it must succeed within
  // the liveness bound (retries inside it are fine), or progress fails.
  bool put(dedup::DedupClient& client, std::uint32_t image, std::uint32_t content) {
    const Instant started = rt().now();
    for (int attempt = 0;; ++attempt) {
      auto v = put_once(client, image, content);
      reached("put");
      rt().record(Event("DedupClientPut")
                      .detail("image", image)
                      .detail("content", content)
                      .detail("version", v ? *v : 0)
                      .detail("error", v ? "" : v.error().message()));
      if (v) {
        if (!ledger_.committed(image, *v, content)) {
          world_->fail("restorable",
                       name(image) + " version " + std::to_string(*v) + " was acknowledged twice");
        }
        ++committed_;
        return true;
      }
      // The commit may have happened before the answer was lost.
      ledger_.maybe_committed(image, content);
      ++maybe_committed_;
      // The store found the damage the disk did and takes no more changes
      // (read-only until an operator repairs it): what it claims to do.
      if (v.code() == Errc::corrupt && stored_damage_) {
        ++failed_ops_;
        return false;
      }
      if (quiet_since_ && rt().now() - std::max(*quiet_since_, started) >
                              std::chrono::milliseconds(w_.liveness_ms)) {
        ++failed_ops_;
        world_->fail("progress", name(image) + ": a put after the heal did not succeed within " +
                                     std::to_string(w_.liveness_ms) +
                                     " ms: " + v.error().message());
        return false;
      }
      backoff(attempt);
    }
  }

  // Reads the version whole; true if it is the series' version `content`.
  Result<bool> same(dedup::DedupClient& client, std::uint32_t image, VersionNumber v,
                    std::uint32_t content) {
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
    const auto live = ledger_.live(image);
    if (live.empty()) return;
    const auto [v, content] = live[rt().random().below(live.size())];
    auto r = same(client, image, v, content);
    reached("read");
    if (r && !*r)
      violated("restorable",
               name(image) + " version " + std::to_string(v) + " read back different bytes");
  }

  // One byte range of a live version, in one of the forms a client sends (RFC 9110 14.1.2:
  // first-last, first-, -suffix; sometimes past the end), and the version's head: which
  // bytes came is worked out here from the size the series says, and they must be its bytes.
  void read_range_some(dedup::DedupClient& client, std::uint32_t image) {
    const auto live = ledger_.live(image);
    if (live.empty()) return;
    Prng& rng = rt().random();
    const auto [v, content] = live[rng.below(live.size())];
    const std::uint64_t size = series_.bytes(image, content);
    const std::uint64_t a = rng.below(size + size / 8 + 1);
    const std::uint64_t n = rng.below(size / 4 + 2);
    std::string range = "bytes=";
    std::optional<std::pair<std::uint64_t, std::uint64_t>> want;  // nullopt: a 416
    switch (rng.below(3)) {
      case 0:
        range += std::to_string(a) + "-" + std::to_string(a + n);
        if (a < size) want = {a, std::min(a + n, size - 1)};
        break;
      case 1:
        range += std::to_string(a) + "-";
        if (a < size) want = {a, size - 1};
        break;
      default:
        range += "-" + std::to_string(n);
        if (n > 0 && size > 0) want = {size - std::min(n, size), size - 1};
        break;
    }
    const std::string what = name(image) + " version " + std::to_string(v) + " " + range;
    std::string expected;
    bool equal = true;
    std::uint64_t offset = 0;
    auto r = client.read_range(name(image), v, range, [&](std::string_view piece) -> Status {
      if (!want) return {};  // a 416's reason
      expected.resize(piece.size());
      const std::uint64_t from = (want ? want->first : 0) + offset;
      if (series_.read(image, content, from, expected) != piece.size() || expected != piece)
        equal = false;
      offset += piece.size();
      return {};
    });
    reached(want ? "read-range" : "read-range-past-end");
    if (r) {
      const bool as_wanted = want ? !r->unsatisfiable && !r->whole && r->first == want->first &&
                                        r->last == want->second
                                  : r->unsatisfiable || (r->whole && size == 0);
      if (!as_wanted || r->size != size || !equal) {
        violated("restorable",
                 what + " of " + std::to_string(size) + " bytes answered " +
                     (r->unsatisfiable ? std::string("416")
                                       : std::to_string(r->first) + "-" + std::to_string(r->last)) +
                     " of " + std::to_string(r->size) +
                     (equal ? "" : ", with bytes that are not the version's"));
        return;
      }
    }
    auto head = client.head(name(image), v);
    reached("head");
    if (head && (head->version != v || head->bytes != size)) {
      violated("restorable", name(image) + " version " + std::to_string(v) +
                                 ": HEAD says version " + std::to_string(head->version) + " of " +
                                 std::to_string(head->bytes) + " bytes, not " +
                                 std::to_string(size));
    }
  }

  void remove_some(dedup::DedupClient& client, std::uint32_t image) {
    const auto removable = ledger_.removable(image);
    if (removable.empty()) return;
    const VersionNumber v = removable[rt().random().below(removable.size())];
    ledger_.removing(image, v);
    auto r = client.remove(name(image), v);
    reached("remove");
    rt().record(Event("DedupClientRemove")
                    .detail("image", image)
                    .detail("version", v)
                    .detail("ok", r.ok()));
    if (r) {
      ledger_.removed(image, v);
      ++removed_;
    }
  }

  void run_client(std::uint32_t image) {
    auto client = make_client(image);
    Prng& rng = rt().random();
    for (std::uint32_t content = 1; content <= series_.options().versions; ++content) {
      if (w_.pause_ms > 0) rt().sleep(std::chrono::milliseconds(rng.between(0, 2 * w_.pause_ms)));
      if (!put(*client, image, content)) return;
      if (rng.chance(static_cast<std::uint64_t>(w_.read_percent), 100)) read_some(*client, image);
      if (rng.chance(static_cast<std::uint64_t>(w_.read_percent), 100)) {
        read_range_some(*client, image);
      }
      if (rng.chance(static_cast<std::uint64_t>(w_.remove_percent), 100))
        remove_some(*client, image);
      if (rng.chance(static_cast<std::uint64_t>(w_.gc_percent), 100)) {
        reached("gc");
        gcs_ += client->gc().ok() ? 1 : 0;
      }
    }
  }

  // One race against the image's backups: what it does is drawn from the race weights.
  void race_once(dedup::DedupClient& client, std::uint32_t image) {
    Prng& rng = rt().random();
    const std::uint64_t total =
        static_cast<std::uint64_t>(w_.race_read + w_.race_put + w_.race_gc + w_.race_verify);
    if (total == 0) return;
    auto roll = static_cast<std::int64_t>(rng.below(total));
    if ((roll -= w_.race_read) < 0) {
      read_some(client, image);
    } else if ((roll -= w_.race_put) < 0) {
      // A second upload of the same image at once: it commits a version of its own, or not.
      const auto content = static_cast<std::uint32_t>(1 + rng.below(series_.options().versions));
      auto v = put_once(client, image, content);
      reached("put-racing");
      if (!v) {
        ledger_.maybe_committed(image, content);
      } else if (!ledger_.committed(image, *v, content)) {
        world_->fail("restorable",
                     name(image) + " version " + std::to_string(*v) + " was acknowledged twice");
      }
    } else if ((roll -= w_.race_gc) < 0) {
      reached("gc-racing");
      gcs_ += client.gc().ok() ? 1 : 0;
    } else {
      // Verify while versions are written: it must neither crash nor block the writers; its
      // verdict is judged at the end, on a quiet store.
      reached("verify-racing");
      (void)client.verify();
    }
  }

  // Races the image's backups until they are done (image_done[image]) or the faults heal.
  void race(std::uint32_t image, const std::vector<char>& image_done) {
    auto client = make_client(image + 1);
    while (!image_done[image] && !quiet_since_) {
      if (w_.pause_ms > 0)
        rt().sleep(std::chrono::milliseconds(rt().random().between(0, w_.pause_ms)));
      if (image_done[image] || quiet_since_) break;
      race_once(*client, image);
    }
  }

  void run_clients() {
    int running = 0;
    Condition done(rt());
    std::vector<char> image_done(series_.options().images, 0);
    auto start = [&](std::string_view name, std::function<void()> body) {
      ++running;
      rt().spawn(name, [body = std::move(body), &running, &done] {
        body();
        --running;
        done.notify_all();
      });
    };
    for (std::uint32_t image = 0; image < series_.options().images; ++image) {
      start("dedup-client", [this, image, &image_done] {
        run_client(image);
        image_done[image] = 1;
      });
      for (std::int64_t r = 0; r < w_.racers; ++r) {
        start("dedup-racer", [this, image, &image_done] { race(image, image_done); });
      }
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

  // The disk damaged stored data (disk_corrupt) and the store says so: an
  // answer the store may give instead of the data, never wrong bytes.
  bool damage_reported(const Error& e) const { return stored_damage_ && e.code == Errc::corrupt; }

  // Every listed version is one a client committed and restores byte-identical; every
  // acknowledged version not removed is listed. False if a property failed or the server
  // never answered. Once the disk damaged stored data (disk_corrupt), a version may fail to
  // read instead (a refusal, or an answer cut short once the damage shows mid-stream: never
  // wrong bytes), provided verify then names damage in it (damage_explains_failed_reads).
  bool all_restorable(dedup::DedupClient& client, std::string_view property,
                      bool allow_damage = true) {
    matched_sizes_.assign(series_.options().images, {});
    for (std::uint32_t image = 0; image < series_.options().images; ++image) {
      auto listed = retried(client, [&] { return client.list_versions(name(image)); });
      if (!listed && listed.code() == Errc::not_found) listed = std::vector<dedup::VersionInfo>{};
      if (!listed && allow_damage && damage_reported(listed.error())) {
        ++damage_answers_;
        continue;
      }
      if (!listed) {
        world_->fail("progress", "listing " + name(image) + ": " + listed.error().message());
        return false;
      }
      std::set<VersionNumber> present;
      for (const dedup::VersionInfo& info : *listed) {
        present.insert(info.version);
        const std::vector<std::uint32_t> candidates = ledger_.candidates(image, info.version);
        bool matched = false;
        for (std::uint32_t content : candidates) {
          if (series_.bytes(image, content) != info.image_bytes) continue;
          auto r = retried(
              client, [&] { return same(client, image, info.version, content); }, true);
          if (!r && allow_damage && stored_damage_) {
            ++damage_answers_;
            unreadable_.emplace(image, info.version, r.error().message());
            matched = true;
            break;
          }
          if (!r) {
            world_->fail(property, name(image) + " version " + std::to_string(info.version) +
                                       " cannot be read: " + r.error().message());
            return false;
          }
          if (*r) {
            matched = true;
            matched_sizes_[image][info.version] = series_.bytes(image, content);
            break;
          }
        }
        if (!matched &&
            violated(property, name(image) + " version " + std::to_string(info.version) + " (" +
                                   std::to_string(info.image_bytes) +
                                   " bytes) is not what any client committed")) {
          return false;
        }
      }
      if (auto wrong = ledger_.judge_listing(image, present);
          wrong && violated(property, name(image) + " " + *wrong)) {
        return false;
      }
    }
    return true;
  }

  // Every version that could not be read after the disk damaged stored data is one verify
  // names damage in (or verify names a damaged metadata file).
  bool damage_explains_failed_reads(dedup::DedupClient& client) {
    if (unreadable_.empty()) return true;
    auto report = retried(client, [&] { return client.verify(); });
    if (!report) {
      world_->fail("progress", "verify: " + report.error().message());
      return false;
    }
    if (!report->problems.empty()) return true;
    for (const auto& [image, version, error] : unreadable_) {
      bool named = false;
      for (const dedup::Damage& d : report->damage)
        named |= d.image == name(image) && d.version == version;
      if (!named && report->damage_count <= report->damage.size()) {
        world_->fail("restorable", name(image) + " version " + std::to_string(version) +
                                       " cannot be read (" + error +
                                       ") and verify names no damage in it");
        return false;
      }
    }
    return true;
  }

  // The store's own accounting against the versions the final listing showed and the driver
  // matched byte for byte to what a client committed: GET /images and GET /stats must count
  // exactly those versions and their sizes. (Not decidable once stored data was damaged: a
  // version that cannot be read was matched to no size.)
  bool accounting_agrees(dedup::DedupClient& client) {
    if (!wants("listing-accurate") || stored_damage_) return true;
    auto images = retried(client, [&] { return client.list_images(); });
    auto stats = retried(client, [&] { return client.stats(); });
    if (!images || !stats) {
      world_->fail("progress", "the final listing of images or stats: " +
                                   (images ? stats.error() : images.error()).message());
      return false;
    }
    std::vector<properties::dedup::MatchedImage> matched;
    for (std::uint32_t image = 0; image < matched_sizes_.size(); ++image)
      matched.push_back({name(image), matched_sizes_[image]});
    std::vector<properties::dedup::ImageCount> told;
    for (const dedup::ImageSummary& s : *images)
      told.push_back({s.name, s.versions, s.oldest, s.latest, s.latest_bytes, s.logical_bytes});
    const std::optional<std::string> wrong =
        properties::dedup::judge_listing(matched, told, stats->versions, stats->logical_bytes);
    return !wrong || !violated("listing-accurate", *wrong);
  }

  // The store's files as the server's disk holds them now (what a read would return, without
  // read faults), by path under the store's root. Views into the disk: valid until it changes.
  properties::dedup::StoreFiles store_files() {
    sim::SimDisk& disk = world_->disk(servers_[0]);
    properties::dedup::StoreFiles files;
    std::vector<std::string> dirs{std::string(kStoreDir)};
    for (std::size_t i = 0; i < dirs.size() && i < kStoreDirsMax; ++i) {
      Result<std::vector<std::string>> names = disk.list(dirs[i]);
      if (!names) continue;  // no store yet
      for (const std::string& name : *names) {
        std::string path = dirs[i] + "/" + name;
        if (const sim::SimDisk::Inode* inode = disk.inode_at(path)) {
          files.emplace(path.substr(kStoreDir.size() + 1), inode->data);
        } else {
          dirs.push_back(std::move(path));
        }
      }
    }
    return files;
  }

  // refcounts-balance, judged without the store's word: the counts recomputed from the recipes
  // on the disk and the clients' model (properties/dedup/reference_counts.h).
  bool reference_counts_balance() {
    std::vector<std::string> names;
    for (std::uint32_t image = 0; image < series_.options().images; ++image)
      names.push_back(name(image));
    const properties::dedup::ReferenceCountReport r =
        properties::dedup::check_reference_counts(store_files(), names, ledger_, damaged_files_);
    world_->record(sim::kNoNode, 0,
                   Event("DedupReferenceCounts")
                       .detail("segments", r.segments)
                       .detail("recipes", r.recipes)
                       .detail("direct_references", r.direct_references)
                       .detail("blocks_hashed", r.blocks_hashed)
                       .detail("excused", r.excused.size())
                       .detail("exact", r.counts_exact)
                       .detail("first_excused", r.excused.empty() ? "" : r.excused.front()));
    if (!r.failure) return true;
    world_->fail("refcounts-balance", "on the disk: " + *r.failure);
    return false;
  }

  bool final_checks(dedup::DedupClient& client) {
    if (!all_restorable(client, "restorable")) return false;
    if (!accounting_agrees(client)) return false;
    if (!damage_explains_failed_reads(client)) return false;
    if (wants("refcounts-balance")) {
      // The store's own check first: it also settles the store (a change left logged by a failed
      // operation is replayed), so that the oracle reads the files of a store at rest.
      Status s = retried(client, [&] { return client.check(); });
      if (!s && damage_reported(s.error())) {
        ++damage_answers_;
      } else if (!s) {
        world_->fail("refcounts-balance", "the store's check: " + s.error().message());
        return false;
      }
      if (!reference_counts_balance()) return false;
    }
    if (!wants("damage-found")) return true;
    // One stored bit flips; verify must say so, or nothing readable may have changed.
    const std::optional<std::string> hit = world_->disk(servers_[0]).corrupt(kSegmentFiles);
    if (!hit) return true;
    auto report = retried(client, [&] { return client.verify(); });
    if (!report) {
      world_->fail("progress", "verify: " + report.error().message());
      return false;
    }
    world_->record(sim::kNoNode, 0,
                   Event("DedupVerifyAfterFlip")
                       .detail("file", *hit)
                       .detail("clean", report->clean())
                       .detail("damage", report->damage_count));
    // A store that reported damage earlier must not call itself clean now.
    if (report->clean() && damage_answers_ > 0) {
      world_->fail("damage-found", "verify says clean after the store answered `corrupt` " +
                                       std::to_string(damage_answers_) + " times");
      return false;
    }
    if (report->clean()) return all_restorable(client, "damage-found", false);
    return true;
  }

  Workload w_;
  ImageSeries series_;
  BackupLedger ledger_;
  std::uint64_t committed_ = 0, maybe_committed_ = 0, removed_ = 0, reads_ = 0, gcs_ = 0,
                failed_ops_ = 0;
  std::optional<Instant> quiet_since_;
  bool checked_ = false;
  bool stored_damage_ = false;                     // a disk_corrupt fault hit the server's disk
  properties::dedup::DamagedBytes damaged_files_;  // where it hit (store-relative path, byte)
  // Per image, the versions of the last full listing, each matched to a committed content:
  // its size.
  std::vector<std::map<std::uint64_t, std::uint64_t>> matched_sizes_;
  std::uint64_t damage_answers_ = 0;  // failures accepted because of it, verify permitting
  std::set<std::tuple<std::uint32_t, VersionNumber, std::string>> unreadable_;
};

}  // namespace

ComponentDef dedup_component() {
  ComponentDef def;
  def.name = "dedup";
  def.properties = {"restorable", "refcounts-balance", "damage-found", "listing-accurate",
                    "progress"};
  def.bugs = {"skip-decrement", "verify-skips-data", "failed-commit-keeps-lock",
              "summary-takes-oldest", "punch-keeps-last-block"};
  def.probes = {"DedupVersionCommitted", "DedupRunStats", "DedupVerified", "DedupClientRemove"};
  def.buggify_components = {"dedup", "http"};  // its API is HTTP
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
