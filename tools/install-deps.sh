#!/bin/sh
# Check for what building and testing needs on a Debian host, and install
# what is missing: qemu-system-i386, gcc able to build and link -m32
# programs, make, and Debian's /usr/bin/python3 with matplotlib, pandas and
# pytest. Quiet when everything is there. As root it runs apt-get; as
# anyone else it prints the apt-get command and exits 1.
# (Plain sh: the Makefile runs it with sh.)
set -u

missing=""
need() { missing="$missing $1"; }

command -v qemu-system-i386 >/dev/null 2>&1 || need qemu-system-x86
command -v make >/dev/null 2>&1 || need make

# gcc -m32: compile and link a tiny program (the host tests link 32-bit
# programs against the C library, so the multilib files must be there).
if command -v gcc >/dev/null 2>&1; then
  tmp=$(mktemp -d)
  printf 'int main(void){ return 0; }\n' > "$tmp/t.c"
  if ! gcc -m32 -o "$tmp/t" "$tmp/t.c" >/dev/null 2>&1; then
    need gcc-multilib
  fi
  rm -rf "$tmp"
else
  need gcc
  need gcc-multilib
fi

if [ -x /usr/bin/python3 ]; then
  for mod in matplotlib pandas pytest; do
    /usr/bin/python3 -c "import $mod" >/dev/null 2>&1 || need "python3-$mod"
  done
else
  need python3
  need python3-matplotlib
  need python3-pandas
  need python3-pytest
fi

# A window for `make qemu` where there is a display to show it on.
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && command -v dpkg-query >/dev/null 2>&1; then
  if ! dpkg-query -W -f='${Status}' qemu-system-gui 2>/dev/null | grep -q 'ok installed'; then
    need qemu-system-gui
  fi
fi

[ -z "$missing" ] && exit 0

cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing:$missing" >&2
  echo "install-deps: run as root:  apt-get update && $cmd" >&2
  exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null || { echo "install-deps: apt-get update failed" >&2; exit 1; }
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null || {
  echo "install-deps: failed: $cmd" >&2; exit 1; }
echo "install-deps: done"
