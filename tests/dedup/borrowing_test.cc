// Upload avoidance (components/dedup/store/cross_dedup.h, "Borrowing at upload"): a new segment
// is uploaded without the blocks other segments hold, stored born compacted, and its commit
// references the lenders' blocks. What may happen between the upload and the commit -- a lender
// giving its blocks up, a restart, gc -- never costs a byte of a committed version.

#include <catch2/catch.hpp>

#include "components/dedup/api/borrowing_wire.h"
#include "components/dedup/store/block_removal.h"
#include "dedup_test_util.h"

using namespace doppel;
using namespace doppel::dedup;
using namespace doppel::dedup::test;

namespace {

std::unique_ptr<Store> open_store(Runtime& rt, StoreOptions options = small_options()) {
  Result<std::unique_ptr<Store>> store = Store::boot(rt, rt.fs(), options);
  REQUIRE(store.ok());
  return std::move(*store);
}

// A clone: one block rewritten in every `stride` blocks.
std::string clone_of(Prng& rng, std::string bytes, std::size_t stride) {
  for (std::size_t b = rng.below(stride); b * kBlockBytes < bytes.size(); b += stride) {
    bytes.replace(b * kBlockBytes, kBlockBytes, random_bytes(rng, kBlockBytes));
  }
  return bytes;
}

// The blocks of `bytes` not null and not borrowed: what an upload sends.
std::string sent_blocks(const SegmentManifest& m, std::span<const SegmentId> lenders,
                        std::string_view bytes) {
  std::string out;
  for (std::size_t b = 0; b < m.blocks.size(); ++b) {
    if (m.blocks[b].null || lenders[b] != 0) continue;
    out += bytes.substr(b * kBlockBytes, block_bytes_at(m.bytes, b));
  }
  return out;
}

struct Uploaded {
  VersionManifest manifest;
  std::uint64_t bytes_sent = 0;
  std::uint64_t blocks_borrowed = 0;
};

// The client side of a backup with upload avoidance, up to the commit.
Uploaded upload_borrowing(Store& store, std::string_view image, std::string_view bytes) {
  Uploaded up;
  const std::vector<CutSegment> segments = cut_image(bytes, small_cutter(), up.manifest);
  for (const CutSegment& s : segments) {
    const Fingerprint fps[] = {s.manifest.fp};
    Result<std::vector<bool>> have = store.has_segments(fps);
    REQUIRE(have.ok());
    if ((*have)[0] || s.manifest.all_null()) continue;
    Result<std::vector<SegmentId>> lenders = store.plan_borrowing(image, s.manifest);
    REQUIRE(lenders.ok());
    const std::size_t borrowed = static_cast<std::size_t>(
        std::count_if(lenders->begin(), lenders->end(), [](SegmentId id) { return id != 0; }));
    if (borrowed == 0) {
      REQUIRE(store.put_segment(s.manifest.fp, s.bytes).ok());
      up.bytes_sent += sent_blocks(s.manifest, *lenders, s.bytes).size();  // as stored
      continue;
    }
    const std::string data = sent_blocks(s.manifest, *lenders, s.bytes);
    Result<bool> put = store.put_borrowing(s.manifest, *lenders, data);
    REQUIRE(put.ok());
    up.bytes_sent += data.size();
    up.blocks_borrowed += borrowed;
  }
  return up;
}

CommitResult commit_checked(Store& store, std::string_view image, const VersionManifest& m) {
  Result<CommitResult> r = store.commit(image, m);
  INFO((r.ok() ? std::string() : r.error().message()));
  REQUIRE(r.ok());
  const Status s = store.check();
  INFO((s.ok() ? std::string() : s.error().message()));
  REQUIRE(s.ok());
  return *r;
}

std::uint64_t borrowing_segments(const Store& store) {
  // Not in stats(): count through the complete/incomplete split the index keeps.
  return store.stats().segments - store.stats().complete_segments;
}

// After a refused commit: the next backup, with nothing to borrow, stores `bytes` whole, and gc
// drops the borrowing segments left behind.
void backup_whole_after_refusal(Store& store, std::string_view image, const std::string& bytes) {
  const Uploaded again = upload_borrowing(store, image, bytes);
  REQUIRE(again.blocks_borrowed == 0);
  commit_checked(store, image, again.manifest);
  REQUIRE(*restore(store, image, 1) == bytes);
  REQUIRE(store.gc().ok());
  REQUIRE(store.check().ok());
  REQUIRE(borrowing_segments(store) == 0);
  REQUIRE(*restore(store, image, 1) == bytes);
}

}  // namespace

