#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine: the system packages the real-editor tests and `npm run try` use
# (Chromium, ripgrep, Kerberos headers for code-server), then the npm dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v rg >/dev/null 2>&1 || need+=(ripgrep)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need+=(libkrb5-dev)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "Installing system packages: ${need[*]}"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${need[@]}"
fi

# onnxruntime-node's install script only fetches optional GPU binaries; the CPU ones ship in the package.
ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
