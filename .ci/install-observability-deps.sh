#!/usr/bin/env bash
# Installs what the alert-rule and dashboard tests need on a fresh Debian 12 machine:
# promtool (`promtool check rules`, `promtool test rules`) and the prometheus server
# the end-to-end test starts, both from Debian's `prometheus` package.
# Does nothing when promtool and prometheus are already on PATH. CI runs it as root.
set -euo pipefail

if command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1; then
  echo "install-observability-deps: promtool and prometheus already present"
  exit 0
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
  as_root=(sudo)
fi

echo "install-observability-deps: installing prometheus (promtool + server)"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
# The package's postinst tries to start a system service; on a CI box without an
# init system that is refused harmlessly, and the tests start their own server.
"${as_root[@]}" apt-get install -y -qq --no-install-recommends prometheus >/dev/null

promtool --version 2>&1 | head -n 1
