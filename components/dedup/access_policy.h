#pragma once
// Who may do what in the backup server, once the gate (components/access/gate.h) has said who
// is asking. After restic's rest-server:
//   - private_repos: a user's images are those named "<user>" or "<user>.<anything>"; others'
//     are 403 to it and left out of its listings. Admins see every image.
//   - append_only: users who may upload, commit, read, list and verify, but not remove a
//     version nor run gc (a stolen backup key cannot destroy the backups).
// Without users every request comes in as "" and everything is allowed. Segments are shared
// by all images (that is the dedup): any user may query and upload them, so a user can learn
// whether a segment of given content is stored (as with any cross-user dedup).

#include <set>
#include <string>
#include <string_view>

namespace doppel::dedup {

struct AccessPolicy {
  bool private_repos = false;
  std::set<std::string, std::less<>> append_only;
  std::set<std::string, std::less<>> admins;

  // "" if `user` may read or write `image`; otherwise why not (the 403's reason).
  std::string may_use(std::string_view user, std::string_view image) const;
  // "" if `user` may remove a version of `image`.
  std::string may_remove(std::string_view user, std::string_view image) const;
  // "" if `user` may run gc.
  std::string may_collect(std::string_view user) const;
};

}  // namespace doppel::dedup
