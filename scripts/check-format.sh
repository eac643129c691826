#!/usr/bin/env bash
# Checks that the project's own C++ (every tracked .cpp, .hpp and .h) is formatted as .clang-format
# says, with Debian bookworm's clang-format 14 (installed when missing): names the files that are
# not and exits 1. Fix them with clang-format -i. Usage: bash scripts/check-format.sh
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
dpkg-query -W -f='${Status}' clang-format 2>/dev/null | grep -q "install ok installed" ||
  bash scripts/setup-deps.sh clang-format
files=()
while IFS= read -r f; do files+=("$f"); done < <(git ls-files '*.cpp' '*.hpp' '*.h')
bad=$(clang-format --dry-run --Werror "${files[@]}" 2>&1 | grep -E '^[^ ]+:[0-9]+:[0-9]+: error' |
  cut -d: -f1 | sort -u || true)
if [ -n "$bad" ]; then
  echo "format: not as .clang-format says (clang-format -i FILE fixes it):"
  echo "$bad" | sed 's/^/  /'
  exit 1
fi
echo "format: ${#files[@]} files as .clang-format says ($(( $(date +%s) - start )) s)"