TEST_CASE("borrowing upload: a clone sends only what it changed, and reads back whole", "[sim]") {
  SimNode sim(41);
  Model model;
  REQUIRE(sim.run([&](Runtime& rt) {
    auto store = open_store(rt);
    Prng rng(41);
    const std::string gold = make_image(rng, 256);
    REQUIRE(backup(*store, "gold", gold).ok());
    model["gold"][1] = gold;
    const StoreStats before = store->stats();
    const std::string clone = clone_of(rng, gold, 8);
    const Uploaded up = upload_borrowing(*store, "clone", clone);
    // 32 blocks rewritten, and the segments the budget could not cover whole.
    REQUIRE(up.blocks_borrowed > 150);
    REQUIRE(up.bytes_sent <= 64 * kBlockBytes);
    // Stored born compacted: no copy of a borrowed block ever reaches the disk.
    REQUIRE(store->stats().stored_bytes - before.stored_bytes == up.bytes_sent);
    const CommitResult r = commit_checked(*store, "clone", up.manifest);
    model["clone"][1] = clone;
    REQUIRE(r.blocks_cross_deduped == up.blocks_borrowed);
    REQUIRE(r.segments_compacted == 0);  // nothing to compact: it was never written
    REQUIRE(store->stats().stored_bytes - before.stored_bytes == up.bytes_sent);
    REQUIRE(store->stats().cross_deduped_bytes == up.blocks_borrowed * kBlockBytes);
    REQUIRE(mismatch(*store, model).empty());
  }));
  // The committed segments borrow no more: after a restart every version still reads back.
  REQUIRE(sim.run([&](Runtime& rt) {
    auto store = open_store(rt);
    REQUIRE(store->check().ok());
    REQUIRE(mismatch(*store, model).empty());
  }));
}

TEST_CASE(
    "borrowing upload: a lender giving its blocks up before the commit fails only the "
    "commit, and the next backup stores the clone whole",
    "[sim]") {
  SimNode sim(42);
  REQUIRE(sim.run([&](Runtime& rt) {
    StoreOptions o = small_options();
    o.unreferenced_ttl = Duration(0);
    auto store = open_store(rt, o);
    Prng rng(42);
    const std::string gold = make_image(rng, 128);
    REQUIRE(backup(*store, "gold", gold).ok());
    const std::string clone = clone_of(rng, gold, 8);
    const Uploaded up = upload_borrowing(*store, "clone", clone);
    REQUIRE(up.blocks_borrowed > 0);
    REQUIRE(store->remove_version("gold", 1).ok());  // the lenders go
    REQUIRE(store->check().ok());
    Result<CommitResult> r = store->commit("clone", up.manifest);
    REQUIRE(r.code() == Errc::not_found);
    REQUIRE_THAT(r.error().message(), Catch::Contains("back up the version again"));
    REQUIRE(store->check().ok());
    backup_whole_after_refusal(*store, "clone", clone);  // nothing lends now
  }));
}

TEST_CASE(
    "borrowing upload: a commit reading the borrowed blocks from more segments than the "
    "fragmentation budget allows now is refused, and the next backup stores the clone whole",
    "[sim]") {
  SimNode sim(47);
  Prng rng(47);
  const std::string gold = make_image(rng, 128);
  const std::string clone = clone_of(rng, gold, 8);
  VersionManifest manifest;
  REQUIRE(sim.run([&](Runtime& rt) {
    auto store = open_store(rt);
    REQUIRE(backup(*store, "gold", gold).ok());
    const Uploaded up = upload_borrowing(*store, "clone", clone);
    REQUIRE(up.blocks_borrowed > 0);
    manifest = up.manifest;
  }));
  REQUIRE(sim.run([&](Runtime& rt) {
    StoreOptions o = small_options();
    o.cross_dedup_segments_per_mib = 0;  // lowered between the upload and the commit
    o.unreferenced_ttl = Duration(0);
    auto store = open_store(rt, o);
    Result<CommitResult> r = store->commit("clone", manifest);
    REQUIRE(r.code() == Errc::not_found);
    REQUIRE_THAT(r.error().message(), Catch::Contains("fragmentation budget"));
    REQUIRE(store->check().ok());
    backup_whole_after_refusal(*store, "clone", clone);  // the budget lends nothing now
    REQUIRE(*restore(*store, "gold", 1) == gold);
  }));
}

