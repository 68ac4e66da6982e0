// Damage: verify() finds flipped bits in blocks and metadata and names the
// damaged ranges; reads never return wrong bytes; damaged metadata turns the
// store read-only. And disk faults (EIO, bit flips on reads) never cost a
// committed version.

#include <catch2/catch.hpp>

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

// Flips one bit of a file through the FileSystem.
void flip_bit(FileSystem& fs, const std::string& path, std::uint64_t offset) {
  Result<std::unique_ptr<File>> f = fs.open(path, OpenOptions{});
  REQUIRE(f.ok());
  char c = 0;
  REQUIRE(*(*f)->pread(std::span<char>(&c, 1), offset) == 1);
  c = static_cast<char>(c ^ 0x10);
  REQUIRE((*f)->pwrite(std::string_view(&c, 1), offset).ok());
  REQUIRE((*f)->datasync().ok());
}

std::vector<std::string> files_ending(FileSystem& fs, const std::string& dir,
                                      std::string_view suffix) {
  std::vector<std::string> out;
  const Result<std::vector<std::string>> names = fs.list(dir);
  REQUIRE(names.ok());
  for (const std::string& name : *names) {
    if (name.size() >= suffix.size() && name.substr(name.size() - suffix.size()) == suffix) {
      out.push_back(dir + "/" + name);
    }
  }
  return out;
}

bool damaged(const VerifyReport& report, const std::string& image, VersionNumber v,
             std::uint64_t offset) {
  for (const Damage& d : report.damage) {
    if (d.image == image && d.version == v && d.offset <= offset && offset < d.offset + d.length) {
      return true;
    }
  }
  return false;
}

// Every block of every version reads back right, or fails with corrupt exactly
// where verify reported damage.
void require_damage_matches_reads(Store& store, const Model& model, const VerifyReport& report) {
  for (const auto& [image, versions] : model) {
    for (const auto& [v, bytes] : versions) {
      for (std::uint64_t at = 0; at < bytes.size(); at += kBlockBytes) {
        std::string buf(std::min<std::uint64_t>(kBlockBytes, bytes.size() - at), '\0');
        Result<std::size_t> got = store.read(image, v, at, buf);
        INFO(image << " v" << v << " at " << at);
        if (damaged(report, image, v, at)) {
          REQUIRE(got.code() == Errc::corrupt);
        } else {
          REQUIRE(got.ok());
          REQUIRE(buf == bytes.substr(at, buf.size()));
        }
      }
    }
  }
}

}  // namespace

TEST_CASE(
    "store verify: a flipped bit in a stored block is found and named by image, version "
    "and offset",
    "[sim]") {
  SimNode sim(31);
  REQUIRE(sim.run([&](Runtime& rt) {
    auto store = open_store(rt);
    Prng rng(31);
    Model model;
    std::string bytes = random_bytes(rng, 40 * kBlockBytes + 77);
    for (VersionNumber v = 1; v <= 3; ++v) {
      REQUIRE(backup(*store, "vm", bytes).ok());
      model["vm"][v] = bytes;
      bytes.replace(rng.below(40) * kBlockBytes, 100, random_bytes(rng, 100));
    }
    REQUIRE(backup(*store, "copy", model["vm"][3]).ok());  // shares v3's segments
    model["copy"][1] = model["vm"][3];
    Result<VerifyReport> clean = store->verify();
    REQUIRE(clean.ok());
    REQUIRE(clean->clean());
    REQUIRE(clean->blocks_checked > 40);
    std::string target;  // a data file of at least two blocks
    for (const std::string& path : files_ending(rt.fs(), "dedup/segments", ".data")) {
      if (*(*rt.fs().open(path, OpenOptions{}))->size() >= 2 * kBlockBytes) target = path;
    }
    REQUIRE_FALSE(target.empty());
    flip_bit(rt.fs(), target, 5000);  // in the file's second block
    Result<VerifyReport> report = store->verify();
    REQUIRE(report.ok());
    REQUIRE_FALSE(report->clean());
    REQUIRE(report->damage_count > 0);
    require_damage_matches_reads(*store, model, *report);
  }));
}

