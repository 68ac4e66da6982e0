#include "properties/dedup/image_series.h"

#include <algorithm>
#include <cstring>

#include "runtime/assert.h"
#include "runtime/random.h"

namespace doppel::properties::dedup {
namespace {

// The layouts of the whole series are held in memory: 8 bytes per block.
constexpr std::uint64_t kSeriesBlocksMax = 1ull << 28;

using Layout = std::vector<std::uint64_t>;

class Edits {
 public:
  Edits(Prng& rng, std::uint64_t& next_id) : rng_(rng), next_id_(next_id) {}

  // Rewrites runs of 1 to run_max blocks, `permille` of the layout in all; zeroes them instead
  // with `zero`.
  void rewrite(Layout& l, std::uint32_t permille, std::uint32_t run_max, bool zero = false) {
    std::uint64_t left = l.size() * permille / 1000;
    while (left > 0 && !l.empty()) {
      const std::uint64_t len = std::min<std::uint64_t>(left, run(1, run_max, l.size()));
      const std::uint64_t at = rng_.below(l.size() - len + 1);
      for (std::uint64_t i = 0; i < len; ++i) l[at + i] = zero ? 0 : next_id_++;
      left -= len;
    }
  }

  void append(Layout& l, std::uint32_t permille) {
    const std::uint64_t n = l.size() * permille / 1000;
    for (std::uint64_t i = 0; i < n; ++i) l.push_back(next_id_++);
  }

  // Moves runs of 16 to 256 blocks elsewhere; their old place becomes free (zero).
  void move(Layout& l, std::uint32_t permille) {
    std::uint64_t left = l.size() * permille / 1000;
    while (left > 0 && l.size() >= 2) {
      const std::uint64_t len = std::min<std::uint64_t>(left, run(16, 256, l.size() / 2));
      const std::uint64_t from = rng_.below(l.size() - len + 1);
      const std::uint64_t to = rng_.below(l.size() - len + 1);
      const Layout moved(l.begin() + static_cast<std::ptrdiff_t>(from),
                         l.begin() + static_cast<std::ptrdiff_t>(from + len));
      std::fill_n(l.begin() + static_cast<std::ptrdiff_t>(from), len, 0);
      std::copy(moved.begin(), moved.end(), l.begin() + static_cast<std::ptrdiff_t>(to));
      left -= len;
    }
  }

  // The master: runs of files, repeated files and free space.
  Layout master(std::uint64_t blocks, const ImageSeriesOptions& o) {
    Layout l;
    l.reserve(blocks);
    while (l.size() < blocks) {
      const std::uint64_t len = std::min<std::uint64_t>(blocks - l.size(), run(1, 256, blocks));
      if (rng_.chance(o.zero_permille, 1000)) {
        l.insert(l.end(), len, 0);
      } else if (!l.empty() && rng_.chance(o.duplicate_permille, 1000)) {
        const std::uint64_t from = rng_.below(l.size());
        for (std::uint64_t i = 0; i < len; ++i) l.push_back(l[from + i % (l.size() - from)]);
      } else {
        for (std::uint64_t i = 0; i < len; ++i) l.push_back(next_id_++);
      }
    }
    return l;
  }

 private:
  std::uint64_t run(std::uint64_t lo, std::uint64_t hi, std::uint64_t cap) {
    hi = std::max<std::uint64_t>(1, std::min(hi, cap));
    lo = std::min(lo, hi);
    return static_cast<std::uint64_t>(
        rng_.between(static_cast<std::int64_t>(lo), static_cast<std::int64_t>(hi)));
  }