TEST_CASE(
    "borrowing upload: two copies of a segment uploaded with different lenders; with the "
    "newest copy's lender gone the commit still succeeds and every version reads back",
    "[sim]") {
  SimNode sim(46);
  Prng rng(46);
  const std::string gold = make_image(rng, 128);
  // silver: gold with the first block of each segment rewritten, so segments of its own holding
  // every other block of gold's
  std::string silver = gold;
  constexpr std::size_t kPerSegment = kSmallSegmentBytes / kBlockBytes;
  for (std::size_t b = 0; b * kBlockBytes < silver.size(); b += kPerSegment) {
    silver.replace(b * kBlockBytes, kBlockBytes, random_bytes(rng, kBlockBytes));
  }
  const std::string clone = clone_of(rng, gold, 8);
  StoreOptions off = small_options();
  off.cross_dedup_segments_per_mib = 0;  // gold and silver stored whole, lending nothing
  SegmentId gold_segments = 0;
  REQUIRE(sim.run([&](Runtime& rt) {
    auto store = open_store(rt, off);
    REQUIRE(backup(*store, "gold", gold).ok());
    gold_segments = store->stats().segments;  // ids 1..n; silver's n+1..2n, in the same order
    REQUIRE(backup(*store, "silver", silver).ok());
    REQUIRE(store->stats().segments == 2 * gold_segments);
  }));
  REQUIRE(sim.run([&](Runtime& rt) {
    StoreOptions o = small_options();
    o.unreferenced_ttl = Duration(0);
    auto store = open_store(rt, o);
    VersionManifest manifest;
    const std::vector<CutSegment> segments = cut_image(clone, small_cutter(), manifest);
    std::uint64_t borrowed = 0;
    for (const CutSegment& s : segments) {
      if (s.manifest.all_null()) continue;
      Result<std::vector<SegmentId>> planned = store->plan_borrowing("clone", s.manifest);
      REQUIRE(planned.ok());
      // The same segment twice: first lent by silver (the older copy), then by gold (the
      // newest); the first block, which silver lacks, is sent by both.
      for (const bool from_gold : {false, true}) {
        std::vector<SegmentId> lenders = *planned;
        lenders[0] = 0;
        for (SegmentId& id : lenders) {
          if (id == 0) continue;
          const SegmentId gold_id = id > gold_segments ? id - gold_segments : id;
          id = from_gold ? gold_id : gold_id + gold_segments;
        }
        if (std::all_of(lenders.begin(), lenders.end(), [](SegmentId id) { return id == 0; })) {
          REQUIRE(store->put_segment(s.manifest.fp, s.bytes).ok());
          break;
        }
        Result<bool> put =
            store->put_borrowing(s.manifest, lenders, sent_blocks(s.manifest, lenders, s.bytes));
        INFO((put.ok() ? std::string() : put.error().message()));
        REQUIRE(put.ok());
        borrowed += from_gold ? 1 : 0;
      }
    }
    REQUIRE(borrowed > 0);
    REQUIRE(store->remove_version("gold", 1).ok());  // the newest copies' lenders go
    commit_checked(*store, "clone", manifest);
    REQUIRE(*restore(*store, "clone", 1) == clone);
    REQUIRE(store->gc().ok());
    REQUIRE(store->check().ok());
    REQUIRE(*restore(*store, "clone", 1) == clone);
    REQUIRE(*restore(*store, "silver", 1) == silver);
  }));
}

