#pragma once
// Helpers for the dedup tests: images and their edits, a one-node simulated
// world to run a store in, and the client's side of a backup and a restore.

#include <catch2/catch.hpp>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "components/dedup/client/image_cutter.h"
#include "components/dedup/store/store.h"
#include "runtime/random.h"
#include "sim/world.h"

namespace doppel::dedup::test {

inline constexpr std::uint32_t kSmallSegmentBytes = 64 * 1024;

inline std::string random_bytes(Prng& rng, std::size_t n) {
  std::string out(n, '\0');
  for (std::size_t i = 0; i < n; i += 8) {
    const std::uint64_t v = rng.next();
    for (std::size_t j = 0; j < 8 && i + j < n; ++j) out[i + j] = static_cast<char>(v >> (8 * j));
  }
  return out;
}

// An image of `blocks` 4 KiB blocks (plus `tail` bytes): mostly random, with
// runs of zero blocks.
inline std::string make_image(Prng& rng, std::size_t blocks, std::size_t tail = 0) {
  std::string out;
  for (std::size_t b = 0; b < blocks; ++b) {
    if (rng.chance(1, 8)) {
      out.append(kBlockBytes * (1 + rng.below(3)), '\0');
    } else {
      out += random_bytes(rng, kBlockBytes);
    }
  }
  out.resize(blocks * kBlockBytes);
  out += random_bytes(rng, tail);
  return out;
}

// The next version of an image: one random edit of the kinds backups see.
inline std::string edit_image(Prng& rng, std::string image) {
  const std::size_t blocks = image.size() / kBlockBytes;
  const std::uint64_t kind = rng.below(5);
  if (kind == 0 || blocks < 4) {  // in-place edits of a few byte ranges
    for (int i = 0; i < 3 && !image.empty(); ++i) {
      const std::size_t at = rng.below(image.size());
      const std::size_t n = std::min<std::size_t>(image.size() - at, 1 + rng.below(6000));
      image.replace(at, n, random_bytes(rng, n));
    }
  } else if (kind == 1) {  // append, not block-aligned
    image += random_bytes(rng, 1 + rng.below(3 * kBlockBytes));
  } else if (kind == 2) {  // move a block-aligned region
    const std::size_t n = 1 + rng.below(blocks / 2);
    const std::size_t from = rng.below(blocks - n + 1), to = rng.below(blocks - n + 1);
    const std::string region = image.substr(from * kBlockBytes, n * kBlockBytes);
    image.replace(to * kBlockBytes, n * kBlockBytes, region);
  } else if (kind == 3) {  // zero a region
    const std::size_t n = 1 + rng.below(blocks / 2);
    const std::size_t from = rng.below(blocks - n + 1);
    image.replace(from * kBlockBytes, n * kBlockBytes, std::string(n * kBlockBytes, '\0'));
  } else {  // truncate, then change a block
    image.resize(image.size() - rng.below(image.size() / 3));
    if (!image.empty()) image[rng.below(image.size())] ^= 1;
  }
  return image;
}

// A one-node world whose node runs nothing of its own: tests spawn fibers on it.
class SimNode {
 public:
  explicit SimNode(std::uint64_t seed, sim::AmbientFaults ambient = {})
      : world(sim::WorldOptions{seed, ambient}) {
    node = world.add_node(sim::NodeSpec{"store", 1, true, {}});
  }

  // Runs `body` in a fiber of the node until it returns; false if it did not
  // (a crash, a stuck fiber or a failed world).
  bool run(const std::function<void(Runtime&)>& body) {
    bool done = false;
    world.spawn(node, 0, "test", [&] {
      body(world.runtime(node));
      done = true;
    });
    world.run_until(kNever, [&] { return done || world.failed(); });
    return done && !world.failed();
  }

  sim::World world;
  sim::NodeId node = 0;
};

inline StoreOptions small_options() {
  StoreOptions o;
  o.segment_bytes_max = 1u << 20;
  return o;
}

inline CutterOptions small_cutter(std::uint32_t segment_bytes = kSmallSegmentBytes) {
  return CutterOptions{segment_bytes, HashKind::sha256, kImageBytesMax};
}

// The client side of a backup: cut, ask, upload what is missing, commit.
inline Result<CommitResult> backup(Store& store, std::string_view image, std::string_view bytes,
                                   std::uint32_t segment_bytes = kSmallSegmentBytes) {
  VersionManifest manifest;
  const std::vector<CutSegment> segments = cut_image(bytes, small_cutter(segment_bytes), manifest);
  std::vector<Fingerprint> fps;
  for (const CutSegment& s : segments) fps.push_back(s.manifest.fp);
  Result<std::vector<bool>> have = store.has_segments(fps);
  if (!have) return have.error();
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if ((*have)[i] || segments[i].manifest.all_null()) continue;
    Result<bool> put = store.put_segment(segments[i].manifest.fp, segments[i].bytes);
    if (!put) return put.error();
  }
  return store.commit(image, manifest);
}

// The client side of a restore: the whole version, read in pieces.
inline Result<std::string> restore(Store& store, std::string_view image, VersionNumber version,
                                   std::size_t piece = 50'000) {
  Result<VersionInfo> info = store.version_info(image, version);
  if (!info) return info.error();
  std::string out(info->image_bytes, '\0');
  for (std::uint64_t at = 0; at < out.size();) {
    const std::size_t n = std::min<std::size_t>(piece, out.size() - at);
    Result<std::size_t> got = store.read(image, version, at, std::span<char>(out).subspan(at, n));
    if (!got) return got.error();
    if (*got != n) return make_error(Errc::corrupt, "short read");
    at += n;
  }
  return out;
}

// What the versions of each image should read back as.
using Model = std::map<std::string, std::map<VersionNumber, std::string>>;

// Every version of the model reads back byte-identical and nothing else is listed.
inline std::string mismatch(Store& store, const Model& model) {
  Result<std::vector<ImageInfo>> images = store.list_images();
  if (!images) return "list_images: " + images.error().message();
  std::size_t with_versions = 0;
  for (const auto& [image, versions] : model) with_versions += versions.empty() ? 0 : 1;
  if (images->size() != with_versions) return "image count";
  for (const auto& [image, versions] : model) {
    if (versions.empty()) continue;
    Result<std::vector<VersionInfo>> listed = store.list_versions(image);
    if (!listed) return image + ": " + listed.error().message();
    if (listed->size() != versions.size()) return image + ": version count";
    for (const auto& [v, bytes] : versions) {
      Result<std::string> got = restore(store, image, v);
      if (!got) return image + " v" + std::to_string(v) + ": " + got.error().message();
      if (*got != bytes) return image + " v" + std::to_string(v) + ": different bytes";
    }
  }
  return {};
}

}  // namespace doppel::dedup::test
