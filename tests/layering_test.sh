#!/usr/bin/env bash
# components/ includes only runtime/ interface headers: no backend, no
# threads, clocks, random engines, sockets, open(2) or getenv. Fails listing
# every offending line.
set -u
root=${1:?usage: layering_test.sh SOURCE_DIR}
cd "$root" || exit 2
[ -d components ] || { echo "no components/ directory"; exit 0; }
pattern='#include *<(thread|random|mutex|condition_variable|future|sys/socket\.h|netinet/[a-z_]+\.h|arpa/inet\.h|fcntl\.h|unistd\.h|sys/epoll\.h|liburing\.h|sys/stat\.h|fstream|cstdlib)>'
# open(2) needs <fcntl.h>, banned above; stdio's fopen is the other way to a file.
pattern+='|std::chrono::(steady|system|high_resolution)_clock|std::random_device|getenv *\('
pattern+='|fopen *\(|std::thread|pthread_'
pattern+='|#include *"(sim|runtime/(epoll|uring)|scenarios|properties|cli)/'
hits=$(grep -rnE "$pattern" components --include='*.h' --include='*.cc' | grep -vE '//.*(open|getenv)' || true)
if [ -n "$hits" ]; then
  echo "components/ reaches past the runtime interface:"
  echo "$hits"
  exit 1
fi
# And the simulator and the real backends never include components.
hits=$(grep -rnE '#include *"components/' sim runtime 2>/dev/null || true)
if [ -n "$hits" ]; then
  echo "sim/ or runtime/ includes components/:"
  echo "$hits"
  exit 1
fi
echo "layering: OK"