TEST_CASE("borrowing upload: survives a restart before its commit; gc drops one never committed",
          "[sim]") {
  SimNode sim(43);
  Model model;
  VersionManifest pending, abandoned;
  std::string clone;
  REQUIRE(sim.run([&](Runtime& rt) {
    auto store = open_store(rt);
    Prng rng(43);
    const std::string gold = make_image(rng, 128);
    REQUIRE(backup(*store, "gold", gold).ok());
    model["gold"][1] = gold;
    clone = clone_of(rng, gold, 8);
    pending = upload_borrowing(*store, "clone", clone).manifest;
    abandoned = upload_borrowing(*store, "other", clone_of(rng, gold, 5)).manifest;
  }));
  REQUIRE(sim.run([&](Runtime& rt) {
    StoreOptions o = small_options();
    o.unreferenced_ttl = Duration(0);
    auto store = open_store(rt, o);
    REQUIRE(store->check().ok());
    commit_checked(*store, "clone", pending);
    model["clone"][1] = clone;
    REQUIRE(mismatch(*store, model).empty());
    const std::uint64_t segments = store->stats().segments;
    Result<GcReport> gc = store->gc();
    REQUIRE(gc.ok());
    REQUIRE(gc->segments_dropped > 0);  // `other`'s uploads, never committed
    REQUIRE(store->stats().segments == segments - gc->segments_dropped);
    REQUIRE(store->check().ok());
    REQUIRE(mismatch(*store, model).empty());
  }));
}

TEST_CASE(
    "borrowing upload: refused unless the blocks sent hash to the manifest, the lenders "
    "hold the rest and the budget allows them",
    "[sim]") {
  SimNode sim(44);
  REQUIRE(sim.run([&](Runtime& rt) {
    auto store = open_store(rt);
    Prng rng(44);
    const std::string gold = make_image(rng, 32);
    REQUIRE(backup(*store, "gold", gold).ok());
    VersionManifest manifest;
    const std::vector<CutSegment> segments =
        cut_image(clone_of(rng, gold, 8), small_cutter(), manifest);
    const CutSegment& s = segments.front();
    const std::uint64_t segments_before = store->stats().segments;
    Result<std::vector<SegmentId>> lenders = store->plan_borrowing("clone", s.manifest);
    REQUIRE(lenders.ok());
    REQUIRE(std::any_of(lenders->begin(), lenders->end(), [](SegmentId id) { return id != 0; }));
    std::string data = sent_blocks(s.manifest, *lenders, s.bytes);
    std::string flipped = data;
    flipped[5] ^= 1;
    REQUIRE(store->put_borrowing(s.manifest, *lenders, flipped).code() == Errc::invalid_argument);
    REQUIRE(store->put_borrowing(s.manifest, *lenders, data + "x").code() ==
            Errc::invalid_argument);
    std::vector<SegmentId> unknown = *lenders;
    for (SegmentId& id : unknown) id = id != 0 ? 999 : 0;
    REQUIRE(store->put_borrowing(s.manifest, unknown, data).code() == Errc::not_found);
    // Every block of another segment borrowed from a different lender: over the budget.
    std::vector<SegmentId> spread(s.manifest.blocks.size());
    std::string none;
    for (std::size_t b = 0; b < spread.size(); ++b)
      spread[b] = s.manifest.blocks[b].null ? 0 : 100 + b;
    // (not_found: the client then uploads the segment whole, as when the budget was lowered
    // between its question and its upload)
    REQUIRE(store->put_borrowing(s.manifest, spread, none).code() == Errc::not_found);
    // A lender naming an id not handed out yet -- the next one, or later -- is refused, and the
    // refusals take no id: the segment can never be made its own lender.
    for (SegmentId ahead = segments_before; ahead < segments_before + 4; ++ahead) {
      std::vector<SegmentId> future = *lenders;
      for (SegmentId& id : future) id = id != 0 ? ahead + 1 : 0;
      REQUIRE(store->put_borrowing(s.manifest, future, data).code() == Errc::not_found);
    }
    SegmentManifest lying = s.manifest;
    lying.blocks[0].fp.bytes[0] ^= 1;
    REQUIRE(store->put_borrowing(lying, *lenders, data).code() == Errc::invalid_argument);
    REQUIRE(store->stats().segments == segments_before);
    REQUIRE(store->put_borrowing(s.manifest, *lenders, data).ok());
    REQUIRE(store->check().ok());
  }));
}

TEST_CASE("borrowing upload: with cross-image dedup off nothing is borrowed", "[sim]") {
  SimNode sim(45);
  REQUIRE(sim.run([&](Runtime& rt) {
    StoreOptions o = small_options();
    o.cross_dedup_segments_per_mib = 0;
    auto store = open_store(rt, o);
    Prng rng(45);
    const std::string gold = make_image(rng, 64);
    REQUIRE(backup(*store, "gold", gold).ok());
    const Uploaded up = upload_borrowing(*store, "clone", clone_of(rng, gold, 8));
    REQUIRE(up.blocks_borrowed == 0);
  }));
}

