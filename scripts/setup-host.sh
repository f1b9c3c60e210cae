#!/usr/bin/env bash
# Installs the real tools Tantalus's tests and demo use (Debian packages) and the
# host configuration rootful podman needs on these machines (no CAP_SYS_RESOURCE,
# cgroup v1 hybrid: see shared research, container-tools.md). Idempotent.
set -euo pipefail

if [ "$(id -u)" != 0 ]; then
  echo "setup-host: not root; skipping system packages (the tests that need them will say so)" >&2
  exit 0
fi

# `--demo`: only what `npm run demo` needs (a compiler for the studio's payloads,
# podman and the tools it loads images with); the default is everything the tests use.
DEMO_PKGS=(gcc libc6-dev binutils podman runc catatonit uidmap fuse-overlayfs slirp4netns skopeo busybox-static)
PKGS=(gcc libc6-dev binutils skopeo umoci docker-registry podman runc buildah uidmap
      fuse-overlayfs slirp4netns apache2-utils zsh tcsh csh zstd busybox-static
      charliecloud-runtime squashfs-tools util-linux tmux hyperfine openssl
      catatonit docker.io xauth slurm-wlm munge chromium debootstrap python3)
[ "${1:-}" = "--demo" ] && PKGS=("${DEMO_PKGS[@]}")
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Podman's settings for these machines, as drop-ins beside the host's own files.
bash "$(dirname "$0")/podman-config.sh" /etc/containers
# Rootless runtimes need these device nodes usable (no udev on these machines).
[ -e /dev/net/tun ] && chmod 0666 /dev/net/tun || true
[ -e /dev/fuse ] && chmod 0666 /dev/fuse || true
mount --make-rshared / 2>/dev/null || true
