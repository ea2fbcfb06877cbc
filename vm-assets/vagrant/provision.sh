#!/bin/sh
# Run by `vagrant up` as root on a new machine: makes sure the tools the Onggi agent runs are
# there (it installs nothing that is already present, so an image that has them needs no network).
set -eu
need=""
command -v ip >/dev/null 2>&1 || need="$need iproute2"
command -v iptables >/dev/null 2>&1 || command -v nft >/dev/null 2>&1 || need="$need iptables"
command -v xz >/dev/null 2>&1 || need="$need xz"
command -v tar >/dev/null 2>&1 || need="$need tar"
if [ -n "$need" ]; then
  echo "onggi: installing$need"
  if command -v apt-get >/dev/null 2>&1; then
    pkgs=$(echo "$need" | sed 's/\bxz\b/xz-utils/')
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs
  elif command -v dnf >/dev/null 2>&1; then
    # shellcheck disable=SC2086
    dnf install -y -q $need
  elif command -v zypper >/dev/null 2>&1; then
    # shellcheck disable=SC2086
    zypper --non-interactive install $need
  else
    echo "onggi: no apt-get, dnf or zypper here; install$need by hand" >&2
    exit 1
  fi
fi
# Containers need cgroups: say which hierarchy the machine has (the agent handles v1 and v2).
if [ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ]; then echo "onggi: cgroup v2"; else echo "onggi: cgroup v1 or hybrid"; fi
echo "onggi: machine ready for the agent"
