// The store's reads: following chains of indirect references (paper §3.2.1)
// and reading blocks, with null blocks synthesised.

#include <algorithm>
#include <cstring>
#include <set>

#include "components/dedup/store/store.h"
#include "components/dedup/store/store_internal.h"

namespace doppel::dedup {
namespace {

// The most blocks one read of a data file takes: bounds the buffer.
constexpr std::uint64_t kRunBlocksMax = 256;

Error damaged(std::string_view image, VersionNumber version, std::string what) {
  return make_error(Errc::corrupt,
                    std::string(image) + " version " + std::to_string(version) + ": " + what);
}

// Position p of a version points to position `at` of a later version.
struct Pending {
  std::uint64_t position = 0;
  std::uint32_t at = 0;
  std::uint32_t hops = 1;  // indirect references followed to get here
};

// The first position of [p, q) whose block in `buffer` fails its fingerprint.
std::optional<std::uint64_t> first_bad(const SegmentMeta& m, const Store::Resolved& r,
                                       std::uint64_t p, std::uint64_t q,
                                       const std::string& buffer) {
  std::vector<std::string_view> pieces(q - p);
  std::uint64_t at = 0;
  for (std::uint64_t i = p; i < q; ++i) {
    pieces[i - p] = std::string_view(buffer.data() + at, m.block_length(r.blocks[i].block));
    at += pieces[i - p].size();
  }
  std::vector<Fingerprint> fps(pieces.size());
  Hasher::of_each(m.fp.kind, pieces, fps);
  for (std::uint64_t i = p; i < q; ++i) {
    if (fps[i - p] != m.blocks[r.blocks[i].block].fp) return i;
  }
  return std::nullopt;
}

}  // namespace

Result<std::uint32_t> Store::chain_length(std::string_view image, VersionNumber version) {
  FairLockGuard guard(mutex_);
  if (Status s = ensure_ready(); !s) return s.error();
  if (Result<const VersionSummary*> v = known_version(image, version); !v) return v.error();
  Result<std::shared_ptr<const Resolved>> r = resolve(image, version);
  if (!r) return r.error();
  return (*r)->chain_max;
}

Result<RestoreLayout> Store::restore_layout(std::string_view image, VersionNumber version) {
  FairLockGuard guard(mutex_);
  if (Status s = ensure_ready(); !s) return s.error();
  if (Result<const VersionSummary*> v = known_version(image, version); !v) return v.error();
  Result<std::shared_ptr<const Resolved>> resolved = resolve(image, version);
  if (!resolved) return resolved.error();
  const Resolved& r = **resolved;
  RestoreLayout out;
  out.image_bytes = r.image_bytes;
  out.chain = r.chain_max;
  std::set<SegmentId> segments;
  std::optional<std::pair<SegmentId, std::uint32_t>> last;  // segment, slot
  for (std::size_t p = 0; p < r.blocks.size(); ++p) {
    const Resolved::Location loc = r.blocks[p];
    if (loc.segment == 0) {
      last.reset();
      continue;
    }
    Result<std::shared_ptr<const SegmentMeta>> meta = cached_meta(loc.segment);
    if (!meta) return damaged(image, version, meta.error().message());
    if (loc.block >= (*meta)->blocks.size()) return damaged(image, version, "block out of range");
    const std::uint32_t slot = (*meta)->blocks[loc.block].slot;
    if (!last || last->first != loc.segment || last->second + 1 != slot) ++out.runs;
    last = std::make_pair(loc.segment, slot);
    segments.insert(loc.segment);
    out.data_bytes += block_bytes_at(r.image_bytes, p);
  }
  out.segments = segments.size();
  return out;
}

Result<std::size_t> Store::read(std::string_view image, VersionNumber version, std::uint64_t offset,
                                std::span<char> into) {
  if (into.size() > options_.read_bytes_max) {
    return make_error(Errc::too_large, "a read of more than read_bytes_max " +
                                           std::to_string(options_.read_bytes_max));
  }
  FairLockGuard guard(mutex_);
  if (Status s = ensure_ready(); !s) return s.error();
  Result<const VersionSummary*> known = known_version(image, version);
  if (!known) return known.error();
  const VersionSummary* v = *known;
  if (offset > v->image_bytes) {
    return make_error(Errc::invalid_argument,
                      "offset " + std::to_string(offset) + " past the end of the image");
  }
  const std::size_t n =
      static_cast<std::size_t>(std::min<std::uint64_t>(into.size(), v->image_bytes - offset));
  if (n == 0) return std::size_t{0};
  Result<std::shared_ptr<const Resolved>> r = resolve(image, version);
  if (!r) return r.error();
  if (Status s = read_blocks(**r, offset, into.first(n)); !s) return s.error();
  return n;
}

// Every position's content location: direct references as they are, chains
// of indirect references followed through later versions (each later recipe
// loaded once, in version order, since chains only go forward).
Result<std::shared_ptr<const Store::Resolved>> Store::resolve(std::string_view image,
                                                              VersionNumber version) {
  for (const auto& r : resolved_cache_) {
    if (r->epoch == epoch_ && r->image == image && r->version == version) return r;
  }
  Result<Recipe> recipe = load_recipe(image, version);
  if (!recipe) return recipe.error();
  auto out = std::make_shared<Resolved>();
  out->image = std::string(image);
  out->version = version;
  out->epoch = epoch_;
  out->image_bytes = recipe->image_bytes;
  out->blocks.resize(recipe->entries.size());
  std::map<VersionNumber, std::vector<Pending>> pending;
  for (std::size_t p = 0; p < recipe->entries.size(); ++p) {
    const RecipeEntry& e = recipe->entries[p];
    if (e.kind == RefKind::direct) out->blocks[p] = Resolved::Location{e.target, e.index};
    if (e.kind == RefKind::indirect) pending[e.target].push_back(Pending{p, e.index, 1});
  }
  while (!pending.empty()) {
    const VersionNumber later = pending.begin()->first;
    const std::vector<Pending> here = std::move(pending.begin()->second);
    pending.erase(pending.begin());
    Result<Recipe> next = load_recipe(image, later);
    if (!next)
      return damaged(image, version,
                     "chain to version " + std::to_string(later) + ": " + next.error().message());
    for (const Pending& p : here) {
      if (p.at >= next->entries.size()) return damaged(image, version, "chain out of range");
      const RecipeEntry& e = next->entries[p.at];
      if (e.kind == RefKind::direct) {
        out->blocks[p.position] = Resolved::Location{e.target, e.index};
        out->chain_max = std::max(out->chain_max, p.hops);
      } else if (e.kind == RefKind::indirect && e.target > later) {
        pending[e.target].push_back(Pending{p.position, e.index, p.hops + 1});
      } else {
        return damaged(image, version, "a chain ends in a null or earlier block");
      }
    }
  }
  if (resolved_cache_.size() >= options_.resolved_cache_versions) {
    resolved_cache_.erase(resolved_cache_.begin());
  }
  resolved_cache_.push_back(out);
  return std::shared_ptr<const Resolved>(out);
}

// The cache holds what the files hold: every change to a segment's metadata passes through
// remember_meta or forget_meta once it is durable, and recovery empties the cache.
Result<std::shared_ptr<const SegmentMeta>> Store::cached_meta(SegmentId id) {
  for (std::size_t i = 0; i < meta_cache_.size(); ++i) {
    if (meta_cache_[i].first != id) continue;
    auto hit = meta_cache_[i];
    meta_cache_.erase(meta_cache_.begin() + static_cast<std::ptrdiff_t>(i));
    meta_cache_.push_back(hit);  // most recently used last
    return hit.second;
  }
  Result<SegmentMeta> m = load_meta(id);
  if (!m) return m.error();
  auto meta = std::make_shared<const SegmentMeta>(std::move(*m));
  remember_meta(meta);
  return std::shared_ptr<const SegmentMeta>(meta);
}

void Store::remember_meta(const SegmentMeta& meta) {
  remember_meta(std::make_shared<const SegmentMeta>(meta));
}

void Store::remember_meta(std::shared_ptr<const SegmentMeta> meta) {
  forget_meta(meta->id);
  if (meta_cache_.size() >= options_.meta_cache_entries) meta_cache_.erase(meta_cache_.begin());
  const SegmentId id = meta->id;
  meta_cache_.emplace_back(id, std::move(meta));
}

void Store::forget_meta(SegmentId id) {
  std::erase_if(meta_cache_, [id](const auto& entry) { return entry.first == id; });
}

// Reads the blocks covering [offset, offset + into.size()): consecutive
// blocks stored consecutively in one data file are read together.
Status Store::read_blocks(const Resolved& r, std::uint64_t offset, std::span<char> into) {
  const std::uint64_t end = offset + into.size();
  std::uint64_t p = offset / kBlockBytes;
  std::string buffer;
  while (p * kBlockBytes < end) {
    const Resolved::Location loc = r.blocks[p];
    const std::uint64_t block_start = p * kBlockBytes;
    const std::uint64_t from = std::max(offset, block_start);
    const std::uint64_t to = std::min(end, block_start + block_bytes_at(r.image_bytes, p));
    if (loc.segment == 0) {
      std::memset(into.data() + (from - offset), 0, to - from);
      ++p;
      continue;
    }
    Result<std::shared_ptr<const SegmentMeta>> meta = cached_meta(loc.segment);
    if (!meta) return damaged(r.image, r.version, meta.error().message());
    const SegmentMeta& m = **meta;
    // The run: following positions in the same segment at the following slots.
    std::uint64_t q = p + 1;
    while (q * kBlockBytes < end && q - p < kRunBlocksMax && r.blocks[q].segment == m.id &&
           r.blocks[q].block < m.blocks.size() && r.blocks[q - 1].block < m.blocks.size() &&
           m.blocks[r.blocks[q].block].slot == m.blocks[r.blocks[q - 1].block].slot + 1) {
      ++q;
    }
    if (Status s = read_run(r, m, p, q, offset, into, buffer); !s) return s;
    p = q;
  }
  return {};
}

// Positions [p, q) of a resolved version, stored at consecutive slots of one segment.
Status Store::read_run(const Resolved& r, const SegmentMeta& m, std::uint64_t p, std::uint64_t q,
                       std::uint64_t offset, std::span<char> into, std::string& buffer) {
  std::uint64_t bytes = 0;
  for (std::uint64_t i = p; i < q; ++i) {
    const std::uint32_t b = r.blocks[i].block;
    if (b >= m.blocks.size() || m.blocks[b].state != BlockState::present) {
      return damaged(
          r.image, r.version,
          "segment " + std::to_string(m.id) + " block " + std::to_string(b) + " is not stored");
    }
    if (m.block_length(b) != block_bytes_at(r.image_bytes, i)) {
      return damaged(r.image, r.version, "block length of segment " + std::to_string(m.id));
    }
    bytes += m.block_length(b);
  }
  buffer.resize(static_cast<std::size_t>(bytes));
  auto file = io_.open_file(paths_.segment_data(m.id, m.generation), OpenOptions{});
  if (!file) return damaged(r.image, r.version, file.error().message());
  const std::uint64_t file_offset = std::uint64_t{m.blocks[r.blocks[p].block].slot} * kBlockBytes;
  // A block that fails its fingerprint is read once more before it counts as
  // damage: the bit may have flipped on the way, not on the disk.
  for (int attempt = 0;; ++attempt) {
    if (Status s = io_.read_exact(**file, buffer, file_offset); !s) {
      return s.code() == Errc::corrupt ? Status(damaged(r.image, r.version, s.error().what)) : s;
    }
    const std::optional<std::uint64_t> bad =
        options_.verify_reads ? first_bad(m, r, p, q, buffer) : std::nullopt;
    if (!bad) break;
    if (attempt == 1) {
      return damaged(
          r.image, r.version,
          "block at offset " + std::to_string(*bad * kBlockBytes) + " fails its fingerprint");
    }
  }
  const std::uint64_t end = offset + into.size();
  std::uint64_t at = 0;
  for (std::uint64_t i = p; i < q; ++i) {
    const std::uint32_t b = r.blocks[i].block;
    const std::string_view block(buffer.data() + at, m.block_length(b));
    at += block.size();
    const std::uint64_t block_start = i * kBlockBytes;
    const std::uint64_t from = std::max(offset, block_start);
    const std::uint64_t to = std::min(end, block_start + block.size());
    std::memcpy(into.data() + (from - offset), block.data() + (from - block_start), to - from);
  }
  return {};
}

}  // namespace doppel::dedup
