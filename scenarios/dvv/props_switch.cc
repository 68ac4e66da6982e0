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
  rt_.record(Event("DvvPropsSwitchSent").detail("prop", prop_name()).detail("exact", exact));
  set_props(rt_, nodes_, bucket_, update, client_of_);
  settle(rt_, nodes_, bucket_, want, client_of_);
  exact_ = exact;
  ++switches_;
  rt_.record(Event("DvvPropsSwitched").detail("prop", prop_name()).detail("exact", exact));
  if (exact) {
    lww_open_ = false;  // every node has it
  } else if (prop_ == Prop::allow_mult) {
    one_value_ = true;
    ++one_value_epoch_;
  }
}

void PropsSwitch::set_props(Runtime& rt, std::uint32_t nodes, const std::string& bucket,
                            const doppel::dvv::BucketPropsUpdate& update,
                            const ClientOf& client_of) {
  for (std::uint32_t attempt = 0;; ++attempt) {
    doppel::dvv::RiakClient& client = client_of(attempt % nodes);
    auto now = client.props(bucket, rt.now() + 1500ms);
    const auto tag = now && now->status == 200 ? now->headers.get("ETag") : std::nullopt;
    if (tag) {
      auto r = client.set_props(bucket, update, rt.now() + 1500ms, *tag);
      if (r && *r == 204) return;
    }
    rt.sleep(100ms);
  }
}

void PropsSwitch::settle(Runtime& rt, std::uint32_t nodes, const std::string& bucket,
                         std::string_view want, const ClientOf& client_of) {
  for (;;) {
    std::optional<std::string> version;
    bool settled = true;
    for (std::uint32_t n = 0; n < nodes && settled; ++n) {
      auto r = client_of(n).props(bucket, rt.now() + 1500ms);
      const auto tag = r && r->status == 200 ? r->headers.get("ETag") : std::nullopt;
      settled = tag && r->body.find(want) != std::string::npos && (!version || *version == *tag);
      if (settled) version = std::string(*tag);
    }
    if (settled) return;
    rt.sleep(100ms);
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