TEST_CASE("segment metadata: borrowed blocks keep their lenders through the file format", "[sim]") {
  std::vector<Fingerprint> fps;
  for (int i = 0; i < 6; ++i) fps.push_back(Hasher::of(HashKind::sha256, std::to_string(i)));
  const std::vector<bool> nulls{false, false, true, false, false, false};
  const std::vector<SegmentId> lenders{0, 7, 0, 9, 0, 7};
  const SegmentMeta m = borrowing_segment_meta(5, fps[0], 6 * kBlockBytes, fps, nulls, lenders);
  REQUIRE(m.generation == 1);
  REQUIRE(m.blocks[1].state == BlockState::borrowed);
  REQUIRE(m.blocks[1].lender == 7);
  REQUIRE(m.blocks[4].slot == 1);  // the blocks sent are packed
  REQUIRE(m.space().stored_bytes == 2 * kBlockBytes);
  REQUIRE(m.space().compacted_bytes == 3 * kBlockBytes);
  REQUIRE_FALSE(m.complete());
  REQUIRE(m.header().borrowing);
  const std::string bytes = encode_segment_meta(m);
  Result<SegmentMeta> back = decode_segment_meta(bytes, 5, kSegmentBytesMax);
  REQUIRE(back.ok());
  REQUIRE(*back == m);
  REQUIRE(decode_segment_header(bytes, 5, kSegmentBytesMax)->borrowing);
  // Its commit names the borrowed blocks with no change of count: they become compacted.
  BlockDeltas deltas{{0, 1}, {1, 0}, {3, 0}, {4, 1}, {5, 0}};
  RemovalPlan p = plan_block_removal(m, deltas, 20);
  REQUIRE(p.kind == RemovalKind::none);
  REQUIRE(p.after.blocks[1].state == BlockState::compacted);
  REQUIRE_FALSE(p.after.borrowing());
  REQUIRE(p.after.space() == m.space());
  // A segment whose every block was borrowed keeps nothing: dropped.
  const SegmentMeta all = borrowing_segment_meta(6, fps[0], 6 * kBlockBytes, fps, nulls,
                                                 std::vector<SegmentId>{7, 7, 0, 9, 9, 9});
  REQUIRE(plan_block_removal(all, BlockDeltas{{0, 0}, {1, 0}, {3, 0}, {4, 0}, {5, 0}}, 20).kind ==
          RemovalKind::drop);
}

TEST_CASE("borrowing wire: lenders and uploads round-trip; short or stray bodies are refused",
          "[sim]") {
  const std::vector<SegmentId> lenders{0, 12, 0, 1ull << 40};
  Result<std::vector<SegmentId>> back = decode_lenders(encode_lenders(lenders), lenders.size());
  REQUIRE(back.ok());
  REQUIRE(*back == lenders);
  REQUIRE(decode_lenders("0 1\n", 3).code() == Errc::protocol);
  REQUIRE(decode_lenders("0 1 2 3\n", 3).code() == Errc::protocol);
  REQUIRE(decode_lenders("0 x 2\n", 3).code() == Errc::protocol);
  Prng rng(46);
  const std::string bytes = random_bytes(rng, 4 * kBlockBytes);
  const SegmentManifest m = segment_manifest_of(HashKind::sha256, bytes);
  const std::string body = encode_borrowing_upload(m, lenders, bytes);
  const ManifestLimits limits;
  Result<BorrowingUpload> up = decode_borrowing_upload(body, HashKind::sha256, limits);
  REQUIRE(up.ok());
  REQUIRE(up->segment == m);
  REQUIRE(up->lenders == lenders);
  REQUIRE(up->data == bytes.substr(0, kBlockBytes) + bytes.substr(2 * kBlockBytes, kBlockBytes));
  REQUIRE_FALSE(decode_borrowing_upload(body.substr(0, 100), HashKind::sha256, limits).ok());
  REQUIRE_FALSE(decode_borrowing_upload(body, HashKind::sha1, limits).ok());
}
