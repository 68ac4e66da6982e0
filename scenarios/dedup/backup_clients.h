#pragma once
// The dedup scenario's clients, on the client node: per image, one that backs
// up the image's version series and after each backup may read a version
// back (whole, or a byte range and its HEAD), remove one and collect garbage;
// and racers that press on the same image meanwhile (reads, puts of the same
// image, gc, verify). What the server acknowledged goes into the ledger, the
// model the final checks judge the store against.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "components/dedup/api/client.h"
#include "properties/dedup/backup_ledger.h"
#include "properties/dedup/image_series.h"
#include "runtime/runtime.h"
#include "scenarios/dedup/dedup_workload.h"
#include "scenarios/dedup/stored_damage.h"
#include "sim/world.h"

namespace doppel::scenarios {

inline constexpr std::uint16_t kDedupPort = 8080;
inline constexpr const char* kDedupServer = "dedup0";

// The dedup scenario's parts report through its driver, which alone knows the scenario's
// properties and probes (ClusterDriver).
class DedupReports {
 public:
  // An operation the workload sent ("put", "read-range"...), for the swarm's reach table.
  virtual void reached(std::string_view op) = 0;
  virtual bool wants(std::string_view property) const = 0;
  // Fails `property` if the scenario checks it; true if it did.
  virtual bool violated(std::string_view property, std::string detail) = 0;

 protected:
  ~DedupReports() = default;
};

// For the run's closing DedupRunStats event.
struct DedupRunCounts {
  std::uint64_t committed = 0, maybe_committed = 0, removed = 0, reads = 0, gcs = 0, failed_ops = 0;
};

class DedupBackupClients {
 public:
  // `rt`: the client node's, which never crashes.
  DedupBackupClients(sim::World& world, Runtime& rt, DedupReports& reports, const DedupWorkload& w,
                     const properties::dedup::ImageSeries& series,
                     properties::dedup::BackupLedger& ledger, const DedupStoredDamage& damage)
      : world_(world),
        rt_(rt),
        reports_(reports),
        w_(w),
        series_(series),
        ledger_(ledger),
        damage_(damage) {}

  // Runs every image's client and racers until they are done, then waits for the faults to
  // heal.
  void run();
  void quiet(Instant since) { quiet_since_ = since; }

  // Odd images' clients stream their segments chunked (pieces of 1 to 64 KiB).
  std::unique_ptr<dedup::DedupClient> make_client(std::uint32_t image = 0);
  void backoff(int attempt);
  // Reads the version whole; true if it is the series' version `content`.
  Result<bool> same(dedup::DedupClient& client, std::uint32_t image, dedup::VersionNumber v,
                    std::uint32_t content);
  std::string name(std::uint32_t image) const { return series_.image_name(image); }
  const DedupRunCounts& counts() const { return counts_; }

 private:
  Result<dedup::VersionNumber> put_once(dedup::DedupClient& client, std::uint32_t image,
                                        std::uint32_t content);
  bool put(dedup::DedupClient& client, std::uint32_t image, std::uint32_t content);
  void read_some(dedup::DedupClient& client, std::uint32_t image);
  void read_range_some(dedup::DedupClient& client, std::uint32_t image);
  void remove_some(dedup::DedupClient& client, std::uint32_t image);
  void run_client(std::uint32_t image);
  void race_once(dedup::DedupClient& client, std::uint32_t image);
  void race(std::uint32_t image, const std::vector<char>& image_done);

  sim::World& world_;
  Runtime& rt_;
  DedupReports& reports_;
  const DedupWorkload& w_;
  const properties::dedup::ImageSeries& series_;
  properties::dedup::BackupLedger& ledger_;
  const DedupStoredDamage& damage_;
  DedupRunCounts counts_;
  std::optional<Instant> quiet_since_;
};

}  // namespace doppel::scenarios
