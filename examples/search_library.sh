#!/usr/bin/env bash
# Search every indexed video in the store; print the best moments as "video  hh:mm:ss  text".
#   examples/search_library.sh "storm warning"
set -euo pipefail
query=${1:?usage: search_library.sh QUERY}
longvid search --all "$query" --top-k 10 --json |
  jq -r '"\(.video)  \(.start | floor | strftime("%H:%M:%S"))  \(.text | gsub("\n"; " ") | .[0:100])"'
