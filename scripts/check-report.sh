#!/usr/bin/env bash
# Opens the report page in a real browser (Debian's chromium, headless), saves a screenshot of the
# whole page to DIR/screenshot.png and checks that the page rendered: content down the page, and
# the figures drawn (a page whose images failed shows text and broken-image icons only, a few
# hundred colours; the figures bring thousands). Look at the screenshot too.
# Usage: scripts/check-report.sh [DIR]   (default build/figures; made by `amflow figures` if it has
# no index.html). Installs chromium when missing (as root or with sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-deps.sh chromium
if [ ! -x build/amflow ]; then
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j"$(nproc)" --target amflow
fi
dir="${1:-build/figures}"
[ -f "$dir/index.html" ] || build/amflow figures --output "$dir"
page="file://$(realpath "$dir")/index.html"
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
# Flags for a closed network and a root user (no sandbox), a fresh profile, no background traffic.
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --hide-scrollbars --window-size=1400,16000 \
  --screenshot="$dir/screenshot.png" "$page" 2>/dev/null
/usr/bin/python3 - "$dir/screenshot.png" <<'EOF'
import sys
import numpy as np
from PIL import Image

path = sys.argv[1]
image = Image.open(path).convert("RGB")
pixels = np.asarray(image)
rows = np.where((pixels < 245).any(axis=(1, 2)))[0]
if len(rows) == 0:
    sys.exit(f"check-report: {path} is blank")
image = image.crop((0, 0, image.width, min(image.height, int(rows.max()) + 20)))
image.save(path)
colours = len(image.getcolors(1 << 24))
print(f"check-report: {path}: {image.width} x {image.height} pixels, {colours} colours")
if image.height < 4000 or colours < 2000:
    sys.exit("check-report: the page did not render its figures (too short or too few colours)")
print("check-report: the page rendered; look at the screenshot")
EOF
