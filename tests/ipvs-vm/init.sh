#!/bin/sh
# Stage 1, /init of the harness's initramfs (static busybox): load the virtio and 9p modules, mount the host's
# root (shared read-only over virtio-9p) and switch_root into it. PID 1 itself changes root, so the kernel's
# module autoloading (which runs in PID 1's root) uses the host's /sbin/modprobe and /lib/modules afterwards.
export PATH=/bin
mount -t proc proc /proc
mount -t devtmpfs devtmpfs /dev
for module in $(cat /modules.order); do
    insmod "/modules/$module" || echo "ipvs-vm: insmod $module failed"
done
stage2=
for arg in $(cat /proc/cmdline); do
    case "$arg" in lvsvm.stage2=*) stage2="${arg#*=}" ;; esac
done
if ! mount -t 9p -o trans=virtio,version=9p2000.L,cache=loose,msize=512000,ro hostroot /mnt; then
    echo "ipvs-vm: cannot mount the host root over virtio-9p"
    poweroff -f
fi
umount /proc
umount /dev
exec switch_root /mnt /bin/sh "$stage2"
