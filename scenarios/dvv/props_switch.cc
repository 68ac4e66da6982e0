#include "scenarios/dvv/props_switch.h"

#include "runtime/assert.h"

namespace doppel::scenarios {

using namespace std::chrono_literals;

void PropsSwitch::switch_to(bool exact) {
  DOPPEL_ASSERT(exact != exact_);
  if (!exact) {
    lww_open_ = true;  // from the moment it is sent
    ++lww_epoch_;
  } else if (prop_ == Prop::allow_mult) {
    one_value_ = false;
    ++one_value_epoch_;
  }
  doppel::dvv::BucketPropsUpdate update;
  std::string want;
  if (prop_ == Prop::allow_mult) {
    update.allow_mult = exact;
    want = std::string("\"allow_mult\":") + (exact ? "true" : "false");
  } else {
    update.clock = exact ? "dvvset" : "vv";
    want = "\"clock\":\"" + *update.clock + "\"";
  }
  for (std::uint32_t attempt = 0;; ++attempt) {
    auto r = client_of_(attempt % nodes_).set_props(bucket_, update, rt_.now() + 1500ms);
    if (r && *r == 204) break;
    rt_.sleep(100ms);
  }
  for (std::uint32_t n = 0; n < nodes_; ++n) {
    for (;;) {
      auto r = client_of_(n).props(bucket_, rt_.now() + 1500ms);
      if (r && r->status == 200 && r->body.find(want) != std::string::npos) break;
      rt_.sleep(100ms);
    }
  }
  exact_ = exact;
  ++switches_;
  if (exact) {
    lww_open_ = false;  // every node has it
  } else if (prop_ == Prop::allow_mult) {
    one_value_ = true;
    ++one_value_epoch_;
  }
}

void PropsSwitch::run(Duration every, const std::function<bool()>& quiet) {
  while (!quiet()) {
    rt_.sleep(every);
    if (quiet()) break;
    switch_to(!exact_);
  }
  if (!exact_) switch_to(true);
  done_ = true;
}

}  // namespace doppel::scenarios
