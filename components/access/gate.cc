#include "components/access/gate.h"

#include "base/base64.h"
#include "components/access/hmac.h"
#include "components/dedup/hash/sha256.h"

namespace doppel::access {
namespace {

std::string digest_of(std::string_view password) {
  const auto d = dedup::Sha256::of(password);
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

}  // namespace

std::optional<Credentials> basic_credentials(const http::Headers& headers) {
  const auto field = headers.get("Authorization");
  if (!field || field->size() > Gate::kCredentialBytesMax) return std::nullopt;
  std::string_view v = *field;
  const std::size_t space = v.find(' ');
  if (space == std::string_view::npos || !http::iequals(v.substr(0, space), "Basic")) {
    return std::nullopt;
  }
  v.remove_prefix(space + 1);
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  auto decoded = base64_decode(v);
  if (!decoded) return std::nullopt;
  const std::size_t colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return Credentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

std::string basic_authorization(std::string_view user, std::string_view password) {
  std::string pair(user);
  pair += ':';
  pair += password;
  return "Basic " + base64_encode(pair);
}

Gate::Gate(Runtime& rt, std::shared_ptr<const Users> users, std::string realm)
    : rt_(rt), users_(std::move(users)), realm_(std::move(realm)), proven_(rt.core_count()) {}

http::Handler Gate::guard(http::Handler inner) {
  return [this, inner = std::move(inner)](http::Request& r) -> Result<http::Response> {
    if (auto refused = admit(r)) return std::move(*refused);
    return inner(r);
  };
}

std::optional<http::Response> Gate::admit(http::Request& request) {
  request.user.clear();
  if (open()) return std::nullopt;
  auto c = basic_credentials(request.headers);
  if (!c) return refuse("credentials required (HTTP Basic)");
  auto& proven = proven_.at(rt_.this_core());
  const std::string digest = digest_of(c->password);
  auto it = proven.find(c->user);
  if (it == proven.end() || !same_bytes(it->second, digest)) {
    if (!users_->check(c->user, c->password)) return refuse("wrong user or password");
    // Bounded: only users in the table get here, each once per core.
    proven.insert_or_assign(c->user, digest);
  }
  request.user = std::move(c->user);
  return std::nullopt;
}

http::Response Gate::refuse(std::string_view why) const {
  http::Response r = http::Response::error(401, why);
  r.headers.set("WWW-Authenticate", "Basic realm=\"" + realm_ + "\", charset=\"UTF-8\"");
  return r;
}

}  // namespace doppel::access