TEST_CASE(
    "store verify: damaged metadata is detected, not trusted: reported, and the store "
    "turns read-only",
    "[sim]") {
  SimNode sim(32);
  Model model;
  std::string meta;
  REQUIRE(sim.run([&](Runtime& rt) {
    auto store = open_store(rt);
    Prng rng(32);
    for (const char* image : {"a", "b"}) {
      const std::string bytes = random_bytes(rng, 20 * kBlockBytes);
      REQUIRE(backup(*store, image, bytes).ok());
      model[image][1] = bytes;
    }
    meta = files_ending(rt.fs(), "dedup/segments", ".meta").front();
    flip_bit(rt.fs(), meta, 20);  // in the header: boot reads it
  }));
  REQUIRE(sim.run([&](Runtime& rt) {
    auto store = open_store(rt);
    REQUIRE(store->check().code() == Errc::corrupt);
    Prng rng(33);
    Result<CommitResult> commit = backup(*store, "c", random_bytes(rng, kBlockBytes));
    REQUIRE(commit.code() == Errc::corrupt);
    REQUIRE(store->gc().code() == Errc::corrupt);
    Result<VerifyReport> report = store->verify();
    REQUIRE(report.ok());
    REQUIRE_FALSE(report->clean());
    REQUIRE(report->problems.front().find(meta) != std::string::npos);
    require_damage_matches_reads(*store, model, *report);
  }));
}

TEST_CASE("store verify: a bit flipped anywhere on the disk is found, for 20 seeds", "[sim]") {
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    SimNode sim(seed);
    Model model;
    std::unique_ptr<Store> store;
    REQUIRE(sim.run([&](Runtime& rt) {
      store = open_store(rt);
      Prng rng(seed);
      // No null blocks and no removed ones: every byte on the disk is in use.
      for (const char* image : {"a", "b"}) {
        const std::string bytes = random_bytes(rng, (10 + rng.below(20)) * kBlockBytes + 9);
        REQUIRE(backup(*store, image, bytes).ok());
        model[image][1] = bytes;
      }
    }));
    sim.world.disk(sim.node).corrupt();
    REQUIRE(sim.run([&](Runtime&) {
      Result<VerifyReport> report = store->verify();
      REQUIRE(report.ok());
      INFO("seed " << seed);
      REQUIRE_FALSE(report->clean());
      require_damage_matches_reads(*store, model, *report);
      store.reset();
    }));
  }
}

TEST_CASE(
    "store faults: with EIO and bit flips on reads, a read never returns wrong bytes and "
    "no acknowledged version is lost, for 12 seeds",
    "[sim]") {
  std::uint64_t failures = 0, replays = 0;
  for (std::uint64_t seed = 0; seed < 12; ++seed) {
    sim::AmbientFaults faults;
    faults.disk_eio = seed % 3 != 2;
    faults.disk_bitflip = seed % 3 != 0;
    SimNode sim(seed, faults);
    Model acknowledged;
    std::map<std::string, std::vector<std::string>> attempted;
    REQUIRE(sim.run([&](Runtime& rt) {
      Result<std::unique_ptr<Store>> opened = Store::boot(rt, rt.fs(), small_options());
      for (int i = 0; i < 5 && !opened; ++i) opened = Store::boot(rt, rt.fs(), small_options());
      REQUIRE(opened.ok());
      Store& store = **opened;
      Prng rng(seed);
      std::string bytes = make_image(rng, 30, 11);
      for (int step = 0; step < 12; ++step) {
        const std::string image = step % 2 == 0 ? "a" : "b";
        bytes = edit_image(rng, bytes);
        attempted[image].push_back(bytes);
        Result<CommitResult> r = backup(store, image, bytes);
        if (r) acknowledged[image][r->version] = bytes;
        failures += r ? 0 : 1;
        for (const auto& [img, versions] : acknowledged) {
          for (const auto& [v, expect] : versions) {
            Result<std::string> got = restore(store, img, v);
            if (got) REQUIRE(*got == expect);  // an error is allowed, a wrong byte is not
          }
        }
      }
      replays += store.stats().intents_replayed;
    }));
    sim.world.quiesce();  // the faults stop; what is on the disk stays
    REQUIRE(sim.run([&](Runtime& rt) {
      auto store = open_store(rt);
      INFO("seed " << seed);
      const Status s = store->check();
      INFO((s.ok() ? std::string() : s.error().message()));
      REQUIRE(s.ok());
      for (const auto& [image, versions] : acknowledged) {
        for (const auto& [v, expect] : versions) REQUIRE(*restore(*store, image, v) == expect);
      }
      // A version whose commit failed may exist (if the failure came after the
      // change was logged), but only as one of the images attempted.
      const std::vector<ImageInfo> images = *store->list_images();
      for (const ImageInfo& image : images) {
        const std::vector<VersionInfo> versions = *store->list_versions(image.name);
        for (const VersionInfo& v : versions) {
          const std::string got = *restore(*store, image.name, v.version);
          const auto& tried = attempted[image.name];
          REQUIRE(std::find(tried.begin(), tried.end(), got) != tried.end());
        }
      }
    }));
  }
  CHECK(failures > 0);  // the faults did hit
  CHECK(replays > 0);   // some after the intent was logged: recovery finished the change
}
