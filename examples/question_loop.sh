#!/usr/bin/env bash
# Ask questions about one video, one per line, until end of input (Ctrl-D).
#   examples/question_loop.sh examples/demo.mp4
#   printf 'When does the ferry leave?\nWho checks the engine?\n' | examples/question_loop.sh examples/demo.mp4
set -euo pipefail
video=${1:?usage: question_loop.sh VIDEO}
longvid index --quiet "$video" >&2
longvid ask "$video" - --json | jq -r '"\(.question)\n  \(.answer)\n"'
