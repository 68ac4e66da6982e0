// The listing oracle of the dedup scenarios (properties/dedup/listing_accuracy.h).

#include "properties/dedup/listing_accuracy.h"

#include <catch2/catch.hpp>

using namespace doppel::properties::dedup;

namespace {

const std::vector<MatchedImage> kMatched = {{"vm0", {{2, 100}, {3, 150}}}, {"vm1", {}}};

}  // namespace

TEST_CASE("listing-accurate: a summary that counts the matched versions and sizes passes",
          "[unit]") {
  const std::vector<ImageCount> told = {{"vm0", 2, 2, 3, 150, 250}, {"vm1", 0, 0, 0, 0, 0}};
  CHECK_FALSE(judge_listing(kMatched, told, 2, 250));
}

TEST_CASE("listing-accurate: a wrong size, a missing image or a wrong total is named", "[unit]") {
  const auto wrong_latest = judge_listing(kMatched, {{"vm0", 2, 2, 3, 100, 250}}, 2, 250);
  REQUIRE(wrong_latest);
  CHECK(wrong_latest->find("the latest 100") != std::string::npos);
  const auto missing = judge_listing(kMatched, {}, 2, 250);
  REQUIRE(missing);
  CHECK(missing->find("does not list vm0") != std::string::npos);
  const auto total = judge_listing(kMatched, {{"vm0", 2, 2, 3, 150, 250}}, 3, 250);
  REQUIRE(total);
  CHECK(total->find("GET /stats counts 3 versions") != std::string::npos);
}

TEST_CASE("listing-accurate: an image summarised with versions no listing shows fails", "[unit]") {
  const auto extra =
      judge_listing(kMatched, {{"vm0", 2, 2, 3, 150, 250}, {"vm1", 1, 1, 1, 10, 10}}, 2, 250);
  REQUIRE(extra);
  CHECK(extra->find("lists vm1 with 1 versions") != std::string::npos);
}
