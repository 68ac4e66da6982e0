#pragma once
// The dedup component in the simulator: one backup server (crashable) and
// clients that back up seeded VM-image version series (image_series.h),
// read versions back, remove some and collect garbage, while the fault plan
// crashes the server mid-upload, mid-commit, mid-removal and mid-compaction.
//
// Properties:
//   restorable          every acknowledged version that was not removed is
//                       listed and restores byte-identical, during the run
//                       and after the faults heal; every listed version is
//                       one a client committed (an interrupted upload leaves
//                       nothing partial visible); a byte range read (Range:
//                       first-last, first-, -suffix, past the end) answers
//                       the range RFC 9110 says with the version's bytes,
//                       and HEAD its number and size
//   refcounts-balance   at the end, the store's own check (reference counts
//                       equal the direct references, chains end in stored
//                       blocks, the space accounting balances) passes
//   listing-accurate    at the end, GET /images and GET /stats count exactly
//                       the versions of the final listing, each matched byte
//                       for byte to what a client committed, and their sizes
//   damage-found        after one stored bit of a segment file is flipped,
//                       verify reports damage, or every version still
//                       restores byte-identical (the flip hit freed space)
//   progress            after the heal, the final checks complete

#include "scenarios/scenario.h"

namespace doppel::scenarios {

ComponentDef dedup_component();

}  // namespace doppel::scenarios
