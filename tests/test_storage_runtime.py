"""Storage under the runners: several processes opening one new database at once, and the package data read
from a zipped egg (how scrapyd deploys a project)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zipfile

import helpers

PROCESSES = 5


def test_processes_opening_a_new_database_at_once_all_get_the_whole_schema(tmp_path):
    # every process spins until the same instant, then opens the (not yet existing) database
    db_path = tmp_path / "new.db"
    start_at = time.time() + 2.0
    code = ("import time\nfrom storage import connect\n"
            f"while time.time() < {start_at!r}: pass\n"
            f"db = connect({str(db_path)!r})\n"
            "print(sorted(r[0] for r in db.execute(\"SELECT name FROM _sqlite_migrations\")))\n")
    env = dict(os.environ, PYTHONPATH=str(helpers.REPO))
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env) for _ in range(PROCESSES)]
    results = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
    errors = [err.strip().splitlines()[-1] for out, err, code in results if code]
    assert not errors, errors
    from storage.schema import migrations

    every = str(sorted(m.name for m in migrations._migrations))
    assert [out.strip() for out, _, _ in results] == [every] * PROCESSES


def test_package_data_is_read_from_a_zipped_egg(tmp_path):
    # scrapyd runs a deployed project from its egg, a zip file: data must be read as package resources
    egg = tmp_path / "govwatch.egg"
    with zipfile.ZipFile(egg, "w") as archive:
        for package in ("crawler", "storage", "spiders"):
            for path in sorted((helpers.REPO / package).rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    archive.write(path, path.relative_to(helpers.REPO).as_posix())
    code = (f"import sys; sys.path.insert(0, {str(egg)!r})\n"
            "from importlib import import_module\n"
            "regions, segment = import_module('crawler.extract.regions'), import_module('storage.segment')\n"
            f"assert regions.__file__.startswith({str(egg)!r}), regions.__file__\n"
            f"assert segment.__file__.startswith({str(egg)!r}), segment.__file__\n"
            "print(regions.resolve_region('芜湖市镜湖区2023年法治政府建设年度报告', ''))\n"
            "print('行政执法' in dict(segment.domain_terms()))\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split("\n")[:2] == ["('芜湖市镜湖区', '340202')", "True"]
