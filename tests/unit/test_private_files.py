"""Private folders and files are private whatever the umask, and only when we create them."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from honnin.db.engine import private_sqlite_file
from honnin.private_files import private_dir, private_file


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o000, 0o022, 0o277])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    yield int(request.param)
    os.umask(old)


def test_missing_parents_are_private_too(tmp_path: Path, umask: int) -> None:
    private_dir(tmp_path / "a" / "b" / "c")
    modes = [_mode(tmp_path / "a"), _mode(tmp_path / "a" / "b"), _mode(tmp_path / "a" / "b" / "c")]
    assert modes == [0o700, 0o700, 0o700]


def test_a_new_file_is_0600_and_an_existing_one_is_left_alone(tmp_path: Path, umask: int) -> None:
    made = private_file(tmp_path / "data" / "x.db")
    assert (_mode(made.parent), _mode(made), made.read_bytes()) == (0o700, 0o600, b"")
    made.write_bytes(b"kept")
    os.chmod(made, 0o640)
    private_file(made)
    assert (_mode(made), made.read_bytes()) == (0o640, b"kept")


def test_an_existing_folder_keeps_its_mode(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    os.chmod(folder, 0o750)  # noqa: S103 - an operator's folder, shared with a group
    private_file(folder / "x.db")
    assert (_mode(folder), _mode(folder / "x.db")) == (0o750, 0o600)


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite:///:memory:",
        "sqlite+aiosqlite://",
        "sqlite+aiosqlite:///file:memdb?mode=memory&cache=shared&uri=true",
        "postgresql+asyncpg://postgres@127.0.0.1/test",
    ],
)
def test_only_sqlite_files_on_disk_are_created(tmp_path: Path, url: str) -> None:
    private_sqlite_file(url)
    assert list(tmp_path.iterdir()) == []


def test_a_sqlite_url_makes_its_file_private(tmp_path: Path) -> None:
    private_sqlite_file(f"sqlite+aiosqlite:///{tmp_path}/data/honnin.db")
    assert (_mode(tmp_path / "data"), _mode(tmp_path / "data" / "honnin.db")) == (0o700, 0o600)
