#include "cli/backup_client.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "cli/cli.h"
#include "components/access/gate.h"

namespace doppel::cli {
namespace {

Result<std::string> resolve_ipv4(const std::string& host) {
  in_addr addr{};
  if (::inet_pton(AF_INET, host.c_str(), &addr) == 1) return host;
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &found); rc != 0) {
    return make_error(Errc::invalid_argument,
                      "cannot resolve '" + host + "': " + ::gai_strerror(rc));
  }
  char text[INET_ADDRSTRLEN] = {};
  const auto* sin = reinterpret_cast<const sockaddr_in*>(found->ai_addr);
  ::inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text);
  ::freeaddrinfo(found);
  return std::string(text);
}

}  // namespace

Result<ServerUrl> parse_server_url(const std::string& url) {
  std::string_view rest = url;
  const auto bad = [&](const std::string& why) {
    return make_error(Errc::invalid_argument, "--server '" + url + "': " + why);
  };
  ServerUrl out;
  if (rest.starts_with("https://")) {
    out.tls = true;
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  }
  if (rest.find("://") != std::string_view::npos) return bad("expected http(s)://HOST:PORT");
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.empty() || rest.find('/') != std::string_view::npos) {
    return bad("expected http(s)://HOST:PORT (no path)");
  }
  std::string hostport(rest);
  if (hostport.find(':') == std::string::npos) hostport += out.tls ? ":443" : ":80";
  auto ep = parse_endpoint(hostport);
  if (!ep) return bad(ep.error().what);
  if (ep->host.empty() || ep->port == 0) return bad("expected http(s)://HOST:PORT");
  out.host = ep->host;
  auto ip = resolve_ipv4(ep->host);
  if (!ip) return bad(ip.error().what);
  ep->host = *ip;
  out.at = *ep;
  return out;
}

Result<ClientAccess> read_client_access(const std::string& url, const std::string& user,
                                        const std::string& password_file,
                                        const std::string& ca_file) {
  auto server = parse_server_url(url);
  if (!server) return server.error();
  const auto usage = [](std::string why) { return make_error(Errc::invalid_argument, why); };
  if (user.empty() != password_file.empty()) {
    return usage("--user and --password-file go together");
  }
  ClientAccess out{*server, "", ""};
  if (!user.empty()) {
    std::ifstream in(password_file, std::ios::binary);
    std::string line;
    if (!in || !std::getline(in, line))
      return usage("cannot read a password from " + password_file);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.authorization = access::basic_authorization(user, line);
  }
  if (!ca_file.empty()) {
    if (!server->tls) return usage("--ca-file is for an https:// server");
    std::ifstream in(ca_file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in || text.str().empty()) return usage("cannot read " + ca_file);
    out.ca_pem = text.str();
  }
  return out;
}

int run_backup_client(const std::string& server_url, const ServerUrl& server,
                      const std::string& authorization, const std::string& ca_pem,
                      const std::function<int(BackupContext&)>& fn) {
  // A second core, where there is one, fingerprints half of each segment a backup cuts
  // (dedup::Uploader): hashing is most of a backup's CPU.
  const CoreId cores = std::thread::hardware_concurrency() >= 2 ? 2 : 1;
  real::RealRuntime rt(real::RealOptions{cores, false, "epoll", "/tmp", false});
  if (Status s = rt.start(); !s) {
    std::fprintf(stderr, "doppel: cannot start the runtime: %s\n", s.error().message().c_str());
    return kExitFailed;
  }
  int code = kExitFailed;
  rt.run_blocking(0, [&] {
    dedup::DedupClientOptions options;
    options.authorization = authorization;
    if (server.tls) options.tls = TlsClientTrust{ca_pem, server.host};
    dedup::DedupClient client(rt, server.at, options);
    BackupContext ctx{rt, client, server_url};
    code = fn(ctx);
  });
  rt.stop();
  return code;
}

int fail(const BackupContext& ctx, const std::string& command, const Error& e) {
  const int status = ctx.client.last_status();
  const bool unreachable = e.code == Errc::refused || e.code == Errc::unreachable;
  const bool lost = e.code == Errc::timed_out || e.code == Errc::reset || e.code == Errc::closed;
  std::string why = e.message();
  int code = kExitFailed;
  if (status == 401) {
    why = e.what + ": the server wants --user and --password-file of one of its users";
  } else if (status >= 300) {
    why = e.what;
    if (status == 400 || status == 404 || status == 413 || status == 416) code = kExitUsage;
  } else if (unreachable) {
    why = "cannot reach the server at " + ctx.server_url + " (" + e.message() + ")";
  } else if (lost) {
    why = "lost the server at " + ctx.server_url + " (" + e.message() + ")";
  }
  std::fprintf(stderr, "doppel: backup %s: %s\n", command.c_str(), why.c_str());
  return code;
}

std::string human_bytes(std::uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char out[32];
  if (u == 0) {
    std::snprintf(out, sizeof out, "%llu B", static_cast<unsigned long long>(bytes));
  } else {
    std::snprintf(out, sizeof out, "%.1f %s", v, units[u]);
  }
  return out;
}

std::string rate(std::uint64_t bytes, Duration elapsed) {
  const double seconds = std::max(1e-9, static_cast<double>(elapsed.count()) / 1e9);
  char out[32];
  std::snprintf(out, sizeof out, "%.1f MiB/s", static_cast<double>(bytes) / (1 << 20) / seconds);
  return out;
}

ProgressLine::ProgressLine(Runtime& rt)
    : rt_(rt), terminal_(::isatty(STDERR_FILENO) == 1), last_(rt.now()) {}

void ProgressLine::update(const std::function<std::string()>& text) {
  if (!terminal_) return;
  const Instant now = rt_.now();
  if (now - last_ < kRefresh) return;
  last_ = now;
  const std::string line = text();
  const std::size_t pad = width_ > line.size() ? width_ - line.size() : 0;
  std::fprintf(stderr, "\r%s%*s", line.c_str(), static_cast<int>(pad), "");
  std::fflush(stderr);
  width_ = line.size();
}

void ProgressLine::done() {
  if (!terminal_ || width_ == 0) return;
  std::fprintf(stderr, "\r%*s\r", static_cast<int>(width_), "");
  std::fflush(stderr);
  width_ = 0;
}

}  // namespace doppel::cli
