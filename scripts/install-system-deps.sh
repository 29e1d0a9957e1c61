#!/usr/bin/env bash
# Installs the Debian packages the tests run for real, when they are missing.
# Run as root it installs them with apt-get; otherwise it says what is missing.
set -euo pipefail

# command -> Debian package
declare -A need=(
  [/usr/sbin/sshd]=openssh-server
  [/usr/sbin/nginx]=nginx
  [/usr/sbin/apache2]=apache2
  [/usr/bin/chromium]=chromium
  [/usr/bin/goaccess]=goaccess
  [/usr/bin/wrk]=wrk
  [/usr/bin/openssl]=openssl
  [/usr/bin/sftp]=openssh-client
)
missing=()
for path in "${!need[@]}"; do
  [ -x "$path" ] || missing+=("${need[$path]}")
done
# WeasyPrint's libraries
ldconfig -p 2>/dev/null | grep -q 'libpango-1.0.so' || missing+=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0)
fc-list 2>/dev/null | grep -qi dejavu || missing+=(fonts-dejavu-core)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${missing[*]}" >&2
  echo "install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Keep the freshly installed daemons (nginx, apache2, sshd) from starting as services:
# the tests start their own instances on loopback ports.
policy=/usr/sbin/policy-rc.d
made_policy=
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && made_policy=1
fi
trap '[ -n "$made_policy" ] && rm -f "$policy"' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
