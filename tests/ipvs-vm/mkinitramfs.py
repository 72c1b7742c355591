#!/usr/bin/env python3
"""Writes an uncompressed newc cpio archive of a directory (what `find | cpio -o -H newc` does), with every file
owned by root; and checks that a binary is statically linked. No cpio or file(1) needed.

Usage: mkinitramfs.py archive DIRECTORY OUTPUT
       mkinitramfs.py is-static BINARY        (exit 0 if the ELF has no PT_INTERP)
"""
import os, stat, struct, sys

def header(name, mode, size, ino, nlink=1, rdev=(0, 0)):
    encoded = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, nlink, 0, size, 0, 0, rdev[0], rdev[1], len(encoded), 0]
    data = b"070701" + b"".join(b"%08X" % f for f in fields) + encoded
    return data + b"\0" * (-len(data) % 4)

def archive(root, output):
    paths = []
    for directory, dirs, files in os.walk(root):
        dirs.sort()
        paths += [os.path.join(directory, name) for name in dirs + sorted(files)]  # parents before children
    with open(output, "wb") as out:
        for ino, path in enumerate(paths, start=1):
            rel = os.path.relpath(path, root)
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                data = os.readlink(path).encode()
            elif stat.S_ISDIR(st.st_mode):
                data = b""
            else:
                data = open(path, "rb").read()
            nlink = 2 if stat.S_ISDIR(st.st_mode) else 1
            out.write(header(rel, st.st_mode, len(data), ino, nlink) + data + b"\0" * (-len(data) % 4))
        out.write(header("TRAILER!!!", 0, 0, 0))

def is_static(binary):
    with open(binary, "rb") as f:
        elf = f.read(64)
        if elf[:4] != b"\x7fELF" or elf[4] != 2:
            return False
        phoff, = struct.unpack_from("<Q", elf, 32)
        phentsize, phnum = struct.unpack_from("<HH", elf, 54)
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            if struct.unpack("<I", f.read(4))[0] == 3:  # PT_INTERP
                return False
    return True

if sys.argv[1] == "archive":
    archive(sys.argv[2], sys.argv[3])
elif sys.argv[1] == "is-static":
    sys.exit(0 if is_static(sys.argv[2]) else 1)
else:
    sys.exit(__doc__)