  Prng& rng_;
  std::uint64_t& next_id_;
};

Error bad(const std::string& what) {
  return make_error(Errc::invalid_argument, what);
}

}  // namespace

Status check_image_series_options(const ImageSeriesOptions& o) {
  if (o.images < 1 || o.images > ImageSeries::kImagesMax) return bad("images: expected 1 to 1000");
  if (o.versions < 1 || o.versions > ImageSeries::kVersionsMax)
    return bad("versions: expected 1 to 1000");
  if (o.image_bytes < ImageSeries::kBlockBytes || o.image_bytes > ImageSeries::kImageBytesMax ||
      o.image_bytes % ImageSeries::kBlockBytes != 0) {
    return bad("image size: expected a multiple of 4 KiB from 4 KiB to 64 GiB");
  }
  for (std::uint32_t p : {o.zero_permille, o.duplicate_permille, o.personal_permille,
                          o.edit_permille, o.append_permille, o.move_permille, o.zeroed_permille}) {
    if (p > 1000) return bad("a share of the image over 1000 per mille");
  }
  if (o.run_blocks_max < 1 || o.run_blocks_max > 4096) return bad("run_blocks_max: 1 to 4096");
  // Appends grow each version; bound the series' layouts as if each version were 2x version 1.
  const std::uint64_t blocks = o.image_bytes / ImageSeries::kBlockBytes;
  if (blocks * 2 * o.images * o.versions > kSeriesBlocksMax) {
    return bad("images x versions x image size: over " +
               std::to_string(kSeriesBlocksMax / 2 * 4 >> 20) + " GiB of versions in one series");
  }
  return {};
}

ImageSeriesOptions fleet_series(std::uint64_t seed, std::uint32_t images, std::uint32_t versions,
                                std::uint64_t image_bytes) {
  ImageSeriesOptions o;
  o.seed = seed;
  o.images = images;
  o.versions = versions;
  o.image_bytes = image_bytes;
  o.personal_permille = 20;
  o.edit_permille = 20;
  o.zeroed_permille = 2;
  o.append_permille = 5;
  o.move_permille = 4;
  o.run_blocks_max = 4;
  return o;
}

std::string describe(const ImageSeriesOptions& o) {
  const auto pm = [](std::uint32_t p) {
    return std::to_string(p / 10) + "." + std::to_string(p % 10) + " %";
  };
  return "master: " + pm(o.zero_permille) + " zero, " + pm(o.duplicate_permille) +
         " repeated; each clone: " + pm(o.personal_permille) +
         " rewritten; each week: " + pm(o.edit_permille) + " rewritten, " + pm(o.zeroed_permille) +
         " zeroed (runs of 1 to " + std::to_string(o.run_blocks_max) + " blocks), " +
         pm(o.append_permille) + " appended, " + pm(o.move_permille) +
         " moved (runs of 16 to 256 blocks)";
}

ImageSeries::ImageSeries(const ImageSeriesOptions& options) : options_(options) {
  DOPPEL_ASSERT(check_image_series_options(options).ok());
  Prng rng(options.seed);
  Edits edits(rng, next_id_);
  const Layout master = edits.master(options.image_bytes / kBlockBytes, options);
  layouts_.resize(options.images);
  for (auto& versions : layouts_) {
    Layout l = master;
    edits.rewrite(l, options.personal_permille, options.run_blocks_max);
    versions.push_back(l);
    for (std::uint32_t v = 2; v <= options.versions; ++v) {
      edits.rewrite(l, options.edit_permille, options.run_blocks_max);
      edits.rewrite(l, options.zeroed_permille, options.run_blocks_max, true);
      edits.append(l, options.append_permille);
      edits.move(l, options.move_permille);
      versions.push_back(l);
    }
  }
}

const std::vector<std::uint64_t>& ImageSeries::blocks(std::uint32_t image,
                                                      std::uint32_t version) const {
  DOPPEL_ASSERT(image < layouts_.size() && version >= 1 && version <= layouts_[image].size());
  return layouts_[image][version - 1];
}

std::uint64_t ImageSeries::bytes(std::uint32_t image, std::uint32_t version) const {
  return blocks(image, version).size() * kBlockBytes;
}

std::uint64_t ImageSeries::data_bytes(std::uint32_t image, std::uint32_t version) const {
  const Layout& l = blocks(image, version);
  return static_cast<std::uint64_t>(l.size() - static_cast<std::size_t>(std::count(
                                                   l.begin(), l.end(), std::uint64_t{0}))) *
         kBlockBytes;
}

std::uint64_t ImageSeries::total_bytes() const {
  std::uint64_t total = 0;
  for (std::uint32_t i = 0; i < options_.images; ++i) {
    for (std::uint32_t v = 1; v <= options_.versions; ++v) total += bytes(i, v);
  }
  return total;
}

void ImageSeries::fill_block(std::uint64_t id, std::span<char> into) const {
  DOPPEL_ASSERT(into.size() == kBlockBytes);
  if (id == 0) {
    std::memset(into.data(), 0, into.size());
    return;
  }
  Prng rng(options_.seed * 0x9E3779B97F4A7C15ull ^ id);
  for (std::size_t i = 0; i < into.size(); i += 8) {
    const std::uint64_t w = rng.next();
    std::memcpy(into.data() + i, &w, 8);
  }
}

std::size_t ImageSeries::read(std::uint32_t image, std::uint32_t version, std::uint64_t offset,
                              std::span<char> into) const {
  const Layout& l = blocks(image, version);
  const std::uint64_t size = l.size() * kBlockBytes;
  if (offset >= size) return 0;
  const std::size_t n =
      static_cast<std::size_t>(std::min<std::uint64_t>(into.size(), size - offset));
  char block[kBlockBytes];
  std::size_t done = 0;
  while (done < n) {
    const std::uint64_t at = offset + done;
    const std::uint64_t in_block = at % kBlockBytes;
    const std::size_t take =
        static_cast<std::size_t>(std::min<std::uint64_t>(kBlockBytes - in_block, n - done));
    fill_block(l[at / kBlockBytes], block);
    std::memcpy(into.data() + done, block + in_block, take);
    done += take;
  }
  return n;
}

void ImageSeries::write(std::uint32_t image, std::uint32_t version,
                        const std::function<bool(std::string_view)>& sink,
                        std::size_t chunk_bytes) const {
  DOPPEL_ASSERT(chunk_bytes >= kBlockBytes && chunk_bytes % kBlockBytes == 0);
  const Layout& l = blocks(image, version);
  std::string chunk(chunk_bytes, '\0');
  std::size_t used = 0;
  for (std::uint64_t id : l) {
    fill_block(id, std::span<char>(chunk.data() + used, kBlockBytes));
    used += kBlockBytes;
    if (used == chunk.size()) {
      if (!sink(std::string_view(chunk.data(), used))) return;
      used = 0;
    }
  }
  if (used > 0) (void)sink(std::string_view(chunk.data(), used));
}

}  // namespace doppel::properties::dedup
