#pragma once
// BUGGIFY sites: named fault points that a component places where the real
// world can misbehave (a short read, a slow sync, a busy replica), so that a
// simulation sends it down those paths. In the simulator a site is switched on
// for some runs and then fires with some probability; on the real runtime it
// never fires. A site must only inject what the real world can do: it makes a
// component slower, shorter or unluckier, never wrong.
//
// Every site is an object defined at namespace scope next to the code that
// uses it, so the whole list exists before main() and a swarm can name the
// sites it never reached:
//
//   namespace {
//   const BuggifySite kSlowRename{"dedup.commit.slow_rename",
//                                 "the rename that logs a commit's intent waits up to 50 ms"};
//   }
//   ...
//   if (buggify(rt_, kSlowRename)) rt_.sleep(...);
//
// Names are "component.area.what" (lower case, digits and '_'), checked when
// the code compiles; they are what a trace records, so they must stay stable
// across edits (unlike file:line) and are unique in a binary (asserted when it
// starts).

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "runtime/time.h"

namespace doppel {

class Runtime;

// A site's name (BUGGIFY sites, sometimes assertions), checked at compile time: a malformed
// name does not compile.
class SiteName {
 public:
  // NOLINTNEXTLINE(google-explicit-constructor): written as a string literal at every site.
  consteval SiteName(const char* text) : text_(text) {
    if (!well_formed(text_)) throw "a site is named component.area.what";
  }
  constexpr std::string_view text() const { return text_; }

  // Three non-empty dot-separated parts of [a-z0-9_], each starting with a letter.
  static constexpr bool well_formed(std::string_view name) {
    int parts = 0;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= name.size(); ++i) {
      if (i < name.size() && name[i] != '.') {
        const char c = name[i];
        const bool letter = c >= 'a' && c <= 'z';
        if (!letter && !(c >= '0' && c <= '9') && c != '_') return false;
        if (i == start && !letter) return false;
        continue;
      }
      if (i == start) return false;  // an empty part
      ++parts;
      start = i + 1;
    }
    return parts == 3 && name.size() <= kBytesMax;
  }

  static constexpr std::size_t kBytesMax = 64;

 private:
  std::string_view text_;
};

class BuggifySite {
 public:
  // Registers the site; `injects` says in a few words what a firing does.
  BuggifySite(SiteName name, std::string_view injects);
  ~BuggifySite();
  BuggifySite(const BuggifySite&) = delete;
  BuggifySite& operator=(const BuggifySite&) = delete;

  std::string_view name() const { return name_; }
  // The first part of the name: "kv", "dvv", "dedup", "http".
  std::string_view component() const { return name_.substr(0, name_.find('.')); }
  std::string_view injects() const { return injects_; }
  // A hash of the name (FNV-1a), the same in every build: what a simulator
  // seeds the site's draws with, so that adding a site changes no other's.
  std::uint64_t name_hash() const { return name_hash_; }
  // Its place in this binary's registry: for table lookups only (it depends
  // on the link order, so it must never decide anything).
  std::uint32_t index() const { return index_; }

 private:
  std::string_view name_;
  std::string_view injects_;
  std::uint64_t name_hash_;
  std::uint32_t index_;
};

// Every site this binary holds, ordered by name.
std::vector<const BuggifySite*> buggify_sites();
// One more than the largest index() of a registered site.
std::uint32_t buggify_site_slots();
// nullptr if no site has this name.
const BuggifySite* find_buggify_site(std::string_view name);

// True when the site fires in this run (never on the real runtime).
bool buggify(Runtime& rt, const BuggifySite& site);

// The commonest site: if it fires, sleeps a random time in [min, max] (a slow
// disk, a busy peer, a late answer). True if it slept.
bool buggify_sleep(Runtime& rt, const BuggifySite& site, Duration max,
                   Duration min = std::chrono::milliseconds(1));

}  // namespace doppel
