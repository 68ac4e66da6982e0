#pragma once
// The oracle of the dedup property `refcounts-balance`: the reference counts
// recomputed from the recipes on the server's disk and the clients' model,
// compared with the counts the store persisted -- without the store's word
// (its check, its decoders, its memory). The files come decoded by
// store_image.h, the model from the BackupLedger.
//
// What it judges, on the files of a store that has settled (the scenario
// reads them after the final checks, with the server quiet: every change the
// store logged has been replayed, so no intent is left; an intent found is a
// failure, as the store's recovery should have finished it):
//   - versions: an image's recipes are those of its acknowledged versions no
//     removal was sent for, none whose removal was acknowledged, maybe those
//     whose removal went unanswered, and at most as many versions no client
//     heard of as commits went unanswered; no image no client wrote;
//   - references: every direct reference names a stored (present) block of
//     a segment whose metadata is on disk, with the same content and length;
//     every indirect one a later version of the image holding the same
//     content there (so chains end in direct references); the newest version
//     holds no indirect one;
//   - counts: every stored block's persisted count equals the direct
//     references the recipes hold to it; removed (punched, compacted) blocks
//     count none; a block no version references is not kept in a segment
//     that versions still reference (it should have been freed);
//   - data: every stored block's bytes are in its segment's data file, of the
//     metadata's generation, and hash to its fingerprint; a punched block's
//     bytes are gone (a hole reads as zeros, and a stored block never is all
//     zeros: null blocks are not stored); no data file of another generation
//     or of a segment without metadata is left.
//
// Faults. The files are read from the simulated disk directly, not through
// the node's file system, so bit flips on reads and I/O errors never reach
// the oracle. Stored damage (the disk_corrupt fault) does, and the driver
// knows where each flip landed (the file, or the staged "<path>.next" renamed
// onto it, and the byte). A metadata file that fails to decode is decoded
// again with each known flip undone (each bit of each flipped byte tried):
// what the store wrote, judged exactly. Only if that fails too is the file
// excused (named in the report) -- a damaged recipe hides references, so the
// counts are then only checked to be at least the references seen, and a
// damaged segment's own counts are not judged. A stored block that does not
// hash right, or punched bytes not zero, are excused only if a known flip
// lies in that block. Anything else that fails is a failure.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "properties/dedup/backup_ledger.h"

namespace doppel::properties::dedup {

// The store's files: paths relative to its root ("segments/<id>.meta",
// "images/<image>/<v>.recipe", "log/intent", ...) and their bytes.
using StoreFiles = std::map<std::string, std::string_view, std::less<>>;
// Where the disk_corrupt fault flipped bits: store-relative path -> offsets of the flipped bytes.
using DamagedBytes = std::map<std::string, std::set<std::uint64_t>, std::less<>>;

struct ReferenceCountReport {
  std::optional<std::string> failure;  // the first thing wrong
  std::vector<std::string> excused;    // what known stored damage explains
  bool counts_exact = true;            // false: a recipe was damaged (counts checked as bounds)
  std::uint64_t segments = 0;          // metadata files decoded
  std::uint64_t recipes = 0;           // recipes decoded
  std::uint64_t direct_references = 0;
  std::uint64_t blocks_hashed = 0;
};

// `image_names[i]` is the name of the ledger's image i; `damaged`, where disk_corrupt hit.
ReferenceCountReport check_reference_counts(const StoreFiles& files,
                                            const std::vector<std::string>& image_names,
                                            const BackupLedger& ledger,
                                            const DamagedBytes& damaged);

}  // namespace doppel::properties::dedup
