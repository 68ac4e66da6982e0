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
//   refcounts-balance   at the end, judged twice: the store's own check
//                       passes (it also settles the store: a change left
//                       logged is replayed), and then, without the store's
//                       word, the oracle of properties/dedup/reference_counts.h
//                       reads the metadata and recipes off the server's
//                       simulated disk with its own decoder: every stored
//                       block's persisted count equals the direct references
//                       the recipes hold, every reference resolves to stored
//                       bytes that hash right, punched blocks are gone, no
//                       intent is left, and the versions on disk are the
//                       ledger's (acknowledged and not removed; maybe those
//                       whose removal or commit went unanswered, at most as
//                       many unheard-of versions as unanswered commits).
//                       Stored damage is scoped by where it landed (the
//                       driver watches SimDiskCorrupt: file and byte): a
//                       metadata file is decoded with the known flip undone,
//                       a block that does not hash is excused only if a
//                       known flip lies in it; nothing else may fail.
//   listing-accurate    at the end, GET /images and GET /stats count exactly
//                       the versions of the final listing, each matched byte
//                       for byte to what a client committed, and their sizes;
//                       GET /metrics says the same (versions, images, logical
//                       bytes) and counts every route's answers as often as it
//                       times them
//   damage-found        after one stored bit of a segment file is flipped,
//                       verify reports damage, or every version still
//                       restores byte-identical (the flip hit freed space)
//   progress            after the heal, the final checks complete

#include "scenarios/scenario.h"

namespace doppel::scenarios {

ComponentDef dedup_component();

}  // namespace doppel::scenarios
