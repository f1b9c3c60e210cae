#!/usr/bin/env bash
# Makes real Debian root file systems to stand in for two OS generations
# (Debian 11 "bullseye": glibc 2.31; Debian 12 "bookworm": glibc 2.36), so the
# audit, builds and migrations are tried against a distribution's own loader and
# libraries instead of the host's. Prints the tarball's path, a base spelled
# `rootfs:PATH` (docs/guide.md "Bases").
#
#   scripts/os-bases.sh RELEASE [PACKAGE...]
#
# Cached per user (the Tantalus cache, src/locations.ts: $TANTALUS_CACHE_DIR >
# $XDG_CACHE_HOME/tantalus > ~/.cache/tantalus, under os-bases/) by release and
# package list: a second call costs nothing, another package list is another base.
# Written under a temporary name and renamed, so an interrupted run never leaves
# a half root file system where a later run would take it for a whole one.
# Needs root (debootstrap makes device nodes and chroots) and debootstrap.
set -euo pipefail

release="${1:?usage: os-bases.sh RELEASE [PACKAGE...] (bullseye, bookworm)}"
shift
packages=("$@")

case "$release" in
  bullseye | bookworm | trixie) ;;
  *) echo "os-bases: release \"$release\" is not one this script makes (bullseye, bookworm, trixie)" >&2; exit 2 ;;
esac

if [ -n "${TANTALUS_CACHE_DIR:-}" ]; then cache="$TANTALUS_CACHE_DIR"
elif [ -n "${XDG_CACHE_HOME:-}" ]; then cache="$XDG_CACHE_HOME/tantalus"
else cache="${HOME:-/root}/.cache/tantalus"; fi
dir="$cache/os-bases"
mkdir -p "$dir"

# The key: the release and the sorted package list (order does not change the base).
sorted="$(printf '%s\n' "${packages[@]:-}" | sed '/^$/d' | sort -u | paste -sd, -)"
key="$(printf '%s;%s' "$release" "$sorted" | sha256sum | cut -c1-12)"
out="$dir/debian-$release-$key.tar"
if [ -s "$out" ]; then
  echo "$out"
  exit 0
fi

command -v debootstrap >/dev/null || {
  echo "os-bases: debootstrap is not installed (apt-get install debootstrap, or scripts/setup-host.sh)" >&2
  exit 1
}
[ "$(id -u)" = 0 ] || { echo "os-bases: debootstrap needs root" >&2; exit 1; }

# The mirror this machine already uses: the apt source whose URI ends in /debian
# (not -security, not the Node.js one), in deb822 or one-line form.
mirror="${OS_BASES_MIRROR:-}"
if [ -z "$mirror" ]; then
  mirror="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
    grep -oE '(https?|file)://[^ ]*/debian/?( |$)' | head -n1 | tr -d ' ' || true)"
fi
mirror="${mirror:-http://deb.debian.org/debian}"

work="$(mktemp -d "$dir/.debian-$release-$key.XXXXXX")"
trap 'rm -rf "$work"' EXIT
include=()
[ -n "$sorted" ] && include=("--include=$sorted")
debootstrap --variant=minbase "${include[@]}" "$release" "$work/root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 20 "$work/debootstrap.log" >&2
  echo "os-bases: debootstrap $release from $mirror failed (log above)" >&2
  exit 1
}
# Nothing of the build machine's apt state in the base: the caches are large and differ per run.
rm -rf "$work/root/var/cache/apt/"*.bin "$work/root/var/lib/apt/lists/"* "$work/root/var/log/"*
tar --numeric-owner --xattrs -C "$work/root" -cf "$work/base.tar" .
mv "$work/base.tar" "$out.part"
mv "$out.part" "$out"
echo "$out"
