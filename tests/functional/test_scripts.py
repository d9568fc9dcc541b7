"""scripts/: each option reaches the command it is for, and .venv is re-installed when the
dependencies or the pinned tool versions change.

The scripts run from a copy of the repository's scripts whose `.venv/bin` holds stand-ins that
write down how they were called (the real installs are what `scripts/test` itself runs).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RECORDER = """#!/bin/sh
echo "$(basename "$0") $*" >> "$CALLS"
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "scripts", copy / "scripts")
    for name in ("pyproject.toml", "constraints.txt"):
        shutil.copy(ROOT / name, copy / name)
    (copy / "node_modules" / "axe-core").mkdir(parents=True)
    (copy / "node_modules" / "axe-core" / "axe.min.js").write_text("")
    for directory, names in {
        copy / ".venv" / "bin": ("python", "honnin", "ruff", "mypy", "pybabel"),
        # scripts/test looks for the browser tests' system packages: found, nothing to install
        tmp_path / "path": ("npm", "fc-list"),
    }.items():
        directory.mkdir(parents=True)
        for name in names:
            (directory / name).write_text(RECORDER)
            (directory / name).chmod(0o755)
    (tmp_path / "path" / "fc-list").write_text("#!/bin/sh\necho 'Noto Sans CJK JP'\n")
    return copy


def run(repo: Path, *command: str) -> tuple[int, list[str], str]:
    calls = repo / "calls"
    calls.write_text("")
    env = {
        **os.environ,
        "CALLS": str(calls),
        "PATH": f"{repo.parent / 'path'}:{os.environ['PATH']}",
    }
    result = subprocess.run(
        ["bash", *command], cwd=repo, env=env, capture_output=True, text=True, check=False
    )
    return result.returncode, calls.read_text().splitlines(), result.stderr


INSTALL = "python -m pip install -q -e . -c constraints.txt"
INSTALL_TEST = "python -m pip install -q -e .[test] -c constraints.txt"


def test_serve_options_go_to_honnin_serve(repo: Path) -> None:
    status, calls, stderr = run(repo, "scripts/serve", "--port", "8001", "--workers", "2")
    assert status == 0, stderr
    assert calls == [INSTALL, "honnin serve --dev --port 8001 --workers 2"]


def test_test_options_go_to_pytest(repo: Path) -> None:
    status, calls, stderr = run(repo, "scripts/test", "-k", "courier", "-x")
    assert status == 0, stderr
    assert calls == [INSTALL_TEST, "python -m pytest -k courier -x"]


def test_check_takes_no_options(repo: Path) -> None:
    status, calls, stderr = run(repo, "scripts/check", "--fix")
    assert status == 2
    assert calls == []
    assert stderr == "scripts/check takes no options (it checks the whole repository); got: --fix\n"
    status, calls, stderr = run(repo, "scripts/check")
    assert status == 0, stderr
    assert calls == [INSTALL_TEST, "ruff check .", "ruff format --check .", "mypy "]


def test_i18n_takes_no_options(repo: Path) -> None:
    status, calls, _stderr = run(repo, "scripts/i18n", "--locale", "ja")
    assert (status, calls) == (2, [])


def test_installs_again_only_when_the_dependencies_or_pins_change(repo: Path) -> None:
    assert run(repo, "scripts/serve")[1] == [INSTALL, "honnin serve --dev"]
    assert run(repo, "scripts/serve")[1] == ["honnin serve --dev"]
    # the test extra covers the base install, not the other way round
    assert run(repo, "scripts/test")[1] == [INSTALL_TEST, "python -m pytest"]
    assert run(repo, "scripts/serve")[1] == ["honnin serve --dev"]
    assert run(repo, "scripts/test")[1] == ["python -m pytest"]
    with (repo / "constraints.txt").open("a") as pins:
        pins.write("ruff==0.0.1\n")
    assert run(repo, "scripts/test")[1] == [INSTALL_TEST, "python -m pytest"]
    with (repo / "pyproject.toml").open("a") as project:
        project.write("\n# changed\n")
    assert run(repo, "scripts/serve")[1] == [INSTALL, "honnin serve --dev"]


def test_a_failed_browser_install_does_not_stop_the_tests(repo: Path) -> None:
    path = repo.parent / "path"
    (path / "fc-list").write_text("#!/bin/sh\n")  # no CJK fonts
    for name in ("apt-get", "npm"):
        (path / name).write_text(RECORDER + "exit 100\n")
        (path / name).chmod(0o755)
    shutil.rmtree(repo / "node_modules")
    status, calls, stderr = run(repo, "scripts/test", "tests/browser")
    assert status == 0, stderr
    assert calls[0] == INSTALL_TEST
    assert calls[-1] == "python -m pytest tests/browser"
    assert calls[-2] == "npm ci --silent --no-audit --no-fund"
    assert "apt-get update -qq" in calls
    assert "warning: could not install fonts-noto-cjk; the tests that need them will say" in stderr
    assert "warning: npm ci failed; the accessibility checks will say what is missing" in stderr
