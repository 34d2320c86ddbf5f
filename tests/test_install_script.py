"""scripts/_install, which scripts/serve and scripts/test run before anything else.

`pip install -e .` took 4 of the 6 s of a restart although nothing had changed; now it runs only
when the dependency declaration changed or the venv is missing or broken. The script runs here on
a scratch project of its own (a copy of the script, a one-module package named dxlink), with only
`python3` on PATH, as on a machine that has no `python`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PYPROJECT = """\
[build-system]
requires = ["setuptools>=69"]
build-backend = "setuptools.build_meta"

[project]
name = "dxlink"
version = "{version}"

[project.optional-dependencies]
test = []

[tool.setuptools]
py-modules = ["hello"]
"""


def _project(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    project = tmp_path / "project"
    (project / "scripts").mkdir(parents=True)
    shutil.copy2(ROOT / "scripts" / "_install", project / "scripts" / "_install")
    (project / "pyproject.toml").write_text(PYPROJECT.format(version="0.1.0"))
    (project / "hello.py").write_text('WORD = "one"\n')
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # The interpreter itself, not this suite's venv: the script makes a venv of its own.
    (bin_dir / "python3").symlink_to(os.path.realpath(sys.executable))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHON", "VIRTUAL_ENV")}
    env["PATH"] = f"{bin_dir}:/usr/bin:/bin"
    return project, env


def _install(project: Path, env: dict[str, str], *extras: str) -> str:
    """Run the script; return what it said (pip's own chatter about package indexes aside)."""
    done = subprocess.run(
        [str(project / "scripts" / "_install"), *extras],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return "\n".join(line for line in done.stderr.splitlines() if "scripts/_install" in line)


def _venv_python(project: Path, code: str) -> str:
    done = subprocess.run(
        [str(project / ".venv" / "bin" / "python"), "-c", code],
        cwd="/",  # the installed package, not the checkout's directory on sys.path
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def _version(project: Path) -> str:
    return _venv_python(project, "import importlib.metadata as m; print(m.version('dxlink'))")


def test_install_runs_only_when_the_dependencies_change_or_the_venv_breaks(tmp_path: Path) -> None:
    project, env = _project(tmp_path)
    stamp = project / ".venv" / ".dxlink-installed"

    assert "installing dxlink into .venv (first install)" in _install(project, env)
    assert _version(project) == "0.1.0"
    recorded = stamp.read_text()

    # The next start: no install, not even when the code changed (the install is editable).
    (project / "hello.py").write_text('WORD = "two"\n')
    assert _install(project, env) == ""
    assert stamp.read_text() == recorded
    assert _venv_python(project, "import hello; print(hello.WORD)") == "two"

    # scripts/test adds its extra once; scripts/serve afterwards keeps it and installs nothing.
    assert "installing dxlink[test] into .venv (extras added)" in _install(project, env, "test")
    assert _install(project, env, "test") == ""
    assert _install(project, env) == ""

    (project / "pyproject.toml").write_text(PYPROJECT.format(version="0.2.0"))
    said = _install(project, env)
    assert "installing dxlink[test] into .venv (pyproject.toml changed)" in said
    assert _version(project) == "0.2.0"
    assert _install(project, env) == ""

    # An upgrade removed the Python the venv was made with: the venv is made again, instead of
    # every start failing with "bad interpreter".
    python = project / ".venv" / "bin" / "python"
    python.unlink()
    python.symlink_to(tmp_path / "removed-python")
    said = _install(project, env)
    assert ".venv is broken, moved or not of python3; making it again" in said
    assert "installing dxlink into .venv (first install)" in said
    assert _version(project) == "0.2.0"
