// The reference-count oracle (properties/dedup/reference_counts.h) against a
// real store's files on the simulated disk: its own decoder reads what the
// store writes, a balanced store passes, and what it is there to find --
// a wrong persisted count, removed blocks still on the disk, versions the
// clients' model does not allow, damage nobody explains -- fails it.

#include "properties/dedup/reference_counts.h"

#include <catch2/catch.hpp>

#include "components/dedup/store/recipe.h"
#include "components/dedup/store/segment_meta.h"
#include "dedup_test_util.h"
#include "properties/dedup/store_image.h"

using namespace doppel;
using namespace doppel::dedup;
using namespace doppel::dedup::test;
namespace oracle = doppel::properties::dedup;

namespace {

// A copy of the store's files (relative to its root), which a test may alter.
struct FilesCopy {
  std::map<std::string, std::string> bytes;

  oracle::StoreFiles view() const {
    oracle::StoreFiles out;
    for (const auto& [path, b] : bytes) out.emplace(path, b);
    return out;
  }
};

FilesCopy copy_store(sim::SimDisk& disk, const std::string& root) {
  FilesCopy out;
  std::vector<std::string> dirs{root};
  for (std::size_t i = 0; i < dirs.size(); ++i) {
    Result<std::vector<std::string>> names = disk.list(dirs[i]);
    REQUIRE(names.ok());
    for (const std::string& name : *names) {
      const std::string path = dirs[i] + "/" + name;
      if (const sim::SimDisk::Inode* inode = disk.inode_at(path)) {
        out.bytes.emplace(path.substr(root.size() + 1), inode->data);
      } else {
        dirs.push_back(path);
      }
    }
  }
  return out;
}

struct Series {
  oracle::BackupLedger ledger;
  std::uint64_t punched = 0;  // segments punched by the commits
};

// Commits `n` edits of one image "vm" (ledger image 0) and removes version 2, checked.
Series run_series(Store& store, std::uint64_t seed, int n) {
  Series s;
  Prng rng(seed);
  std::string bytes = make_image(rng, 60, 300);
  for (int i = 0; i < n; ++i) {
    bytes = edit_image(rng, bytes);
    Result<CommitResult> r = backup(store, "vm", bytes);
    REQUIRE(r.ok());
    REQUIRE(s.ledger.committed(0, r->version, static_cast<std::uint32_t>(i + 1)));
    s.punched += r->segments_punched;
  }
  s.ledger.removing(0, 2);
  Result<RemoveResult> removed = store.remove_version("vm", 2);
  REQUIRE(removed.ok());
  s.ledger.removed(0, 2);
  const Status checked = store.check();
  INFO((checked.ok() ? std::string() : checked.error().message()));
  REQUIRE(checked.ok());
  return s;
}

oracle::ReferenceCountReport judge(const FilesCopy& files, const oracle::BackupLedger& ledger,
                                   const oracle::DamagedBytes& damaged = {}) {
  return oracle::check_reference_counts(files.view(), {"vm"}, ledger, damaged);
}

// Runs a series in a fresh store; returns its files and what the clients know.
std::pair<FilesCopy, Series> stored_series(std::uint64_t seed, StoreOptions options) {
  SimNode sim(seed);
  Series series;
  REQUIRE(sim.run([&](Runtime& rt) {
    Result<std::unique_ptr<Store>> store = Store::boot(rt, rt.fs(), options);
    REQUIRE(store.ok());
    series = run_series(**store, seed, 6);
  }));
  return {copy_store(sim.world.disk(sim.node), options.dir), std::move(series)};
}

std::string first_meta_with_refs(const FilesCopy& files) {
  for (const auto& [path, bytes] : files.bytes) {
    if (!path.ends_with(".meta")) continue;
    const std::uint64_t id = std::stoull(path.substr(9, 16), nullptr, 16);
    Result<SegmentMeta> m = decode_segment_meta(bytes, id, 1u << 20);
    if (m.ok() && m->refs_total() > 0) return path;
  }
  FAIL("no referenced segment");
  return {};
}

}  // namespace

