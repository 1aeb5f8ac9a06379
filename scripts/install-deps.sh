#!/usr/bin/env bash
# Installs the Debian packages of deps/debian-packages.txt that are missing.
# Idempotent and quiet when everything is present; needs root (or sudo) otherwise.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
list="$root/deps/debian-packages.txt"

missing=()
while read -r pkg; do
  [[ -z "$pkg" || "$pkg" == \#* ]] && continue
  status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done < "$list"

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "install-deps: installing missing packages: ${missing[*]}"
sudo_cmd=()
if [[ "$(id -u)" != 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
