// doppel load dvv --server URL [--server URL ...] --history FILE [--final] ...
//
// Clients of a running DVV cluster that record a history for `doppel check causal`
// (cli/dvv_recorder.h), appended to FILE: run it while the cluster changes, once or several
// times (each run with its own --tag), then once with --final after every write ended and
// the cluster settled. Exit codes: 0 the run ended (its failed and unanswered operations are
// in the history, as they happened); 1 a final read got no answer (that key's losses would go
// unjudged); 2 bad usage or a history file that cannot be written.

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "cli/backup_client.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/dvv_recorder.h"
#include "runtime/real/real_runtime.h"

namespace doppel::cli {
namespace {

struct LoadArgs {
  std::vector<std::string> servers;
  std::string user, password_file, ca_file;
  std::string history;
  DvvRecorderSpec spec;
  std::int64_t timeout_ms = 5000;
  std::int64_t pause_ms = 0;
};

int cmd_load_dvv(LoadArgs& a) {
  DvvRecorderSpec& spec = a.spec;
  for (const std::string& url : a.servers) {
    auto access = read_client_access(url, a.user, a.password_file, a.ca_file);
    if (!access) return usage_error("load dvv: " + access.error().what);
    DvvNodeAccess node{access->server.at, {}};
    node.options.authorization = access->authorization;
    if (access->server.tls) node.options.tls = TlsClientTrust{access->ca_pem, access->server.host};
    spec.nodes.push_back(std::move(node));
  }
  if (static_cast<std::uint64_t>(spec.clients) * static_cast<std::uint64_t>(spec.ops_per_client) >
      DvvRecorderSpec::kOperationsMax) {
    return usage_error("load dvv: --clients x --ops is over " +
                       std::to_string(DvvRecorderSpec::kOperationsMax));
  }
  spec.timeout = std::chrono::milliseconds(a.timeout_ms);
  spec.pause = std::chrono::milliseconds(a.pause_ms);
  // Opened before the run: a history that cannot be kept is not worth the load.
  std::FILE* out = std::fopen(a.history.c_str(), "a");
  if (out == nullptr) {
    return usage_error("load dvv: " + a.history + ": " + std::strerror(errno));
  }
  real::RealRuntime rt(real::RealOptions{1, false, "epoll", "/tmp", false});
  if (Status s = rt.start(); !s) {
    std::fclose(out);
    std::fprintf(stderr, "doppel: cannot start the runtime: %s\n", s.error().message().c_str());
    return kExitFailed;
  }
  DvvRecorderResult result;
  const Instant start = rt.now();
  Duration took{};
  rt.run_blocking(0, [&] {
    result = record_dvv_load(rt, spec);
    took = rt.now() - start;
  });
  rt.stop();
  const bool written =
      std::fwrite(result.history.data(), 1, result.history.size(), out) == result.history.size();
  if (std::fclose(out) != 0 || !written) {
    return usage_error("load dvv: writing " + a.history + ": " + std::strerror(errno));
  }
  std::printf(
      "load dvv%s: %llu operations through %zu nodes in %.2f s: %llu ok, %llu failed, "
      "%llu unanswered; history appended to %s\n",
      spec.final ? " --final" : "",
      static_cast<unsigned long long>(result.ok + result.failed + result.unknown),
      spec.nodes.size(), static_cast<double>(took.count()) / 1e9,
      static_cast<unsigned long long>(result.ok), static_cast<unsigned long long>(result.failed),
      static_cast<unsigned long long>(result.unknown), a.history.c_str());
  if (spec.final && result.ok != result.ok + result.failed + result.unknown) {
    std::fprintf(stderr,
                 "doppel: load dvv --final: %llu reads got no answer: those keys' "
                 "losses cannot be judged\n",
                 static_cast<unsigned long long>(result.failed + result.unknown));
    return kExitFailed;
  }
  return kExitOk;
}

}  // namespace

void add_load_commands(CLI::App& app, Commands& commands) {
  CLI::App* load = app.add_subcommand(
      "load", "Drive a running cluster with clients that record a history to check");
  load->require_subcommand(1);
  auto a = std::make_shared<LoadArgs>();
  DvvRecorderSpec& s = a->spec;
  CLI::App* dvv = load->add_subcommand(
      "dvv",
      "Reads, updates (a read, then a write or a delete with its context) and blind writes of "
      "unique values, each client one request at a time to a random node; the history, for "
      "doppel check causal, is appended to --history");
  dvv->add_option("--server", a->servers,
                  "A node's HTTP API (http://HOST:PORT or https://); repeat for each node")
      ->required();
  dvv->add_option("--history", a->history, "JSONL file the history is appended to")->required();
  dvv->add_flag("--final", s.final,
                "Instead: read every key through every node with r=all, marked final (run it "
                "once every write ended and the cluster settled)");
  dvv->add_option("--bucket", s.bucket, "Bucket (allow_mult true)")->capture_default_str();
  dvv->add_option("--keys", s.keys, "Keys k0..k<N-1>")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 20))
      ->capture_default_str();
  dvv->add_option("--clients", s.clients, "Clients, one history process each")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  dvv->add_option("--ops", s.ops_per_client, "Operations per client")
      ->check(CLI::Range(0, 1 << 20))
      ->capture_default_str();
  dvv->add_option("--read-percent", s.read_percent, "Plain reads, of the operations")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  dvv->add_option("--blind-percent", s.blind_percent, "Blind PUTs, of the writes")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  dvv->add_option("--delete-percent", s.delete_percent,
                  "DELETEs, of the writes (with the read's context, or blind without one)")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  dvv->add_option("--seed", s.seed, "Seed of the clients' choices")->capture_default_str();
  dvv->add_option("--tag", s.tag,
                  "Prefix of this run's values: give each run appended to one history its own")
      ->capture_default_str();
  dvv->add_option("--timeout-ms", a->timeout_ms, "Per request; no answer by then: unanswered")
      ->check(CLI::Range(1, 3'600'000))
      ->capture_default_str();
  dvv->add_option("--pause-ms", a->pause_ms,
                  "Mean pause before each of a client's requests (exponential; 0: none)")
      ->check(CLI::Range(0, 60'000))
      ->capture_default_str();
  dvv->add_option("--user", a->user, "A user of the cluster (HTTP Basic; with --password-file)");
  dvv->add_option("--password-file", a->password_file,
                  "A file whose first line is the user's password");
  dvv->add_option("--ca-file", a->ca_file, "PEM CAs to check an https:// node's certificate by");
  dvv->callback([&commands, a] { commands.action = [a] { return cmd_load_dvv(*a); }; });
}

}  // namespace doppel::cli