TEST_CASE("reference counts: the oracle's decoder reads what the store's encoder writes",
          "[unit]") {
  Prng rng(5);
  std::vector<Fingerprint> fps;
  std::vector<bool> nulls;
  for (int b = 0; b < 5; ++b) {
    fps.push_back(Hasher::of(HashKind::sha256, random_bytes(rng, 100)));
    nulls.push_back(b == 2);
  }
  SegmentMeta meta = new_segment_meta(7, fps[0], 4 * kBlockBytes + 100, fps, nulls);
  meta.blocks[0].refs = 3;
  meta.blocks[1].state = BlockState::punched;
  const std::string encoded = encode_segment_meta(meta);
  Result<oracle::DiskSegment> seg = oracle::decode_disk_segment(encoded, 7);
  REQUIRE(seg.ok());
  REQUIRE(seg->blocks.size() == 5);
  REQUIRE(seg->refs_total == 3);
  REQUIRE(seg->blocks[0].refs == 3);
  REQUIRE(seg->blocks[1].state == oracle::DiskBlockState::punched);
  REQUIRE(seg->blocks[2].state == oracle::DiskBlockState::null);
  REQUIRE(seg->blocks[4].digest == fps[4].bytes);
  REQUIRE(seg->block_length(4) == 100);
  REQUIRE_FALSE(oracle::decode_disk_segment(encoded, 8).ok());  // names another segment

  Recipe recipe{"vm", 4, HashKind::sha256, kBlockBytes + 10, {}};
  recipe.entries.push_back(RecipeEntry{RefKind::direct, 7, 0, fps[0]});
  recipe.entries.push_back(RecipeEntry{RefKind::indirect, 9, 1, fps[1]});
  const std::string r_encoded = encode_recipe(recipe);
  Result<oracle::DiskRecipe> r = oracle::decode_disk_recipe(r_encoded, "vm", 4);
  REQUIRE(r.ok());
  REQUIRE(r->entries.size() == 2);
  REQUIRE(r->entries[1].kind == oracle::DiskRefKind::indirect);
  REQUIRE(r->entries[1].target == 9);
  REQUIRE(r->entries[1].index == 1);
  REQUIRE(r->entries[0].digest == fps[0].bytes);
  for (std::size_t at : {std::size_t{3}, std::size_t{100}, r_encoded.size() - 1}) {
    std::string flipped = r_encoded;
    flipped[at] ^= 0x10;
    REQUIRE_FALSE(oracle::decode_disk_recipe(flipped, "vm", 4).ok());
  }
}

TEST_CASE("reference counts: a store after commits and a removal balances on its disk", "[sim]") {
  auto [files, series] = stored_series(31, small_options());
  const oracle::ReferenceCountReport r = judge(files, series.ledger);
  INFO(r.failure.value_or(""));
  REQUIRE_FALSE(r.failure);
  REQUIRE(r.counts_exact);
  REQUIRE(r.recipes == 5);
  REQUIRE(r.direct_references > 0);
  REQUIRE(r.blocks_hashed > 0);
}

TEST_CASE("reference counts: a persisted count one too high fails", "[sim]") {
  auto [files, series] = stored_series(32, small_options());
  const std::string path = first_meta_with_refs(files);
  const std::uint64_t id = std::stoull(path.substr(9, 16), nullptr, 16);
  Result<SegmentMeta> m = decode_segment_meta(files.bytes.at(path), id, 1u << 20);
  REQUIRE(m.ok());
  for (SegmentBlock& b : m->blocks) {
    if (b.refs > 0) {
      ++b.refs;
      break;
    }
  }
  files.bytes[path] = encode_segment_meta(*m);
  const oracle::ReferenceCountReport r = judge(files, series.ledger);
  REQUIRE(r.failure);
  CHECK_THAT(*r.failure, Catch::Contains("references; the recipes on disk hold"));
}

