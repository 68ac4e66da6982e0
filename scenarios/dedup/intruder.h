#pragma once
// Requests the backup server must refuse, sent while the workload runs (the access-enforced
// property): none or wrong credentials on any route (401), the append-only user's remove and
// gc (403), a plain user's reads of images that are not its own under private_repos (403, and
// listings that leave them out). The server's users and roles are scenario_users.h's.
//
// A refusal that succeeds is a violation; so is an answer other than the refusal's status,
// 408 or a 5xx (a server under faults may time out or fail, never say yes). A removal that
// went through would also show at the end: the ledger never hears of it, so the version is
// still expected (restorable, listing-accurate).

#include <cstdint>

#include "components/dedup/api/client.h"
#include "properties/dedup/backup_ledger.h"
#include "properties/dedup/image_series.h"
#include "runtime/runtime.h"
#include "scenarios/dedup/backup_clients.h"
#include "scenarios/dedup/dedup_workload.h"

namespace doppel::scenarios {

class DedupIntruder {
 public:
  DedupIntruder(Runtime& rt, DedupReports& reports, const properties::dedup::BackupLedger& ledger,
                const properties::dedup::ImageSeries& series, const DedupWorkload& w)
      : rt_(rt), reports_(reports), ledger_(ledger), series_(series), w_(w) {}

  // One request the server must refuse, drawn at random, and its answer judged.
  void attempt();

 private:
  dedup::DedupClient client(const std::string& authorization) const;
  // Judges the answer to `what`, which `status` must refuse.
  template <class T>
  void judge(const dedup::DedupClient& c, const Result<T>& answer, int status,
             const std::string& what);

  Runtime& rt_;
  DedupReports& reports_;
  const properties::dedup::BackupLedger& ledger_;
  const properties::dedup::ImageSeries& series_;
  const DedupWorkload& w_;
};

}  // namespace doppel::scenarios
