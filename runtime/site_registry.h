#pragma once
// The registry behind named sites (BUGGIFY sites, sometimes assertions): every
// site is an object at namespace scope that registers itself during static
// initialisation, one thread, before main(), so the whole list exists before
// a run starts and a swarm can name the sites no run reached. Nothing
// registers afterwards but a site defined in a function (which the headers ask
// not to do), so the registry needs no lock.

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <vector>

#include "runtime/assert.h"

namespace doppel {

// Site has name(). One registry per Site type.
template <class Site>
class SiteRegistry {
 public:
  // More than any binary should need: a limit, so a site in a loop shows.
  static constexpr std::size_t kSitesMax = 4096;

  // Returns the site's index (its place in this binary: table lookups only).
  static std::uint32_t add(Site* site) {
    std::vector<Site*>& all = sites();
    DOPPEL_ASSERT_MSG(all.size() < kSitesMax, "too many sites of one kind");
    for (const Site* other : all) {
      DOPPEL_ASSERT_MSG(other == nullptr || other->name() != site->name(),
                        "two sites of one kind and one name");
    }
    all.push_back(site);
    return static_cast<std::uint32_t>(all.size() - 1);
  }
  static void remove(std::uint32_t index) { sites()[index] = nullptr; }

  // Every registered site, ordered by name.
  static std::vector<const Site*> sorted() {
    std::vector<const Site*> out;
    for (const Site* s : sites()) {
      if (s != nullptr) out.push_back(s);
    }
    std::sort(out.begin(), out.end(),
              [](const Site* a, const Site* b) { return a->name() < b->name(); });
    return out;
  }
  // One more than the largest index of a registered site.
  static std::uint32_t slots() { return static_cast<std::uint32_t>(sites().size()); }
  static const Site* find(std::string_view name) {
    for (const Site* s : sites()) {
      if (s != nullptr && s->name() == name) return s;
    }
    return nullptr;
  }

 private:
  // Held by a function so that it exists before the first site registers,
  // whatever the order in which translation units are initialised.
  static std::vector<Site*>& sites() {
    static std::vector<Site*> all;
    return all;
  }
};

}  // namespace doppel
