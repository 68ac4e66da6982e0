#pragma once
// A deterministic, seeded generator of VM-image version series: as the
// RevDedup paper's data set, or a fleet (fleet_series below) (§5: VM images cloned from one master,
// backed up weekly). What changes between versions is what changes on a VM's disk:
//
//   - the master: OS-like content, runs of files (incompressible bytes, as
//     installed binaries and compressed archives are), some files present
//     twice, and runs of never-written (zero) blocks;
//   - each image is a clone of the master with its own configuration and
//     data written over a small share of it;
//   - each week: in-place edits (runs of rewritten blocks, some landing in
//     free space), appends (the disk grows), and moved regions (data copied
//     elsewhere and its old place freed, as a defragmenter or a file rename
//     across directories on a copying file system does).
//
// Edits are 4 KiB-aligned, as a file system's writes are. A version is held
// as one 64-bit id per 4 KiB block (0 = a zero block); a block's bytes are
// computed from its id, so the whole series (gigabytes) costs 8 bytes per
// block of memory and is produced at memory speed. The same options give
// the same bytes on every machine.
//
//   ImageSeries s(ImageSeriesOptions{.seed = 7, .images = 2, .versions = 3});
//   s.write(0, 1, [&](std::string_view chunk) { ... });  // image 0, version 1

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/result.h"

namespace doppel::properties::dedup {

struct ImageSeriesOptions {
  std::uint64_t seed = 1;
  std::uint32_t images = 5;
  std::uint32_t versions = 8;
  std::uint64_t image_bytes = 256ull << 20;  // of version 1; a multiple of 4 KiB
  // Shares of the image, in per mille.
  std::uint32_t zero_permille = 300;      // never-written blocks of the master
  std::uint32_t duplicate_permille = 30;  // master blocks that repeat another
  std::uint32_t personal_permille = 20;   // rewritten in each clone
  std::uint32_t edit_permille = 20;       // rewritten in place each week
  std::uint32_t append_permille = 10;     // appended each week
  std::uint32_t move_permille = 10;       // moved each week
  std::uint32_t zeroed_permille = 0;      // freed (zeroed) each week, in runs
  // Rewritten and zeroed runs are 1 to this many blocks long.
  std::uint32_t run_blocks_max = 64;
};

// A fleet (issue 22's shape): clones of one template, each diverging by short runs of edits
// scattered over the whole disk week after week (2 % of the blocks in runs of 1 to 4), a few
// runs zeroed, a region moved, a little growth. Scattered edits touch nearly every segment of
// a clone: whole-segment dedup finds little, block dedup across images most.
ImageSeriesOptions fleet_series(std::uint64_t seed, std::uint32_t images, std::uint32_t versions,
                                std::uint64_t image_bytes);

// The series' parameters, one line, for a bench's report.
std::string describe(const ImageSeriesOptions& options);

// invalid_argument naming the option and its bounds.
Status check_image_series_options(const ImageSeriesOptions& options);

class ImageSeries {
 public:
  static constexpr std::uint32_t kBlockBytes = 4096;
  static constexpr std::uint64_t kImageBytesMax = 64ull << 30;
  static constexpr std::uint32_t kImagesMax = 1000;
  static constexpr std::uint32_t kVersionsMax = 1000;

  // Options must pass check_image_series_options.
  explicit ImageSeries(const ImageSeriesOptions& options);

  const ImageSeriesOptions& options() const { return options_; }
  std::string image_name(std::uint32_t image) const { return "vm" + std::to_string(image); }
  // Versions count from 1.
  std::uint64_t bytes(std::uint32_t image, std::uint32_t version) const;
  std::uint64_t total_bytes() const;
  // Of a version's bytes, those in blocks that are not all zero.
  std::uint64_t data_bytes(std::uint32_t image, std::uint32_t version) const;
  const std::vector<std::uint64_t>& blocks(std::uint32_t image, std::uint32_t version) const;

  // The bytes of one block of content `id`.
  void fill_block(std::uint64_t id, std::span<char> into) const;
  // The version's bytes, in order, in chunks of at most chunk_bytes (a
  // multiple of 4 KiB). The sink returns false to stop early.
  void write(std::uint32_t image, std::uint32_t version,
             const std::function<bool(std::string_view)>& sink,
             std::size_t chunk_bytes = 1u << 20) const;
  // The version's bytes at [offset, offset + into.size()), clipped to its end.
  std::size_t read(std::uint32_t image, std::uint32_t version, std::uint64_t offset,
                   std::span<char> into) const;

 private:
  ImageSeriesOptions options_;
  std::uint64_t next_id_ = 1;
  // layouts_[image][version - 1]
  std::vector<std::vector<std::vector<std::uint64_t>>> layouts_;
};

}  // namespace doppel::properties::dedup
