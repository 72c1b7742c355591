#!/usr/bin/env bash
# A real IPVS kernel for tests: Debian's kernel under qemu (TCG, no KVM needed) with this machine's root
# shared read-only over virtio-9p, so host binaries (ipvsadm, dotnet, our build output) run unchanged.
#
#   ipvs-vm.sh build                          builds (once, cached) the extracted vmlinux and the initramfs;
#                                             prints the cache directory
#   ipvs-vm.sh run [--timeout S] -- CMD...    boots the guest, runs CMD (through sh, in the caller's
#                                             directory), prints its output, exits with CMD's exit code
#                                             (124: timed out, 125: the guest did not report)
#
# Settings (environment): LVS_IPVS_VM_CACHE (default /var/cache/lvsevents/ipvs-vm), LVS_IPVS_VM_KERNEL
# (a /boot/vmlinuz-* whose /lib/modules has ip_vs; default: the newest such), LVS_IPVS_VM_MEMORY (MiB, 1024),
# LVS_IPVS_VM_CPUS (1).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache_root="${LVS_IPVS_VM_CACHE:-/var/cache/lvsevents/ipvs-vm}"

die() { echo "ipvs-vm: $*" >&2; exit 125; }

find_kernel() {
    if [[ -n "${LVS_IPVS_VM_KERNEL:-}" ]]; then echo "$LVS_IPVS_VM_KERNEL"; return; fi
    local k v best=
    for k in /boot/vmlinuz-*; do
        [[ -e "$k" ]] || continue
        v="${k#/boot/vmlinuz-}"
        [[ -e "/lib/modules/$v/kernel/net/netfilter/ipvs/ip_vs.ko" || -e "/lib/modules/$v/kernel/net/netfilter/ipvs/ip_vs.ko.xz" ]] && best="$k"
    done
    [[ -n "$best" ]] || die "no /boot/vmlinuz-* with IPVS modules; install linux-image-amd64 (apt-get install linux-image-amd64)"
    echo "$best"
}

# Modules the initramfs loads, dependencies first, from modules.dep.
module_order() {
    local moddir="$1"; shift
    python3 - "$moddir" "$@" <<'PY'
import sys
moddir, wanted = sys.argv[1], sys.argv[2:]
deps = {}
for line in open(f"{moddir}/modules.dep"):
    path, _, rest = line.partition(":")
    deps[path] = rest.split()
by_name = {p.rsplit("/", 1)[-1].split(".ko")[0].replace("-", "_"): p for p in deps}
order = []
def visit(path):
    if path in order: return
    for d in reversed(deps[path]): visit(d)
    order.append(path)
for name in wanted:
    if name not in by_name: sys.exit(f"module {name} not found in {moddir}")
    visit(by_name[name])
print("\n".join(order))
PY
}

build() {
    local kernel version moddir key dir tmp
    kernel="$(find_kernel)"
    version="${kernel#/boot/vmlinuz-}"
    moddir="/lib/modules/$version"
    for tool in qemu-system-x86_64 python3; do
        command -v "$tool" >/dev/null || die "$tool is missing (apt-get install qemu-system-x86 python3)"
    done
    [[ -x /bin/busybox ]] && python3 "$here/mkinitramfs.py" is-static /bin/busybox \
        || die "a static /bin/busybox is needed (apt-get install busybox-static)"
    command -v ipvsadm >/dev/null || die "ipvsadm is missing (apt-get install ipvsadm)"
    key="$( { echo "$version"; stat -c '%s %Y' "$kernel"; cat "$here/init.sh" "$here/stage2.sh" "$here/extract-vmlinux.py" "$here/mkinitramfs.py" "${BASH_SOURCE[0]}"; } | sha256sum | cut -c1-16)"
    dir="$cache_root/$version-$key"
    if [[ -e "$dir/ready" ]]; then echo "$dir"; return; fi
    mkdir -p "$cache_root"
    exec 9>"$cache_root/.lock"
    flock 9
    if [[ -e "$dir/ready" ]]; then echo "$dir"; return; fi
    tmp="$(mktemp -d "$cache_root/.build.XXXXXX")"
    trap 'rm -rf "$tmp"' RETURN
    python3 "$here/extract-vmlinux.py" "$kernel" "$tmp/vmlinux" >&2
    mkdir -p "$tmp/root/bin" "$tmp/root/proc" "$tmp/root/dev" "$tmp/root/mnt" "$tmp/root/modules" "$tmp/root/sys"
    cp /bin/busybox "$tmp/root/bin/busybox"
    for applet in sh mount umount insmod cat switch_root poweroff echo; do ln -s busybox "$tmp/root/bin/$applet"; done
    cp "$here/init.sh" "$tmp/root/init"; chmod 755 "$tmp/root/init"
    : >"$tmp/root/modules.order"
    local m
    for m in $(module_order "$moddir" virtio_pci 9pnet_virtio 9p); do
        case "$m" in
            *.ko) cp "$moddir/$m" "$tmp/root/modules/" ;;
            *.ko.xz) xz -dc "$moddir/$m" >"$tmp/root/modules/$(basename "${m%.xz}")" ;;
            *.ko.zst) zstd -qdc "$moddir/$m" >"$tmp/root/modules/$(basename "${m%.zst}")" ;;
            *) die "unexpected module file $m" ;;
        esac
        basename "${m%.*}" | sed 's/\.ko$//;s/$/.ko/' >>"$tmp/root/modules.order"
    done
    # Uncompressed: unpacking costs nothing, decompressing under TCG does.
    python3 "$here/mkinitramfs.py" archive "$tmp/root" "$tmp/initramfs.cpio"
    cp "$here/stage2.sh" "$tmp/stage2.sh"
    echo "$kernel" >"$tmp/kernel"
    rm -rf "$tmp/root"
    mkdir -p "$tmp/runs"
    touch "$tmp/ready"
    rm -rf "$dir"
    mv "$tmp" "$dir"
    # Older builds (another kernel or harness version) are not needed any more.
    find "$cache_root" -mindepth 1 -maxdepth 1 -type d ! -name "$(basename "$dir")" ! -name '.build.*' -exec rm -rf {} + 2>/dev/null || true
    echo "$dir"
}

