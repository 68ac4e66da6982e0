// doppel admin cluster ...: membership changes of a DVV cluster (riak-admin cluster's verbs)
// through any node's HTTP API (components/dvv/api/http_cluster.cc).

#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "cli/backup_client.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "components/dvv/client/riak_client.h"
#include "runtime/real/real_runtime.h"

namespace doppel::cli {
namespace {

struct AdminArgs {
  std::string server = "http://127.0.0.1:8098";
  std::string user, password_file, ca_file;
  std::optional<std::uint32_t> node;
  std::optional<std::uint32_t> with;
  int timeout_s = 10;
};

// Runs one admin request against the node; prints its answer, or why it failed.
int run_admin(const AdminArgs& a, const std::string& verb,
              const std::function<Result<std::string>(dvv::RiakClient&, Instant)>& request) {
  auto access = read_client_access(a.server, a.user, a.password_file, a.ca_file);
  if (!access) return usage_error("admin cluster " + verb + ": " + access.error().what);
  real::RealRuntime rt(real::RealOptions{1, false, "epoll", "/tmp", false});
  if (Status s = rt.start(); !s) {
    std::fprintf(stderr, "doppel: cannot start the runtime: %s\n", s.error().message().c_str());
    return kExitFailed;
  }
  int code = kExitFailed;
  rt.run_blocking(0, [&] {
    http::ClientOptions options;
    options.authorization = access->authorization;
    if (access->server.tls) options.tls = TlsClientTrust{access->ca_pem, access->server.host};
    dvv::RiakClient client(rt, access->server.at, options);
    auto answer = request(client, rt.now() + std::chrono::seconds(a.timeout_s));
    if (answer) {
      std::fputs(answer->c_str(), stdout);
      code = kExitOk;
      return;
    }
    std::fprintf(stderr, "doppel: admin cluster %s: %s\n", verb.c_str(),
                 answer.error().message().c_str());
    // A change the cluster refused is the input's fault; an unreachable node is not.
    code = answer.code() == Errc::invalid_argument ? kExitUsage : kExitFailed;
  });
  rt.stop();
  return code;
}

}  // namespace

void add_admin_commands(CLI::App& app, Commands& commands) {
  auto a = std::make_shared<AdminArgs>();
  CLI::App* admin = app.add_subcommand("admin", "Operate a running cluster");
  admin->require_subcommand(1);
  CLI::App* cluster = admin->add_subcommand(
      "cluster",
      "DVV cluster membership: stage joins, leaves, replacements and force-removals, see the "
      "plan, commit it; the claimant makes the changes and the nodes hand partitions off in the "
      "background (status shows the progress)");
  cluster->require_subcommand(1);
  const auto sub = [&](const char* name, const char* what,
                       std::function<Result<std::string>(dvv::RiakClient&, Instant)> request) {
    CLI::App* c = cluster->add_subcommand(name, what);
    c->add_option("--server", a->server, "Any node's HTTP API: http://HOST:PORT or https://")
        ->capture_default_str();
    c->add_option("--user", a->user, "A user of the cluster (HTTP Basic; with --password-file)");
    c->add_option("--password-file", a->password_file,
                  "A file whose first line is the user's password");
    c->add_option("--ca-file", a->ca_file, "PEM CAs to check an https:// node's certificate by");
    c->add_option("--timeout", a->timeout_s, "Seconds to wait for the answer")
        ->check(CLI::Range(1, 3600))
        ->capture_default_str();
    const std::string verb = name;
    c->callback([&commands, a, verb, request] {
      commands.action = [a, verb, request] { return run_admin(*a, verb, request); };
    });
    return c;
  };
  const auto change = [a](const char* op) {
    return [a, op](dvv::RiakClient& c, Instant deadline) {
      return c.cluster_change(op, a->node, a->with, deadline);
    };
  };
  sub("join", "Stage: NODE (a configured peer's index) joins the ring", change("join"))
      ->add_option("NODE", a->node, "The node's index in the cluster's peers")
      ->required();
  sub("leave", "Stage: NODE hands its partitions off, then leaves the ring", change("leave"))
      ->add_option("NODE", a->node, "The node's index in the cluster's peers")
      ->required();
  CLI::App* replace =
      sub("replace", "Stage: NODE's partitions go to WITH (a node that is no member)",
          change("replace"));
  replace->add_option("NODE", a->node, "The member replaced")->required();
  replace->add_option("WITH", a->with, "The node that takes its partitions")->required();
  sub("force-remove",
      "Stage: NODE leaves now, handing nothing off (it is gone; its replicas elsewhere remain)",
      change("force-remove"))
      ->add_option("NODE", a->node, "The node's index in the cluster's peers")
      ->required();
  sub("plan", "Show what committing the staged changes would do",
      [](dvv::RiakClient& c, Instant deadline) { return c.cluster_plan(deadline); });
  sub("commit", "Make the staged changes", change("commit"));
  sub("clear", "Drop the staged changes",
      [](dvv::RiakClient& c, Instant deadline) { return c.cluster_clear(deadline); });
  sub("status", "The ring the node holds (JSON): members, owners, handoffs pending and done",
      [](dvv::RiakClient& c, Instant deadline) { return c.cluster_status(deadline); });
}

}  // namespace doppel::cli
