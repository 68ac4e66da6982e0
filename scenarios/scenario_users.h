#pragma once
// The users every dedup and DVV scenario's nodes know (from an htpasswd text, bcrypt at the
// least cost, so that the simulator pays little for each check), and how the scenarios'
// clients prove who they are. The same in every run: the salts are fixed, not drawn.
//
//   owner    the workload's clients: every image (an admin of the backup server)
//   nightly  the backup server's append-only user, which sees every image: may back up and
//            read, not remove nor gc
//   guest    a plain user of the backup server: under private_repos it owns no image the
//            workload writes (theirs are named "vm<n>")
// An intruder (the scenarios' intrusions) also tries a wrong password and none at all.

#include <memory>
#include <string>

#include "components/access/users.h"

namespace doppel::scenarios {

struct ScenarioUser {
  const char* name;
  const char* password;
};
inline constexpr ScenarioUser kOwner{"owner", "owner-password"};
inline constexpr ScenarioUser kNightly{"nightly", "nightly-password"};
inline constexpr ScenarioUser kGuest{"guest", "guest-password"};

// The three users, parsed once per process.
std::shared_ptr<const access::Users> scenario_users();

// The Authorization field of `user` (with `password` instead of theirs, if given).
std::string authorization_of(const ScenarioUser& user, const char* password = nullptr);

}  // namespace doppel::scenarios
