#!/usr/bin/env bash
# Collect the translatable strings and fill the English catalogue (one run at a time).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
exec 9>"$top/.git/huiqi-messages.lock"
flock 9
cd "$top/huiqi"
PYTHONPATH="$top" "$top/.venv/bin/python" -m django makemessages -l en --no-obsolete -i "tests/*" \
  --settings huiqi.settings >/dev/null
cd "$top"
"$top/.venv/bin/python" scripts/translate_en.py
