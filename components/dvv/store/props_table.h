#pragma once
// This node's bucket properties (bucket_props.h) and how they spread: a
// change made here is saved, then pushed to every other node; every
// gossip_interval the node swaps its whole table with one other node picked
// at random; for each bucket the higher version wins. The table is saved
// whole (written new, synced, renamed over) whenever it changes, and loaded
// at boot; a damaged file is dropped (the peers gossip the props back).
// A change is used only once it is saved: a node never acts on props that a
// crash would take back (an allow_mult or clock kind coming back after the
// cluster moved on). Changes are saved one at a time.
//
// Pushes and gossip are props gossip, not maintenance of objects: they sit
// with the table they spread.

#include <map>
#include <optional>
#include <set>
#include <string>

#include "components/dvv/settings.h"
#include "components/dvv/store/bucket_props.h"
#include "components/dvv/store/peers.h"
#include "runtime/runtime.h"
#include "runtime/sync.h"

namespace doppel::dvv {

class PropsTable {
 public:
  PropsTable(Runtime& rt, const DvvSettings& config, Peers& peers);
  PropsTable(const PropsTable&) = delete;
  PropsTable& operator=(const PropsTable&) = delete;

  // The defaults for a bucket nobody set.
  BucketProps get(const std::string& bucket) const;
  // Every n_val a key may have: the default's and each bucket's. A node that serves a partition
  // with all of them serves every key of it, without a look at one.
  std::set<std::uint32_t> n_vals() const;
  // A newer version of `bucket`'s props: saved, then pushed to every other node. With
  // `if_version`, only while this node's props of the bucket are that version (false, and
  // nothing changed, otherwise): a client that retried a change whose answer it lost cannot
  // have the lost attempt land after a newer change and undo it (HTTP's If-Match).
  Result<bool> set(const std::string& bucket, BucketProps props,
                   std::optional<std::uint64_t> if_version = std::nullopt);
  // Takes the buckets whose version in `theirs` is newer; saves if any.
  void merge(const std::map<std::string, BucketProps>& theirs);
  std::string encoded() const { return encode_props(props_); }

  Status load();
  // Swaps tables with one other node each gossip_interval until `stopping`.
  void gossip_loop(const bool& stopping);

 private:
  // Writes `table` (props_ and what will replace it) to the file; under save_lock_.
  Status save(const std::map<std::string, BucketProps>& table);

  Runtime& rt_;
  const DvvSettings& config_;
  Peers& peers_;
  std::map<std::string, BucketProps> props_;
  Mutex save_lock_;
};

}  // namespace doppel::dvv
