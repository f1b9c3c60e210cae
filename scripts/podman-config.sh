#!/usr/bin/env bash
# `podman-config.sh DIR` (setup-host.sh passes /etc/containers): podman's settings
# for these machines, written so that the host's own DIR/*.conf is never overwritten.
# Idempotent: a second run changes nothing and prints nothing.
set -euo pipefail
dir=${1:?usage: podman-config.sh DIR (/etc/containers)}

# Podman 4.3 (containers-common 0.50) reads /etc/containers/containers.conf.d/*.conf
# after containers.conf, by name. storage.conf has no drop-in folder there: it is
# written only when absent.
MARK="# written by tantalus scripts/setup-host.sh"
# Writes stdin to FILE through a temporary name, only when FILE's content differs.
install_conf() {
  local file=$1 tmp
  tmp=$(mktemp "$file.XXXXXX")
  cat > "$tmp"
  chmod 0644 "$tmp"
  if cmp -s "$tmp" "$file"; then rm -f "$tmp"; else mv -f "$tmp" "$file" && echo "setup-host: wrote $file"; fi
}
mkdir -p "$dir/containers.conf.d"
install_conf "$dir/containers.conf.d/tantalus.conf" <<CONF
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
if [ -f "$dir/containers.conf" ] && [ "$(cat "$dir/containers.conf")" = "$old_conf" ]; then
  rm -f "$dir/containers.conf" && echo "setup-host: removed the containers.conf an earlier setup-host.sh wrote"
fi
if [ ! -e "$dir/storage.conf" ]; then
  install_conf "$dir/storage.conf" <<CONF
$MARK
[storage]
driver = "overlay"
runroot = "/run/containers/storage"
graphroot = "/var/lib/containers/storage"
CONF
elif ! grep -Eq '^[[:space:]]*driver[[:space:]]*=[[:space:]]*"overlay"' "$dir/storage.conf"; then
  echo "setup-host: $dir/storage.conf is the host's and stays as it is; the tests expect" \
    '[storage] driver = "overlay" (the vfs fallback copies every layer and is far slower)' >&2
fi
