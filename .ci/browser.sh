#!/usr/bin/env bash
# Makes sure headless Chromium and chromedriver are installed (apt-get, as root) and prints
# the Chromium binary's path on the last line. Exits non-zero when they cannot be installed.
set -euo pipefail

find_chromium() {
    command -v chromium || command -v chromium-browser || command -v google-chrome || true
}

if [ -z "$(find_chromium)" ] || ! command -v chromedriver >/dev/null; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "chromium/chromedriver are missing and installing them needs root" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    apt-get install -y -q --no-install-recommends chromium chromium-driver >&2
fi

bin=$(find_chromium)
if [ -z "$bin" ] || ! command -v chromedriver >/dev/null; then
    echo "chromium or chromedriver is still missing after installation" >&2
    exit 1
fi
echo "$bin"
