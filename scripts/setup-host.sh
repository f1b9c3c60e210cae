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
      catatonit docker.io xauth slurm-wlm munge)
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

# Podman's settings for these machines go into drop-in files, so that a host's own
# /etc/containers/*.conf is never overwritten. Podman 4.3 (containers-common 0.50)
# reads /etc/containers/containers.conf.d/*.conf after containers.conf, by name.
# storage.conf has no drop-in folder there: it is written only when absent.
MARK="# written by tantalus scripts/setup-host.sh"
# Writes stdin to FILE through a temporary name, only when FILE's content differs.
install_conf() {
  local file=$1 tmp
  tmp=$(mktemp "$file.XXXXXX")
  cat > "$tmp"
  chmod 0644 "$tmp"
  if cmp -s "$tmp" "$file"; then rm -f "$tmp"; else mv -f "$tmp" "$file" && echo "setup-host: wrote $file"; fi
}
mkdir -p /etc/containers/containers.conf.d
install_conf /etc/containers/containers.conf.d/tantalus.conf <<CONF
$MARK
# No CAP_SYS_RESOURCE here: podman's default nofile limit (1048576) cannot be set.
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
# cgroup v1 hybrid with a controller on the v2 mount: crun refuses it. No systemd, no journald.
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
# Earlier versions of this script wrote these settings into containers.conf itself:
# that file goes only if it is still exactly what they wrote (the drop-in has it all).
old_conf=$(printf '%s\n' "$MARK" '[containers]' 'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]' \
  '[engine]' 'runtime = "runc"' 'cgroup_manager = "cgroupfs"' 'events_logger = "file"')
if [ -f /etc/containers/containers.conf ] && [ "$(cat /etc/containers/containers.conf)" = "$old_conf" ]; then
  rm -f /etc/containers/containers.conf && echo "setup-host: removed the containers.conf an earlier setup-host.sh wrote"
fi
if [ ! -e /etc/containers/storage.conf ]; then
  install_conf /etc/containers/storage.conf <<CONF
$MARK
[storage]
driver = "overlay"
runroot = "/run/containers/storage"
graphroot = "/var/lib/containers/storage"
CONF
elif ! grep -Eq '^[[:space:]]*driver[[:space:]]*=[[:space:]]*"overlay"' /etc/containers/storage.conf; then
  echo "setup-host: /etc/containers/storage.conf is the host's and stays as it is; the tests expect" \
    '[storage] driver = "overlay" (the vfs fallback copies every layer and is far slower)' >&2
fi
# Rootless runtimes need these device nodes usable (no udev on these machines).
[ -e /dev/net/tun ] && chmod 0666 /dev/net/tun || true
[ -e /dev/fuse ] && chmod 0666 /dev/fuse || true
mount --make-rshared / 2>/dev/null || true