run() {
    local timeout=120
    while [[ $# -gt 0 ]]; do
        case "$1" in
            --timeout) timeout="$2"; shift 2 ;;
            --) shift; break ;;
            *) break ;;
        esac
    done
    [[ $# -gt 0 ]] || die "usage: ipvs-vm.sh run [--timeout S] -- COMMAND..."
    local dir rc=0 status
    dir="$(build)"
    run="$(mktemp -d "$dir/runs/run.XXXXXX")"
    trap 'rm -rf "$run"' EXIT
    { printf 'cd %q 2>/dev/null || cd /\n' "$PWD"; printf '%q ' "$@"; echo; } >"$run/cmd.sh"
    # The guest's /tmp is its own; the host's /tmp paths this command uses (a checkout there) are bound in.
    local p
    for p in "$PWD" "$@"; do
        if [[ $p == /tmp/?* ]]; then p=${p#/tmp/}; echo "${p%%/*}"; fi
    done | sort -u >"$run/host-tmp"
    local start=$SECONDS
    set +e
    timeout --kill-after=5 "$timeout" qemu-system-x86_64 \
        -accel tcg -M pc -cpu max -m "${LVS_IPVS_VM_MEMORY:-1024}" -smp "${LVS_IPVS_VM_CPUS:-1}" \
        -nodefaults -no-user-config -display none -no-reboot \
        -kernel "$dir/vmlinux" -initrd "$dir/initramfs.cpio" \
        -append "console=ttyS0 quiet loglevel=1 panic=-1 rdinit=/init lvsvm.stage2=$dir/stage2.sh lvsvm.script=$run/cmd.sh" \
        -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
        -chardev "file,id=console,path=$run/console.log" -serial chardev:console \
        </dev/null >"$run/qemu.log" 2>&1
    status=$?
    set -e
    local console
    console="$(tr -d '\r' <"$run/console.log" 2>/dev/null || true)"
    if [[ $status -eq 124 || $status -eq 137 ]]; then
        printf '%s\n' "$console"
        echo "ipvs-vm: timed out after ${timeout} s" >&2
        return 124
    fi
    if ! grep -q '^@@LVSVM-END rc=' <<<"$console"; then
        printf '%s\n' "$console"
        cat "$run/qemu.log" >&2
        echo "ipvs-vm: the guest did not report a result (qemu exit $status)" >&2
        return 125
    fi
    sed -n '/^@@LVSVM-BEGIN$/,/^@@LVSVM-END rc=/{/^@@LVSVM-/d;p}' <<<"$console"
    rc="$(sed -n 's/^@@LVSVM-END rc=\([0-9]*\).*/\1/p' <<<"$console" | tail -1)"
    echo "ipvs-vm: guest ran for $((SECONDS - start)) s, exit $rc" >&2
    return "$rc"
}

case "${1:-}" in
    build) build ;;
    run) shift; run "$@" ;;
    *) echo "usage: ipvs-vm.sh build | run [--timeout S] -- COMMAND..." >&2; exit 2 ;;
esac
