#pragma once
// The users of an HTTP service, from an htpasswd file (Apache's format, as restic's rest-server
// reads it): one "name:hash" per line, '#' comments and blank lines skipped. Only bcrypt hashes
// are accepted ("$2y$", "$2b$", "$2a$": `htpasswd -B`): the older schemes (MD5-crypt, SHA-1,
// crypt(3) DES, plain text) are too cheap to brute-force, and a file holding one is refused with
// its line named rather than half-read.
//
// Checking a password runs bcrypt: slow on purpose (milliseconds at cost 5, htpasswd's default).
// The gate (gate.h) remembers, per core, the last password each user proved, so a client making
// thousands of requests pays bcrypt once per core, not per request.

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

#include "runtime/result.h"

namespace doppel::access {

class Users {
 public:
  static constexpr std::size_t kUsersMax = 4096;
  static constexpr std::size_t kNameBytesMax = 64;
  static constexpr std::size_t kFileBytesMax = 1u << 20;

  // `source` names the file in errors ("users.htpasswd:3: ...").
  static Result<Users> parse(std::string_view htpasswd, std::string_view source);

  std::size_t size() const { return hashes_.size(); }
  bool contains(std::string_view user) const { return hashes_.find(user) != hashes_.end(); }
  // Whether `password` is the user's. An unknown user costs a bcrypt as well, so that timing
  // does not tell which names exist.
  bool check(std::string_view user, std::string_view password) const;

 private:
  std::map<std::string, std::string, std::less<>> hashes_;
};

// A user name: 1 to kNameBytesMax bytes of [A-Za-z0-9_-] (so that "<user>." can prefix the
// names of a user's private images without ambiguity).
bool valid_user_name(std::string_view name);

// A bcrypt hash of `password` at `cost` (4..12) with the 16 bytes `salt`: what htpasswd -B
// writes. For tests and the simulator's users, whose salts come from the seed.
Result<std::string> bcrypt_hash(std::string_view password, int cost, std::string_view salt);

}  // namespace doppel::access