TEST_CASE("reference counts: a flipped bit in metadata fails, unless a known flip explains it",
          "[sim]") {
  auto [files, series] = stored_series(33, small_options());
  const std::string meta = first_meta_with_refs(files);
  files.bytes[meta][200] ^= 4;
  oracle::ReferenceCountReport r = judge(files, series.ledger);
  REQUIRE(r.failure);
  CHECK_THAT(*r.failure, Catch::Contains("cannot decode"));
  // Known where it landed: undone, and the file judged exactly.
  r = judge(files, series.ledger, {{meta, {200}}});
  INFO(r.failure.value_or(""));
  REQUIRE_FALSE(r.failure);
  REQUIRE(r.counts_exact);
  REQUIRE(r.excused.size() == 1);

  // A recipe hit through its staged file: undone; where undoing fails, excused, counts as bounds.
  const std::string recipe = "images/vm/0000000003.recipe";
  files.bytes[recipe][300] ^= 1;
  r = judge(files, series.ledger, {{meta, {200}}, {recipe + ".next", {300}}});
  REQUIRE_FALSE(r.failure);
  REQUIRE(r.counts_exact);
  files.bytes[recipe][301] ^= 1;
  files.bytes[recipe][302] ^= 1;
  files.bytes[recipe][303] ^= 1;
  r = judge(files, series.ledger, {{meta, {200}}, {recipe, {300, 301, 302, 303}}});
  REQUIRE_FALSE(r.failure);
  REQUIRE_FALSE(r.counts_exact);
}

TEST_CASE(
    "reference counts: a stored block that does not hash right fails, unless a known flip "
    "lies in it",
    "[sim]") {
  auto [files, series] = stored_series(34, small_options());
  std::string data;
  for (const auto& [path, bytes] : files.bytes) {
    if (path.starts_with("segments/") && path.ends_with(".0.data") &&
        bytes.size() > 3 * kBlockBytes) {
      data = path;
    }
  }
  REQUIRE_FALSE(data.empty());
  // A byte of a block the segment stores.
  const std::string meta = data.substr(0, data.size() - 7) + ".meta";
  const std::uint64_t id = std::stoull(meta.substr(9, 16), nullptr, 16);
  Result<SegmentMeta> m = decode_segment_meta(files.bytes.at(meta), id, 1u << 20);
  REQUIRE(m.ok());
  std::uint64_t at = 0;
  for (const SegmentBlock& b : m->blocks) {
    if (b.state == BlockState::present) {
      at = std::uint64_t{b.slot} * kBlockBytes + 17;
      break;
    }
  }
  files.bytes[data][at] ^= 2;
  oracle::ReferenceCountReport r = judge(files, series.ledger);
  REQUIRE(r.failure);
  CHECK_THAT(*r.failure, Catch::Contains("does not hash to its fingerprint"));
  r = judge(files, series.ledger, {{data, {at + kBlockBytes}}});  // a flip in another block
  REQUIRE(r.failure);
  r = judge(files, series.ledger, {{data, {at - 17}}});
  INFO(r.failure.value_or(""));
  REQUIRE_FALSE(r.failure);
  REQUIRE(r.excused.size() == 1);
}

TEST_CASE("reference counts: the versions on disk are those the clients' model allows", "[sim]") {
  auto [files, series] = stored_series(36, small_options());
  FilesCopy lost = files;
  lost.bytes.erase("images/vm/0000000004.recipe");
  oracle::ReferenceCountReport r = judge(lost, series.ledger);
  REQUIRE(r.failure);
  CHECK_THAT(*r.failure, Catch::Contains("vm version 4 was acknowledged"));

  FilesCopy back = files;
  back.bytes["images/vm/0000000002.recipe"] = back.bytes.at("images/vm/0000000001.recipe");
  r = judge(back, series.ledger);
  REQUIRE(r.failure);
  CHECK_THAT(*r.failure, Catch::Contains("vm version 2 was removed"));

  FilesCopy logged = files;
  logged.bytes["log/intent"] = "DDINTENT";
  r = judge(logged, series.ledger);
  REQUIRE(r.failure);
  CHECK_THAT(*r.failure, Catch::Contains("an intent is left in the log"));
}

TEST_CASE(
    "reference counts: a punch that keeps a block's bytes passes the store's check and "
    "fails the oracle",
    "[sim]") {
  StoreOptions options = small_options();
  options.planted_bug = PlantedBug::punch_keeps_last_block;
  options.rebuild_threshold_percent = 100;  // punch every removal short of a whole segment
  auto [files, series] = stored_series(35, options);  // the store's check passed in there
  REQUIRE(series.punched > 0);
  const oracle::ReferenceCountReport r = judge(files, series.ledger);
  REQUIRE(r.failure);
  CHECK_THAT(*r.failure, Catch::Contains("its bytes are still in the data file"));
}
