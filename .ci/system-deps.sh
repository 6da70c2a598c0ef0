#!/usr/bin/env bash
# Install the Debian packages the test suite needs (and a kiosk needs: the CJK font), if they are missing. Idempotent.
set -euo pipefail
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v node >/dev/null 2>&1 || need+=(nodejs)  # make test-js: the page modules' tests
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
# A CJK font: without one Chromium draws every Chinese character as a box, and server-made PDFs need it
ls /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc >/dev/null 2>&1 || need+=(fonts-noto-cjk)
if ((${#need[@]})); then
  if [ "$(id -u)" != 0 ]; then
    echo "Missing Debian packages: ${need[*]}. Install them with: sudo apt-get install ${need[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${need[@]}"
fi
