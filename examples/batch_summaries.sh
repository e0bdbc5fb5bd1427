#!/usr/bin/env bash
# Index every video in a folder, then write one JSON summary per line (jq-friendly).
#   examples/batch_summaries.sh ~/interviews > summaries.jsonl
#   jq -r '"\(.video): \(.summary)"' summaries.jsonl
set -euo pipefail
folder=${1:?usage: batch_summaries.sh FOLDER}
find "$folder" -maxdepth 1 -type f \( -name '*.mp4' -o -name '*.mkv' -o -name '*.mov' -o -name '*.webm' \) |
  longvid index --quiet --json - >&2
find "$folder" -maxdepth 1 -type f \( -name '*.mp4' -o -name '*.mkv' -o -name '*.mov' -o -name '*.webm' \) |
  longvid summarize --json -
