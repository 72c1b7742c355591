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
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /var/tmp
mkdir -p "$HOME"
ip link set lo up 2>/dev/null
script=
for arg in $(cat /proc/cmdline); do
    case "$arg" in lvsvm.script=*) script="${arg#*=}" ;; esac
done
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
