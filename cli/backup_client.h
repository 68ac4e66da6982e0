#pragma once
// What the `doppel backup` commands share (backup.cc): the server's URL, a one-core runtime with
// a DedupClient, the exit code and message for an error, sizes and rates for people, and a
// progress line on stderr.

#include <cstdint>
#include <functional>
#include <string>

#include "components/dedup/api/client.h"
#include "runtime/real/real_runtime.h"

namespace doppel::cli {

inline constexpr const char* kDefaultServerUrl = "http://127.0.0.1:8099";

// Where the server is: its address, and whether it speaks HTTPS (then `host`, as the URL named
// it, is what its certificate must be for).
struct ServerUrl {
  Endpoint at;
  bool tls = false;
  std::string host;
};

// "http(s)://HOST[:PORT][/]" or "HOST:PORT"; a host name is resolved to its first IPv4 address.
// Errors say what is wrong with the text.
Result<ServerUrl> parse_server_url(const std::string& url);

// How a client command reaches a server: where, with which credentials (the Authorization
// field, "" for none), trusting which CAs ("" for the system's).
struct ClientAccess {
  ServerUrl server;
  std::string authorization;
  std::string ca_pem;
};
// From --server, --user, --password-file (its first line) and --ca-file; errors say what is
// wrong with them (usage errors).
Result<ClientAccess> read_client_access(const std::string& url, const std::string& user,
                                        const std::string& password_file,
                                        const std::string& ca_file);

struct BackupContext {
  Runtime& rt;
  dedup::DedupClient& client;
  std::string server_url;
};

// Runs `fn` in a fiber of a one-core real runtime with a client of `server` (sending
// `authorization` with every request, "" for none; over HTTPS trusting `ca_pem`, "" for the
// system's CAs); returns its exit code.
int run_backup_client(const std::string& server_url, const ServerUrl& server,
                      const std::string& authorization, const std::string& ca_pem,
                      const std::function<int(BackupContext&)>& fn);

// Prints "doppel: backup <command>: <why>" for an error of ctx.client (or a local one) and
// returns the exit code: 2 when our input was refused (400, 404, 413, 416: a bad name, an
// unknown image or version, a segment size the server does not take), 1 otherwise (the server
// unreachable or failing, damage).
int fail(const BackupContext& ctx, const std::string& command, const Error& e);

// "12.5 MiB", "3.0 GiB", "512 B".
std::string human_bytes(std::uint64_t bytes);
// "85.3 MiB/s" for bytes over the time since `start`.
std::string rate(std::uint64_t bytes, Duration elapsed);

// A line on stderr that rewrites itself on a terminal, at most every refresh; elsewhere (a log
// file) nothing is printed until the caller's summary.
class ProgressLine {
 public:
  static constexpr Duration kRefresh = std::chrono::milliseconds(200);

  explicit ProgressLine(Runtime& rt);
  // Shows text() if the last refresh is old enough.
  void update(const std::function<std::string()>& text);
  // Clears the line (the summary follows).
  void done();

 private:
  Runtime& rt_;
  bool terminal_;
  Instant last_;
  std::size_t width_ = 0;
};

}  // namespace doppel::cli
