#!/usr/bin/env bash
# Every test Onggi has, on a fresh Debian 12 machine as root: installs what is missing (apt
# packages, npm packages), builds, then runs types, lint, the Electron security check, the unit,
# property and kernel tests (vitest) and the browser tests (Playwright in Debian's Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

# chromium: browser tests; openssh-server: SSH machine tests; iproute2, util-linux, procps: the
# kernel suites; iptables, nftables: the network suites (both packet filter backends);
# docker-registry, skopeo, umoci, busybox-static, musl-tools, attr: the image fixtures; gcc,
# libc6-dev and the arm64 cross toolchain: the static init helper; fonts-noto-cjk: Korean text in
# Chromium (the Korean screenshots render tofu boxes without a CJK font); openssh-client, xz-utils,
# binutils (strip, both arches): the agent bundle and SSH deploy; qemu-system-x86, qemu-utils,
# debootstrap, e2fsprogs: the VM suites (a Debian guest under QEMU TCG); vagrant, vagrant-libvirt,
# libvirt-daemon-system: the Vagrant provider against the real CLI; sudo: deploy as a user whose
# sudo asks for a password; wine, wine64: the Windows lane (build/windows-lane.test.ts runs the real
# Windows Node under it); tmux: the interactive-shell test types into `onggi run -it` on a real
# terminal and reads its screen; dnsmasq-base: the DNS test's name server (the binary alone:
# Debian's `dnsmasq` package would add a system service, which the test neither needs nor wants);
# inotify-tools: the shared-folder test watches the mount with inotifywait to see forwarded desktop edits.
# docker.io, docker-compose: the Docker API's real clients (docker CLI 20.10, compose 1.29); the
# tests point DOCKER_HOST at Onggi and never use a dockerd (one the package may start is left alone).
# (Machines without policy-rc.d start libvirtd on install; the tests never use that one.)
APT_PACKAGES=(chromium openssh-server iproute2 util-linux procps iptables nftables docker-registry skopeo umoci busybox-static musl-tools attr
  gcc libc6-dev gcc-aarch64-linux-gnu libc6-dev-arm64-cross fonts-noto-cjk
  openssh-client xz-utils binutils binutils-aarch64-linux-gnu
  qemu-system-x86 qemu-utils debootstrap e2fsprogs vagrant vagrant-libvirt libvirt-daemon-system sudo wine wine64 tmux dnsmasq-base inotify-tools docker.io docker-compose)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" != 0 ]; then
    echo "test.sh: missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "test.sh: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# npm ci when node_modules is absent or older than the lock file. The Electron binary download is
# tolerated to fail (build/install-electron.mjs): the tests never need it.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

step() { echo; echo "== $*"; }
step build;            node build/build.mjs
step typecheck;        npx tsc -p tsconfig.json && npx tsc -p tsconfig.renderer.json
step lint;             npx eslint . && npx prettier --check . --log-level warn
step electron-security; node build/check-electron-security.mjs
step "unit, property and kernel tests"
npx vitest run --reporter=default --reporter=json --outputFile="$results/vitest.json"
step "browser tests"
PLAYWRIGHT_JSON_OUTPUT_NAME="$results/playwright.json" npx playwright test --reporter=list,json
step "VM tests (QEMU TCG guest, Vagrant)"
npx vitest run -c vitest.vm.config.ts --reporter=default --reporter=json --outputFile="$results/vitest-vm.json"
node build/test-summary.mjs "$results/vitest.json" "$results/playwright.json" "$results/vitest-vm.json"
