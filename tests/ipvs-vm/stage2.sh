#!/bin/sh
# Stage 2, PID 1 in the guest after switch_root into the host's root (read-only 9p): mount the kernel
# filesystems and scratch tmpfs, run the requested script, print its exit code as a marker line, power off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp/home TMPDIR=/tmp DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/shm /dev/pts 2>/dev/null
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run
# A scratch /tmp, but what the host has under /tmp stays visible (read-only) at the same paths: a checkout
# there (CI clones into /tmp) holds the programs this guest runs.
# ipvs-vm.sh lists those paths (top-level names under /tmp) beside the script.
script=
for arg in $(cat /proc/cmdline); do
    case "$arg" in lvsvm.script=*) script="${arg#*=}" ;; esac
done
mkdir -p /run/host-tmp
mount --bind /tmp /run/host-tmp
mount -t tmpfs tmpfs /tmp
if [ -n "$script" ] && [ -r "${script%/*}/host-tmp" ]; then
    while read -r n; do
        [ -n "$n" ] && [ -d "/run/host-tmp/$n" ] && mkdir -p "/tmp/$n" && mount --bind "/run/host-tmp/$n" "/tmp/$n"
    done < "${script%/*}/host-tmp"
fi
mount -t tmpfs tmpfs /var/tmp
mkdir -p "$HOME"
ip link set lo up 2>/dev/null
echo "@@LVSVM-BEGIN"
if [ -n "$script" ] && [ -r "$script" ]; then
    sh "$script" </dev/null 2>&1
    rc=$?
else
    echo "ipvs-vm: no script to run ('$script')"
    rc=125
fi
echo "@@LVSVM-END rc=$rc"
sync
busybox poweroff -f
echo 1 > /proc/sys/kernel/sysrq; echo o > /proc/sysrq-trigger
sleep 5
