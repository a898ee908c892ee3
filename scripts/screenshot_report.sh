#!/usr/bin/env bash
# Screenshot a run's HTML report with headless Chromium, for a person to look at (not in CI).
#   apt-get install chromium        # Debian's package
#   scripts/screenshot_report.sh runs/<id> [out.png] [width]
set -euo pipefail
run="${1:?usage: $0 RUN_FOLDER [OUT.png] [WIDTH]}"
out="${2:-$run/report.png}"
width="${3:-1100}"
[ -f "$run/report.html" ] || synth export "$run" --format html >/dev/null
browser="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
[ -n "$browser" ] || { echo "no Chromium found: apt-get install chromium" >&2; exit 2; }
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --window-size="${width},6000" --screenshot="$out" "file://$(realpath "$run/report.html")" \
  2>/dev/null
echo "wrote $out"
