#include "properties/dvv/clock_size.h"

#include "components/http/codec.h"

namespace doppel::properties::dvv {

Result<ClockSize> measure_context(std::string_view vclock_base64, doppel::dvv::ClockKind kind) {
  if (vclock_base64.empty()) return ClockSize{};
  auto bytes = http::base64_decode(vclock_base64);
  if (!bytes) return bytes.error();
  auto context = doppel::dvv::decode_context(*bytes, kind);
  if (!context) return context.error();
  ClockSize size;
  size.bytes = bytes->size();
  size.entries = context->kind() == doppel::dvv::ClockKind::dvvset ? context->dvvset().size()
                                                                   : context->vv().entries.size();
  return size;
}

}  // namespace doppel::properties::dvv
