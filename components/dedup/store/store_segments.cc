// The segment side of a change (a commit's reverse dedup, a removal): apply the count changes
// to every touched segment and stage what follows -- new metadata, holes to punch, compacted
// data files, dropped segments.
//
// Everything staged is durable before this returns, so the change commits only what is on the
// disk. The work overlaps three ways, because a commit's client waits for all of it:
// - the new metadata files are written and synced by fibers of their own, kSyncedWritesAtOnce
//   at a time, which wait on the disk while the compactions use the CPU;
// - compactions go two at a time: one re-hashed here, the other on a second core if the node
//   has one (the hashing is what a compaction spends its CPU on);
// - each compacted file is written and synced by a fiber while the next ones are re-hashed, one
//   write at a time.

#include <algorithm>

#include "components/dedup/store/fan_out.h"
#include "components/dedup/store/store.h"
#include "components/dedup/store/store_internal.h"
#include "runtime/future.h"

namespace doppel::dedup {
namespace {

// BUGGIFY (runtime/buggify.h): a segment losing blocks is compacted even below
// the rebuild threshold (a policy, not a contract: both keep every byte).
const BuggifySite kCompactNow{"dedup.segments.compact_now",
                              "a segment losing blocks is compacted, not punched"};

// Waits for a fiber's status, if there is one.
Status await_status(Future<Status>& pending) {
  if (!pending.valid()) return {};
  std::optional<Status> s = pending.get();
  pending = Future<Status>();
  if (!s) return make_error(Errc::cancelled, "the store is stopping");
  return *s;
}

}  // namespace

// A segment to compact: as it is, and as it becomes.
struct Store::Compaction {
  const SegmentMeta* before = nullptr;
  SegmentMeta after;
};

Status Store::plan_segments(const RefDeltas& deltas, Plan& plan, ChangeSet& change) {
  std::vector<Compaction> compactions;
  std::vector<std::pair<std::string, std::string>> metas;  // path, new content
  for (const auto& [id, block_deltas] : deltas) {
    // A segment both versions use: what one gains the other loses. Nothing to write (unless
    // it lent blocks: those go although no count changed).
    if (!plan.lent.contains(id) && std::all_of(block_deltas.begin(), block_deltas.end(),
                                               [](const auto& d) { return d.second == 0; })) {
      continue;
    }
    Result<const SegmentMeta*> before = loaded_meta(id, plan);
    if (!before) return before.error();
    const std::uint32_t threshold =
        buggify(rt_, kCompactNow) ? 0 : options_.rebuild_threshold_percent;
    RemovalPlan r = plan_block_removal(**before, block_deltas, threshold);
    plan.blocks_removed += r.removed.size();
    const std::uint64_t stored_before = (*before)->space().stored_bytes;
    const std::uint64_t stored_after =
        r.kind == RemovalKind::drop ? 0 : r.after.space().stored_bytes;
    DOPPEL_ASSERT(stored_after <= stored_before);
    plan.bytes_freed += stored_before - stored_after;
    stage_removal(**before, r, plan, change);
    if (r.kind == RemovalKind::drop) continue;
    metas.emplace_back(paths_.segment_meta(id), encode_segment_meta(r.after));
    if (r.kind == RemovalKind::compact) compactions.push_back(Compaction{*before, r.after});
    plan.metas.push_back(std::move(r.after));
  }
  Future<Status> metas_written = run_on(rt_, rt_.this_core(), [this, &change, &metas] {
    return fan_out(rt_, metas.size(), kSyncedWritesAtOnce,
                   [&](std::size_t i) { return change.stage(metas[i].first, metas[i].second); });
  });
  const Status compacted = compact(compactions);
  const Status staged = await_status(metas_written);
  return compacted ? staged : compacted;
}

// Stages what the plan does to the segment's files, but for its metadata and compacted data.
void Store::stage_removal(const SegmentMeta& before, const RemovalPlan& r, Plan& plan,
                          ChangeSet& change) {
  const std::string data_path = paths_.segment_data(before.id, before.generation);
  switch (r.kind) {
    case RemovalKind::drop:
      change.remove(paths_.segment_meta(before.id));
      change.discard(data_path);
      plan.dropped.push_back(before.id);
      ++plan.segments_dropped;
      break;
    case RemovalKind::punch:
      for (const PunchRun& run : r.punches) {
        std::uint64_t length = run.length;
        if (options_.planted_bug == PlantedBug::punch_keeps_last_block) {
          length -= std::min<std::uint64_t>(length, kBlockBytes);
          if (length == 0) continue;
        }
        change.punch(data_path, run.offset, length);
      }
      plan.blocks_punched += r.removed.size();
      ++plan.segments_punched;
      break;
    case RemovalKind::compact:
      change.created(paths_.segment_data(before.id, r.after.generation));
      change.discard(data_path);
      ++plan.segments_compacted;
      break;
    case RemovalKind::none:
      break;
  }
}

// Writes every compacted data file, synced.
Status Store::compact(const std::vector<Compaction>& compactions) {
  const CoreId here = rt_.this_core();
  const CoreId other = rt_.core_count() > 1 ? (here + 1) % rt_.core_count() : here;
  Future<Status> write;  // the compacted file being written, if any
  Status status;         // the first failure
  for (std::size_t i = 0; i < compactions.size() && status; i += 2) {
    Future<Result<std::string>> second;
    if (i + 1 < compactions.size()) {
      second = run_on(rt_, here,
                      [this, &c = compactions[i + 1], other] { return compacted_data(c, other); });
    }
    std::vector<Result<std::string>> pair;
    pair.push_back(compacted_data(compactions[i], here));
    if (second.valid()) {
      std::optional<Result<std::string>> got =
          second.get();  // always awaited: it reads `compactions`
      pair.push_back(got ? std::move(*got) : make_error(Errc::cancelled, "the store is stopping"));
    }
    for (std::size_t k = 0; k < pair.size() && status; ++k) {
      if (!pair[k]) {
        status = pair[k].error();
      } else if (Status s = await_status(write); !s) {
        status = s;
      } else {
        const Compaction& c = compactions[i + k];
        write = run_on(rt_, here,
                       [this, path = paths_.segment_data(c.before->id, c.after.generation),
                        bytes = std::move(*pair[k])] { return io_.write_synced(path, bytes); });
      }
    }
  }
  const Status written = await_status(write);
  return status ? written : status;
}

// A segment's compacted data, hashed on `core`. A block that fails its fingerprint is read once
// more (a bit may flip on the way, not on the disk); damage that stays fails the change, and
// verify will name it.
Result<std::string> Store::compacted_data(const Compaction& c, CoreId core) {
  const std::string path = paths_.segment_data(c.before->id, c.before->generation);
  Result<std::string> data = make_error(Errc::corrupt, "not read");
  for (int attempt = 0; attempt < 2 && !data && data.code() == Errc::corrupt; ++attempt) {
    Result<std::string> old_data = io_.read_all(path, options_.segment_bytes_max);
    if (!old_data) return old_data.error();
    if (core == rt_.this_core()) {
      data = compact_data(*c.before, c.after, *old_data);
      continue;
    }
    std::optional<Result<std::string>> hashed =
        call_on(rt_, core, [&c, &old_data] {
          return compact_data(*c.before, c.after, *old_data);
        }).get();
    if (!hashed) return make_error(Errc::cancelled, "the store is stopping");
    data = std::move(*hashed);
  }
  return data;
}

}  // namespace doppel::dedup
