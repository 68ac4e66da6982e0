#include "scenarios/scenario_users.h"

#include "components/access/gate.h"
#include "runtime/assert.h"

namespace doppel::scenarios {

std::shared_ptr<const access::Users> scenario_users() {
  static const std::shared_ptr<const access::Users> users = [] {
    std::string htpasswd;
    char salt = 'a';
    for (const ScenarioUser& u : {kOwner, kNightly, kGuest}) {
      auto hash = access::bcrypt_hash(u.password, 4, std::string(16, salt++));
      DOPPEL_ASSERT_MSG(hash.ok(), "bcrypt with a fixed salt");
      htpasswd += std::string(u.name) + ":" + *hash + "\n";
    }
    auto parsed = access::Users::parse(htpasswd, "scenario users");
    DOPPEL_ASSERT_MSG(parsed.ok(), "the scenario users parse");
    return std::make_shared<const access::Users>(std::move(*parsed));
  }();
  return users;
}

std::string authorization_of(const ScenarioUser& user, const char* password) {
  return access::basic_authorization(user.name, password != nullptr ? password : user.password);
}

}  // namespace doppel::scenarios
