#!/usr/bin/env bash
# The layers (README's "Layout"), checked by what each folder includes:
#  - components/ and base/ include only runtime/ interface headers, base/ and
#    (components) components/: no backend, no threads, clocks, random engines,
#    sockets, open(2) or getenv;
#  - sim/ and the runtime backends never include components/, properties/,
#    scenarios/ or cli/;
#  - properties/ never includes scenarios/ or cli/;
#  - doppel serve, the benches and backup never include scenarios/ (the
#    component registry, components/registry.h, sits below it).
# Fails listing every offending line.
set -u
root=${1:?usage: layering_test.sh SOURCE_DIR}
cd "$root" || exit 2
status=0
report() {  # report TITLE HITS
  if [ -n "$2" ]; then
    echo "$1:"
    echo "$2"
    status=1
  fi
}
pattern='#include *<(thread|random|mutex|condition_variable|future|sys/socket\.h|netinet/[a-z_]+\.h|arpa/inet\.h|fcntl\.h|unistd\.h|sys/epoll\.h|liburing\.h|sys/stat\.h|fstream|cstdlib)>'
# open(2) needs <fcntl.h>, banned above; stdio's fopen is the other way to a file.
pattern+='|std::chrono::(steady|system|high_resolution)_clock|std::random_device|getenv *\('
pattern+='|fopen *\(|std::thread|pthread_'
pattern+='|#include *"(sim|runtime/(epoll|uring|real)|scenarios|properties|cli)/'
for dir in components base; do
  [ -d "$dir" ] || { echo "no $dir/ directory"; exit 1; }
  hits=$(grep -rnE "$pattern" "$dir" --include='*.h' --include='*.cc' | grep -vE '//.*(open|getenv)' || true)
  report "$dir/ reaches past the runtime interface" "$hits"
done
hits=$(grep -rnE '#include *"components/' base || true)
report "base/ includes components/" "$hits"
hits=$(grep -rnE '#include *"(components|properties|scenarios|cli)/' sim runtime 2>/dev/null || true)
report "sim/ or runtime/ includes what stands on them" "$hits"
hits=$(grep -rnE '#include *"(scenarios|cli)/' properties 2>/dev/null || true)
report "properties/ includes scenarios/ or cli/" "$hits"
# (bench search and bench fidelity are the exceptions: they run the simulator's scenarios.)
below_scenarios=$(ls cli/serve.cc cli/node_config.* cli/bench_*.cc cli/*_load.* cli/dvv_cells.* \
                     cli/backup*.* cli/commands.h cli/cli.h 2>/dev/null | grep -v -e bench_search -e bench_fidelity)
hits=$(grep -nE '#include *"scenarios/' $below_scenarios /dev/null || true)
report "serve, the benches or backup include the scenario layer" "$hits"
[ $status -eq 0 ] && echo "layering: OK"
exit $status
