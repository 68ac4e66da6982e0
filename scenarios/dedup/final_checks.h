#pragma once
// The dedup scenario's checks once the faults have healed, in order: every
// version restorable (restorable), the store's accounting as /stats and /metrics tell it
// (listing-accurate),
// reads that failed on damaged data explained by verify, the reference counts
// by the store's own check and then off the disk without its word
// (refcounts-balance), and one more bit flipped for verify to find
// (damage-found). dedup_driver.h says what each property holds the store to.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "components/dedup/api/client.h"
#include "components/metrics/exposition.h"
#include "properties/dedup/backup_ledger.h"
#include "properties/dedup/image_series.h"
#include "properties/dedup/reference_counts.h"
#include "scenarios/dedup/backup_clients.h"
#include "scenarios/dedup/stored_damage.h"
#include "sim/world.h"

namespace doppel::scenarios {

class DedupFinalChecks {
 public:
  // `server`: the node whose disk holds the store.
  DedupFinalChecks(sim::World& world, sim::NodeId server, DedupReports& reports,
                   DedupBackupClients& clients, const properties::dedup::ImageSeries& series,
                   const properties::dedup::BackupLedger& ledger, const DedupStoredDamage& damage)
      : world_(world),
        server_(server),
        reports_(reports),
        clients_(clients),
        series_(series),
        ledger_(ledger),
        damage_(damage) {}

  // False if a property failed or the server never answered.
  bool run(dedup::DedupClient& client);
  // For the run's closing DedupRunStats event.
  std::uint64_t damage_answers() const { return damage_answers_; }

 private:
  template <typename Op>
  auto retried(dedup::DedupClient& client, Op op, bool read = false) -> decltype(op());
  bool damage_reported(const Error& e) const;
  bool all_restorable(dedup::DedupClient& client, std::string_view property,
                      bool allow_damage = true);
  bool damage_explains_failed_reads(dedup::DedupClient& client);
  bool accounting_agrees(dedup::DedupClient& client);
  bool metrics_agree(dedup::DedupClient& client, const dedup::StoreStats& stats);
  properties::dedup::StoreFiles store_files();
  bool reference_counts_balance();

  sim::World& world_;
  sim::NodeId server_;
  DedupReports& reports_;
  DedupBackupClients& clients_;
  const properties::dedup::ImageSeries& series_;
  const properties::dedup::BackupLedger& ledger_;
  const DedupStoredDamage& damage_;
  // Per image, the versions of the last full listing, each matched to a committed content:
  // its size.
  std::vector<std::map<std::uint64_t, std::uint64_t>> matched_sizes_;
  std::uint64_t damage_answers_ = 0;  // failures accepted because of it, verify permitting
  std::set<std::tuple<std::uint32_t, dedup::VersionNumber, std::string>> unreadable_;
};

}  // namespace doppel::scenarios
