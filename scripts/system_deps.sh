#!/usr/bin/env bash
# The one list of system tools the test suite drives, and their installation.
#
#   scripts/system_deps.sh           install what is missing (root + apt), or name it and fail
#   scripts/system_deps.sh --check   only report; exit 1 when anything is missing
#
# A missing tool is never a pass: tests that need one fail rather than skip, so this runs before them
# (`make test` and `.ci/run` both call it through `make system-deps`).
set -euo pipefail

# tool  package  (what needs it)
TOOLS=(
  "nginx nginx-light"              # tests/deploy: the shipped nginx config in front of the real server
  "zbarimg zbar-tools"             # QR codes decoded back from the guest page's PNG/SVG
  "curl curl"                      # a real booth-style upload with Expect: 100-continue
  "openssl openssl"                # the self-signed certificate of the nginx tests
  "systemd-analyze systemd"        # `systemd-analyze verify` of deploy/systemd units
  "chromium chromium"              # admin UI and guest pages in headless Chromium (playwright drives it)
  "chromedriver chromium-driver"   # the matching driver, same Debian release as chromium
  "promtool prometheus"            # `promtool check rules` of deploy/prometheus/alerts.yml
)

have() {
  command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]
}

missing_tools=()
missing_pkgs=()
for entry in "${TOOLS[@]}"; do
  read -r tool pkg <<<"$entry"
  if ! have "$tool"; then
    missing_tools+=("$tool")
    missing_pkgs+=("$pkg")
  fi
done

if [ "${#missing_pkgs[@]}" -eq 0 ]; then
  exit 0
fi

install_cmd="apt-get update && apt-get install -y --no-install-recommends ${missing_pkgs[*]}"
if [ "${1:-}" = "--check" ]; then
  echo "system-deps: missing ${missing_tools[*]}; install with: sudo sh -c '$install_cmd'" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: the test suite needs ${missing_tools[*]}; install them as root with: sudo sh -c '$install_cmd'" >&2
  exit 1
fi

echo "system-deps: installing ${missing_pkgs[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
if ! apt-get install -y -qq --no-install-recommends "${missing_pkgs[@]}" >/dev/null; then
  # nginx-light is not in every Debian release; the full package has the modules the config uses.
  apt-get install -y -qq --no-install-recommends "${missing_pkgs[@]/nginx-light/nginx}" >/dev/null
fi

still=()
for tool in "${missing_tools[@]}"; do
  have "$tool" || still+=("$tool")
done
if [ "${#still[@]}" -gt 0 ]; then
  echo "system-deps: still missing after apt-get: ${still[*]}" >&2
  exit 1
fi
