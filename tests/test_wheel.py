"""A non-editable install works: govwatch's wheel, alone in a fresh venv with its dependencies, runs the
demo and the commands after it, far from any source checkout.

Building the wheel and installing its dependencies takes minutes, so the test is `slow`: not in the default
suite, run by `python -m pytest -m slow` (as `.ci/run` does); GOVWATCH_WHEEL=path/to/govwatch-*.whl uses a
built wheel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import REPO

pytestmark = pytest.mark.slow
UNUSED = ("datasketch", "scipy")  # listed once, imported by nothing
EXTRAS = ("pyarrow", "jieba")  # optional: govwatch[parquet], govwatch[jieba]


def build_wheel(tmp_path: Path) -> Path:
    """The wheel of a copy of the checkout (building in place would leave build/ and egg-info behind)."""
    source = tmp_path / "source"
    shutil.copytree(REPO, source, symlinks=True,
                    ignore=shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__",
                                                  ".pytest_cache", "*.db", "*.db-wal", "*.db-shm"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"),
                    str(source)], check=True, timeout=600)
    return next((tmp_path / "dist").glob("govwatch-*.whl"))


@pytest.mark.timeout(1800)
def test_the_wheel_alone_runs_the_demo_and_what_follows(tmp_path):
    wheel = Path(os.environ["GOVWATCH_WHEEL"]) if os.environ.get("GOVWATCH_WHEEL") else build_wheel(tmp_path)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python, govwatch = venv / "bin" / "python", venv / "bin" / "govwatch"
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)], check=True, timeout=1200)
    installed = subprocess.run([str(python), "-m", "pip", "list", "--format=freeze"], capture_output=True,
                               text=True, check=True).stdout.lower()
    names = {line.split("==")[0].replace("_", "-") for line in installed.splitlines()}
    assert not names & set(UNUSED + EXTRAS), names & set(UNUSED + EXTRAS)

    work = tmp_path / "work"
    work.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"

    def run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run([str(govwatch), *args], cwd=work, env=env, capture_output=True, text=True,
                              timeout=timeout)

    where = subprocess.run([str(python), "-c", "import crawler; print(crawler.__file__)"], cwd=work, env=env,
                           capture_output=True, text=True, check=True).stdout
    assert str(venv) in where and str(REPO) not in where

    demo = run("demo")
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "法治政府建设" in demo.stdout and "Traceback" not in demo.stderr
    assert (work / "govwatch.db").is_file()
    reports = run("reports", "--json")
    assert reports.returncode == 0, reports.stderr
    assert len(reports.stdout.splitlines()) >= 4
    search = run("search", "行政复议")
    assert search.returncode == 0 and "【" in search.stdout, search.stdout + search.stderr
    init = run("init")
    assert init.returncode == 0 and (work / "govwatch.toml").is_file(), init.stdout + init.stderr
    parquet = run("export", "--format", "parquet", "--out", "corpus.parquet")
    assert parquet.returncode == 1 and "govwatch[parquet]" in parquet.stderr
