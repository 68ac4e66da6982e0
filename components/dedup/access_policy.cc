#include "components/dedup/access_policy.h"

namespace doppel::dedup {

std::string AccessPolicy::may_use(std::string_view user, std::string_view image) const {
  if (user.empty() || !private_repos || admins.count(user) != 0) return "";
  if (image == user ||
      (image.size() > user.size() && image.starts_with(user) && image[user.size()] == '.')) {
    return "";
  }
  return "user '" + std::string(user) + "' may use only images named '" + std::string(user) +
         "' or '" + std::string(user) + ".*'";
}

std::string AccessPolicy::may_remove(std::string_view user, std::string_view image) const {
  if (append_only.count(user) != 0) {
    return "user '" + std::string(user) + "' is append-only: it may not remove versions";
  }
  return may_use(user, image);
}

std::string AccessPolicy::may_collect(std::string_view user) const {
  if (append_only.count(user) != 0) {
    return "user '" + std::string(user) + "' is append-only: it may not run gc";
  }
  return "";
}

}  // namespace doppel::dedup
