#!/usr/bin/env python
"""Mirror the working tree into DEST (like `rsync -a --delete`), for ansible-test.

ansible-test needs the collection at .../ansible_collections/azmon/metrics and refuses a symlink,
so the Makefile keeps a real copy there. The copy includes .git, so ansible-test lists the files
through git exactly as in the working tree (tracked files plus untracked files that are not
ignored). Left out: build/, .venv*, tests/output/ and caches. DEST's own tests/output/ (ansible-test's
results and delegation venvs) is kept between runs, and so is nothing else: every other file in DEST
that is not in the working tree is removed. Files whose size and mtime match are not copied again.

usage: sync_tree.py SRC DEST
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import stat
import sys

# Relative paths (from the top of the tree) that are neither copied nor deleted in DEST.
SKIP_TOP = ('build', 'dist', '.ansible', 'tests/output')
SKIP_TOP_PATTERNS = ('.venv*',)
# Names skipped at any depth.
SKIP_ANYWHERE = ('__pycache__', '.pytest_cache', '.hypothesis', '.mypy_cache', '.ruff_cache')


def skipped(rel: str) -> bool:
    """Return True when the relative path is never mirrored."""
    if rel in SKIP_TOP or any(fnmatch.fnmatch(rel, pattern) for pattern in SKIP_TOP_PATTERNS):
        return True
    return os.path.basename(rel) in SKIP_ANYWHERE


def same_file(src: os.stat_result, dst: os.stat_result) -> bool:
    """Return True when DEST already holds this version of the file."""
    return (stat.S_IFMT(src.st_mode) == stat.S_IFMT(dst.st_mode) and src.st_size == dst.st_size
            and src.st_mtime_ns == dst.st_mtime_ns and stat.S_IMODE(src.st_mode) == stat.S_IMODE(dst.st_mode))


def remove(path: str) -> None:
    """Remove a file, symlink or directory tree."""
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        os.unlink(path)


def mirror(src: str, dst: str, rel: str = '') -> int:
    """Mirror the directory SRC into DST; return the number of files copied."""
    copied = 0
    os.makedirs(dst, exist_ok=True)
    names = set(os.listdir(src))
    for name in sorted(os.listdir(dst)):
        child = os.path.join(rel, name) if rel else name
        if name not in names and not skipped(child):
            remove(os.path.join(dst, name))
    for name in sorted(names):
        child = os.path.join(rel, name) if rel else name
        if skipped(child):
            continue
        src_path = os.path.join(src, name)
        dst_path = os.path.join(dst, name)
        src_stat = os.lstat(src_path)
        try:
            dst_stat = os.lstat(dst_path)
        except FileNotFoundError:
            dst_stat = None
        if stat.S_ISDIR(src_stat.st_mode):
            if dst_stat is not None and not stat.S_ISDIR(dst_stat.st_mode):
                remove(dst_path)
            copied += mirror(src_path, dst_path, child)
            shutil.copystat(src_path, dst_path)
        elif stat.S_ISLNK(src_stat.st_mode):
            target = os.readlink(src_path)
            if dst_stat is None or not stat.S_ISLNK(dst_stat.st_mode) or os.readlink(dst_path) != target:
                if dst_stat is not None:
                    remove(dst_path)
                os.symlink(target, dst_path)
                copied += 1
        elif stat.S_ISREG(src_stat.st_mode):
            if dst_stat is not None and same_file(src_stat, dst_stat):
                continue
            if dst_stat is not None:
                remove(dst_path)
            shutil.copy2(src_path, dst_path)
            copied += 1
        # sockets, fifos and devices are not part of a collection: ignore them
    return copied


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src = os.path.abspath(sys.argv[1])
    dst = os.path.abspath(sys.argv[2])
    if dst == src or dst.startswith(src + os.sep) and not skipped(os.path.relpath(dst, src).split(os.sep)[0]):
        sys.exit(f'sync_tree: refusing to mirror {src} into itself ({dst})')
    copied = mirror(src, dst)
    print(f'collection copy: {dst} ({copied} file(s) updated)')


if __name__ == '__main__':
    main()
