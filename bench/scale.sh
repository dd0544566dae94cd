#!/bin/sh
# 50,000 idle streams need that many descriptors in the server and in the client process. Where the hard
# limit is lower (a container without CAP_SYS_RESOURCE), the bench runs as many streams as it allows.
ulimit -n 200000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
exec tsx --conditions=@herald/source scale.bench.ts "$@"
