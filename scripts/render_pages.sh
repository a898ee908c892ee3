#!/usr/bin/env bash
# Turn a run's report.pdf pages and its HTML page into PNG images, for a person to look at
# (not run in CI). Needs poppler's pdftoppm and Chromium from the Debian registry:
#   apt-get install poppler-utils chromium
#   scripts/render_pages.sh runs/<id> [out_dir]
set -euo pipefail
run="${1:?usage: $0 RUN_FOLDER [OUT_DIR]}"
out="${2:-$run/pages}"
mkdir -p "$out"
[ -f "$run/report.pdf" ] || synth export "$run" --format pdf >/dev/null
command -v pdftoppm >/dev/null || { echo "no pdftoppm: apt-get install poppler-utils" >&2; exit 2; }
pdftoppm -png -r 110 "$run/report.pdf" "$out/page"
"$(dirname "$0")/screenshot_report.sh" "$run" "$out/report-html.png"
ls "$out"
