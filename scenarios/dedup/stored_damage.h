#pragma once
// Where disk_corrupt flipped a bit of the dedup server's store, as the driver
// watches it (SimDiskCorrupt: file and byte). Once stored data is damaged the
// store may answer `corrupt` instead of data, and the oracles excuse only what
// a known flip explains.

#include <cstdint>
#include <string_view>

#include "properties/dedup/reference_counts.h"
#include "runtime/event.h"

namespace doppel::scenarios {

// Where the store keeps its files on the server's simulated disk (StoreOptions::dir).
inline constexpr std::string_view kDedupStoreDir = "dedup";

struct DedupStoredDamage {
  bool any = false;                       // a disk_corrupt fault hit the server's disk
  properties::dedup::DamagedBytes files;  // where it hit (store-relative path, byte)

  // A SimDiskCorrupt event: the store may now answer `corrupt`, and the file it hit
  // (store-relative) may fail to decode in the reference-count oracle.
  void flipped(const Event& e);
};

}  // namespace doppel::scenarios
