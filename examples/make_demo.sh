#!/usr/bin/env bash
# Builds examples/demo.mp4: five scenes with hard cuts, an on-screen title per scene and a
# spoken sentence carrying a fact (espeak-ng), so every longvid channel has something to find.
# Needs ffmpeg (with drawtext) and espeak-ng: apt-get install -y ffmpeg espeak-ng fonts-dejavu-core
# espeak-ng stresses "fifteen" on its first syllable (f'Ifti:n), which any listener (and Whisper)
# hears as "fifty"; [[fIft'i:n]] gives the word its dictionary stress, as a person says it.
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
font=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf

scenes=(
  "testsrc2|Harbour, 06:50|The ferry to Ardmore leaves the harbour at seven [[fIft'i:n]] every morning."
  "smptebars|Engine room|Captain Mira Okafor checks the engine before every crossing."
  "mandelbrot|Open sea|Halfway across, the radio reports a storm coming from the west."
  "rgbtestsrc|Ardmore pier|The ferry docks at Ardmore pier at eight forty, twenty five minutes late."
  "cellauto|Market square|Passengers buy fresh bread and smoked fish at the market square."
)

list="$work/list.txt"
for i in "${!scenes[@]}"; do
  IFS='|' read -r source title line <<<"${scenes[$i]}"
  printf '%s' "$title" >"$work/$i.txt"
  espeak-ng -v en-us -s 135 -w "$work/$i.wav" "$line"
  length=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$work/$i.wav")
  length=$(python3 -c "print(round($length + 1.5, 2))")
  ffmpeg -v error -y -f lavfi -i "$source=size=640x360:rate=25" -i "$work/$i.wav" \
    -filter_complex "[0]trim=duration=$length,setpts=PTS-STARTPTS,drawtext=fontfile=$font:textfile=$work/$i.txt:fontsize=36:fontcolor=white:box=1:boxcolor=black@0.6:x=(w-text_w)/2:y=h-80[v];[1]apad=whole_dur=$length[a]" \
    -map "[v]" -map "[a]" -c:v libx264 -pix_fmt yuv420p -crf 30 -c:a aac -b:a 48k -ar 22050 -ac 1 \
    -t "$length" "$work/$i.mp4"
  echo "file '$work/$i.mp4'" >>"$list"
done
ffmpeg -v error -y -f concat -safe 0 -i "$list" -c copy -movflags +faststart demo.mp4
echo "wrote $(pwd)/demo.mp4"
