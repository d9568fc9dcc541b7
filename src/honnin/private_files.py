"""Folders and files only the service's own user may read: the SQLite database (codes' digests,
sessions, sealed secrets), the dev secret and the dev mailbox (which holds codes in clear).

Modes are given when a thing is created (never created open, then closed), whatever the
process's umask; what already exists is left as the operator made it.
"""

from __future__ import annotations

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create `path` and any missing parent with mode 0700 (`Path.mkdir(parents=True)` would
    give the parents the umask's default, usually 0755)."""
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue  # another process made it first
        os.chmod(folder, DIR_MODE)  # mkdir's mode is masked by the umask
    return path


def private_file(path: Path) -> Path:
    """Create `path` empty with mode 0600 if it does not exist (an empty file is a valid empty
    SQLite database, and SQLite gives its -wal and -shm files the database file's mode)."""
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return path
    os.fchmod(fd, FILE_MODE)  # a umask like 0277 would have left it unwritable
    os.close(fd)
    return path
