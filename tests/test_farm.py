"""The national portal farm (crawler.demo.farm) on loopback: one address per portal, the CMS families and roles,
conditional answers, publishing while it runs, request counts, and the process mode with its control endpoint."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections import Counter
from urllib.parse import urlsplit

import pytest

import helpers
from crawler.demo.farm import Farm, FarmClient, address
from crawler.demo.farmsites import FAMILIES, ROLES, select_regions
from crawler.extract import analyse

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def farm():
    with Farm(limit=100) as f:
        yield f


def fetch(url: str, headers: dict | None = None, method: str = "GET"):
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=20) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_every_portal_has_its_own_loopback_host_and_the_mix_of_families_and_roles(farm):
    rows = farm.portals()
    hosts = [urlsplit(r["column_url"]).hostname for r in rows]
    assert len(rows) == 100 and len(set(hosts)) == 100
    assert all(h.startswith("127.100.") for h in hosts)
    assert hosts[0] == address(0) == "127.100.0.1"
    assert set(Counter(r["family"] for r in rows)) == set(FAMILIES)
    assert sorted(r["role"] for r in rows if r["role"]) == sorted(ROLES.values())
    # the regions are the division data's, in its order: 北京市 first, then its districts
    assert rows[0]["code"] == "110000" and rows[0]["region"] == "北京市" and rows[1]["code"].startswith("1101")


def test_robots_etag_and_last_modified_answer_304(farm):
    pid = farm.portal_ids(role=None)[0]
    base = farm.site(pid).base_url
    status, _, body = fetch(base + "/robots.txt")
    assert status == 200 and b"Disallow: /private/" in body
    status, headers, _ = fetch(farm.column_url(pid))
    assert status == 200 and headers["ETag"] and headers["Last-Modified"]
    assert fetch(farm.column_url(pid), {"If-None-Match": headers["ETag"]})[0] == 304
    assert fetch(farm.column_url(pid), {"If-Modified-Since": headers["Last-Modified"]})[0] == 304


def test_blocked_down_and_redirecting_portals(farm):
    [p412] = farm.portal_ids(role="blocked412")
    [p521] = farm.portal_ids(role="blocked521")
    [down] = farm.portal_ids(role="down")
    [moved] = farm.portal_ids(role="redirect")
    status, _, body = fetch(farm.site(p412).base_url + "/robots.txt")
    assert status == 412 and b"$_ts" in body
    status, _, body = fetch(farm.column_url(p521))
    assert status == 521 and b"__jsl_clearance" in body
    assert fetch(farm.column_url(down))[0] == 503
    status, headers, _ = fetch(farm.column_url(moved))
    new_site = farm.site(moved).moved_url
    assert status == 301 and headers["Location"] == new_site + urlsplit(farm.column_url(moved)).path
    assert urlsplit(new_site).hostname != urlsplit(farm.column_url(moved)).hostname
    assert fetch(headers["Location"])[0] == 200  # the moved site serves the column
    farm.set_down(down, False)
    try:
        assert fetch(farm.column_url(down))[0] == 200
    finally:
        farm.set_down(down, True)


def test_reports_classify_for_their_region_and_year(farm):
    """Every report of the slice extracts as the annual report of its portal's region and year."""
    checked = 0
    for pid in farm.portal_ids(role=None)[:40]:
        site = farm.site(pid)
        portal = site.portal(farm._build_lock)
        for item in (i for i in portal.items if i.kind == "report"):
            status, headers, body = fetch(portal.url(item).split("#")[0])
            assert status == 200
            charset = headers["Content-Type"].partition("charset=")[2] or None
            record = analyse(body, portal.url(item), charset=charset).record
            assert (record.doc_type, record.adcode, record.report_year) == \
                   ("annual_report", site.region.code, int(item.title.split("年度")[0][-4:])), item.title
            checked += 1
    assert checked >= 60


def test_publish_changes_the_column_and_counts_requests(farm):
    pid = next(r["id"] for r in farm.portals()[1:] if r["family"] == "trs" and not r["role"])
    status, headers, _ = fetch(farm.column_url(pid))
    before = farm.site(pid).report_years()
    farm.reset_counts()
    published = farm.publish(pid)
    assert published["year"] == max(before) + 1 and farm.site(pid).report_years()[-1] == published["year"]
    status, _, body = fetch(farm.column_url(pid), {"If-None-Match": headers["ETag"]})
    assert status == 200  # the list changed: no 304
    assert fetch(published["url"].split("#")[0])[0] == 200
    with pytest.raises(ValueError, match="already has"):
        farm.publish(pid, published["year"])
    with pytest.raises(ValueError, match="anti-bot"):
        farm.publish(farm.portal_ids(role="blocked412")[0])
    counts = farm.counts()[pid]
    assert counts["requests"] == 2 and counts["not_modified"] == 0
    assert sum(c["requests"] for c in farm.counts().values()) == 2


def test_process_mode_with_control_endpoint(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(helpers.REPO))
    proc = subprocess.Popen([sys.executable, "-m", "crawler.demo.farm", "serve", "--province", "安徽省", "--limit", "20"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    try:
        ready = json.loads(proc.stdout.readline())
        client = FarmClient(ready["control"])
        rows = client.portals()
        assert ready["portals"] == len(rows) == 20 and rows[0]["region"] == "安徽省"
        pid = client.portal_ids(role=None)[1]
        assert fetch(next(r["column_url"] for r in rows if r["id"] == pid))[0] == 200
        published = client.publish(pid)
        assert published["title"].endswith(f"{published['year']}年度法治政府建设情况报告")
        assert client.counts()[pid]["requests"] == 1
        config = client.write_config(tmp_path / "govwatch.toml", download_delay=0)
        text = config.read_text(encoding="utf-8")
        assert text.count("[[portal]]") == 20 and f'adcode = "{pid}"' in text
        with pytest.raises(ValueError, match="no portal"):
            client.publish("999999")
        assert client.stats()["max_rss_kib"] > 0
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def test_too_few_file_descriptors_is_one_clear_error():
    code = ("import resource; resource.setrlimit(resource.RLIMIT_NOFILE, (200, 200))\n"
            "from crawler.demo.farm import Farm\n"
            "try:\n    Farm(limit=300).start()\nexcept OSError as exc:\n    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env=dict(os.environ, PYTHONPATH=str(helpers.REPO)))
    assert "RLIMIT_NOFILE allows 200" in out.stdout and "ulimit -n" in out.stdout


def test_slices_by_province():
    anhui = select_regions(provinces=["安徽省"])
    assert anhui[0].name == "安徽省" and all(r.code.startswith("34") for r in anhui)
    assert {r.level for r in anhui} == {"province", "city", "county"}
    with pytest.raises(ValueError, match="no province"):
        select_regions(provinces=["火星省"])
