#include "scenarios/dedup/dedup_driver.h"

#include <memory>

#include "components/dedup/dedup.h"
#include "properties/dedup/backup_ledger.h"
#include "properties/dedup/image_series.h"
#include "scenarios/cluster_driver.h"
#include "scenarios/dedup/backup_clients.h"
#include "scenarios/dedup/dedup_workload.h"
#include "scenarios/dedup/final_checks.h"
#include "scenarios/dedup/stored_damage.h"
#include "scenarios/node_settings.h"
#include "scenarios/scenario_users.h"

namespace doppel::scenarios {
namespace {

using namespace std::chrono_literals;
using properties::dedup::BackupLedger;
using properties::dedup::ImageSeries;

class DedupDriver final : public ClusterDriver, private DedupReports {
 public:
  DedupDriver(const ScenarioSpec& spec, DedupWorkload w, std::uint64_t seed)
      : ClusterDriver(spec), w_(w.for_seed(seed)), series_(dedup_series_options(w_, seed)) {}

  void setup(sim::World& world) override {
    auto read = read_node_settings<dedup::DedupSettings>("dedup", w_.node_config());
    DOPPEL_ASSERT(read.ok());  // validated with the scenario
    dedup::DedupSettings settings = *read;
    // The clients cut at the workload's segment size, and the final checks count on the rest.
    DOPPEL_ASSERT_MSG(settings.segment_bytes == static_cast<std::uint32_t>(w_.segment_mb) << 20 &&
                          settings.store.segment_bytes_max == settings.segment_bytes &&
                          settings.store.rebuild_threshold_percent ==
                              static_cast<std::uint32_t>(w_.rebuild_threshold_percent) &&
                          settings.store.image_bytes_max == 1ull << 30 &&
                          settings.store.unreferenced_ttl == 2s &&
                          settings.store.hash == w_.hash_kind() &&
                          settings.store.cross_dedup_segments_per_mib ==
                              static_cast<std::uint32_t>(w_.cross_dedup_segments_per_mib),
                      "the node config's [dedup] table was read as other settings than it holds");
    settings.store.planted_bug =
        *dedup::dedup_planted_bug(component_bug());  // validated with the scenario
    // Users and roles (scenario_users.h), which the intruder's requests test.
    settings.access.users = scenario_users();
    settings.policy.private_repos = true;
    // The append-only user sees every image (a fleet's backup agent), so only its role keeps
    // it from removing them.
    settings.policy.admins = {kOwner.name, kNightly.name};
    settings.policy.append_only = {kNightly.name};
    add_cluster(world, "dedup", [&](std::uint32_t i, const std::string& name) -> NodeBoot {
      NodeConfig c;
      c.name = name;
      c.node_id = i;
      c.component = "dedup";
      c.listen = Endpoint{name, kDedupPort};
      return [c, settings](Runtime& rt) { return dedup::boot(rt, c, settings); };
    });
    DedupReports& reports = *this;
    clients_ = std::make_unique<DedupBackupClients>(world, client_runtime(), reports, w_, series_,
                                                    ledger_, damage_);
    checks_ = std::make_unique<DedupFinalChecks>(world, servers_[0], reports, *clients_, series_,
                                                 ledger_, damage_);
    world.set_observer([this](sim::NodeId, const Event& e) {
      if (e.name() == "SimDiskCorrupt") damage_.flipped(e);
    });
    world.spawn(client_node_, 0, "dedup-clients", [this] {
      clients_->run();
      auto client = clients_->make_client();
      if (checks_->run(*client)) checked_ = true;
    });
  }

  void on_quiet(sim::World& world) override { clients_->quiet(world.now()); }
  bool finished() const override { return checked_; }

  void check(sim::World& world) override {
    if (!checked_ && !world.failed())
      world.fail("progress", "the final checks did not finish after the faults healed");
    const DedupRunCounts& n = clients_->counts();
    world.record(sim::kNoNode, 0,
                 Event("DedupRunStats")
                     .detail("committed", n.committed)
                     .detail("maybe_committed", n.maybe_committed)
                     .detail("removed", n.removed)
                     .detail("reads", n.reads)
                     .detail("gcs", n.gcs)
                     .detail("failed_ops", n.failed_ops)
                     .detail("damage_answers", checks_->damage_answers()));
  }

 private:
  void reached(std::string_view op) override { ClusterDriver::reached(op); }
  bool wants(std::string_view property) const override { return ClusterDriver::wants(property); }
  bool violated(std::string_view property, std::string detail) override {
    return ClusterDriver::violated(property, std::move(detail));
  }

  DedupWorkload w_;
  ImageSeries series_;
  BackupLedger ledger_;
  DedupStoredDamage damage_;
  std::unique_ptr<DedupBackupClients> clients_;
  std::unique_ptr<DedupFinalChecks> checks_;
  bool checked_ = false;
};

}  // namespace

ComponentDef dedup_component() {
  ComponentDef def;
  def.name = "dedup";
  def.properties = {"restorable",       "refcounts-balance", "damage-found",
                    "listing-accurate", "access-enforced",   "progress"};
  def.bugs = {"skip-decrement",       "verify-skips-data",      "failed-commit-keeps-lock",
              "summary-takes-oldest", "punch-keeps-last-block", "append-only-removes",
              "borrow-uncounted",     "borrow-unchecked"};
  def.probes = {"DedupVersionCommitted", "DedupRunStats", "DedupVerified", "DedupClientRemove"};
  def.buggify_components = {"dedup", "http"};  // its API is HTTP
  def.validate = [](const toml::table& workload, std::string_view source) -> Status {
    auto w = read_dedup_workload(workload, source);
    if (!w) return w.error();
    // A node must boot with what the workload asks of it, as doppel serve would check it.
    for (const char* hash : {"sha256", "sha1"}) {
      DedupWorkload settled = *w;
      if (settled.hash == "swarm") settled.hash = hash;
      if (settled.cross_dedup_segments_per_mib < 0) settled.cross_dedup_segments_per_mib = 16;
      auto s = read_node_settings<dedup::DedupSettings>("dedup", settled.node_config());
      if (!s) {
        return make_error(
            Errc::invalid_argument,
            std::string(source) +
                ": the nodes refuse the settings [workload] gives them: " + s.error().what);
      }
    }
    return {};
  };
  def.make = [](const ScenarioSpec& spec, std::uint64_t seed) -> std::unique_ptr<ScenarioDriver> {
    auto w = read_dedup_workload(spec.workload, spec.path);
    DOPPEL_ASSERT(w.ok());
    return std::make_unique<DedupDriver>(spec, *w, seed);
  };
  return def;
}

}  // namespace doppel::scenarios
