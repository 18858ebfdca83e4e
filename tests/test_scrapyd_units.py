"""The scrapyd backend's parts without a node: the payload and hand-back formats, exactly-once ingest (a
controller dying mid-ingest), the node-side code check, the node's config files and the config keys."""

from __future__ import annotations

import configparser
import json
import os
import zipfile
from pathlib import Path

import pytest

import helpers  # noqa: F401  (puts the repo on sys.path)
from crawler.config import ConfigError, load_config, parse_config
from crawler.crawl.scrapyd import ingest as ingest_module
from crawler.crawl.scrapyd.ingest import ingest_job
from crawler.crawl.scrapyd.jobs import (
    CHUNK_CHARS, HandBackError, PayloadError, build_payload, decode_payload, encode_payload, read_handback, record,
)
from crawler.crawl.scrapyd.node import changed_fetch_state, code_check, prepare_job
from crawler.crawl.scrapyd.service import NODE_CONFIG, NodeStartError, node_environment, write_node_config
from crawler.monitor.alerts import AlertPolicy
from crawler.registry import sync_config
from storage import connect

REPO = Path(__file__).resolve().parents[1]
REPORT = ("2023年，我县坚持以习近平法治思想为指导，全面推进依法行政，法治政府建设取得新成效。\n"
          "一、主要举措和成效。完善依法行政制度体系，推进严格规范公正文明执法。\n"
          "二、存在的不足和下一步工作安排。持续用力推进各项工作落实。")


def test_payload_round_trip_in_chunks():
    crawl = parse_config("[crawl]\ndownload_delay = 0.5\n").crawl
    rows = [{"url": f"http://127.0.0.2/p/{n}.html", "portal_id": "a", "kind": "detail", "status": 200,
             "list_entry": os.urandom(20).hex()} for n in range(4000)]  # random hex: barely compressible
    payload = build_payload("job1", crawl, [{"portal": {"id": "a", "start_urls": ["http://127.0.0.2/"]},
                                             "baseline_done": True, "last_status": "ok", "fetch_state": rows}])
    args = encode_payload(payload)
    assert len(args) > 1 and all(len(v) <= CHUNK_CHARS + 12 for v in args.values())
    assert decode_payload(args) == payload
    assert decode_payload(args)["crawl"]["download_delay"] == 0.5
    assert "backend" not in payload["crawl"] and "scrapyd_nodes" not in payload["crawl"]  # controller keys
    cut = dict(args)
    cut.pop(sorted(cut)[-1])
    with pytest.raises(PayloadError, match="cut short"):
        decode_payload(cut)
    with pytest.raises(PayloadError, match="no -a payload"):
        decode_payload({})


def test_a_handback_without_its_end_record_is_refused():
    lines = [record("header", format=1, job="j1"), record("document", item={"url": "u"}),
             record("run", portal="a", stats={"status": "ok"})]
    with pytest.raises(HandBackError, match="no end record"):
        read_handback(lines, "j1")
    whole = lines + [record("end", records=4, close_reason="finished")]
    back = read_handback(whole, "j1")
    assert back.documents == [{"url": "u"}] and back.runs == {"a": {"status": "ok"}}
    with pytest.raises(HandBackError, match="not 'j2'"):
        read_handback(whole, "j2")
    with pytest.raises(HandBackError, match="counts 3 records"):
        read_handback(lines + [record("end", records=3)], "j1")
    with pytest.raises(HandBackError, match="not JSON"):
        read_handback(lines + ['{"type": "end", "rec'], "j1")


def _controller_db(tmp_path: Path):
    config_path = tmp_path / "govwatch.toml"
    config_path.write_text('[alerts]\nalert_on_baseline = true\n\n[[portal]]\nid = "a"\n'
                           'start_urls = ["http://127.0.0.2:1/list.html"]\n', encoding="utf-8")
    db = connect(tmp_path / "controller.db")
    sync_config(db, load_config(config_path))
    run_id = db["crawl_runs"].insert({"portal_id": "a", "started_at": "x", "status": "running", "node": "n",
                                      "job_id": "j1"}).last_pk
    db["scrapyd_jobs"].insert({"job_id": "j1", "node": "n", "portals": '["a"]', "run_ids": json.dumps({"a": run_id}),
                               "state": "finished", "attempt": 1})
    return db, run_id


def _handback(count: int = 3):
    lines = [record("header", format=1, job="j1")]
    for n in range(count):
        lines.append(record("document", item={
            "url": f"http://127.0.0.2:1/d{n}.html", "portal_id": "a", "title": f"某{'县区市'[n]}2023年法治政府建设年度报告",
            "text": REPORT.replace("我县", f"我{'县区市'[n]}") + f"\n第{n}号", "doc_type": "annual_report",
            "report_year": 2023, "adcode": f"34020{n + 2}", "region": f"某{n}",
            "_list_url": f"http://127.0.0.2:1/d{n}.html", "_list_entry": f"fp{n}", "_content_hash": f"h{n}"}))
    lines.append(record("fetch_state", row={"url": "http://127.0.0.2:1/list.html", "portal_id": "a", "kind": "list",
                                            "status": 200, "etag": '"v1"'}))
    lines.append(record("run", portal="a", stats={"status": "ok", "requests": 5, "pages": 1, "errors": 0}))
    lines.append(record("end", records=len(lines) + 1, close_reason="finished"))
    return read_handback(lines, "j1")


def test_ingest_is_exactly_once_even_when_the_controller_dies_mid_ingest(tmp_path, monkeypatch):
    db, run_id = _controller_db(tmp_path)
    back = _handback()
    policy = AlertPolicy.from_settings(load_config(tmp_path / "govwatch.toml").alerts)
    real_store = ingest_module.store_document
    calls = []

    def dying_store(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the controller killed between two documents of the job
        return real_store(*args, **kwargs)

    monkeypatch.setattr(ingest_module, "store_document", dying_store)
    with pytest.raises(KeyboardInterrupt):
        ingest_job(db, "j1", back, policy=policy)
    # nothing of the job is left: no document, no alert, no fetch state, the job still to ingest
    assert db.execute("SELECT count(*) FROM documents").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM alerts").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM fetch_state").fetchone()[0] == 0
    assert db.execute("SELECT state FROM scrapyd_jobs").fetchone()[0] == "finished"
    assert db.execute("SELECT status FROM crawl_runs WHERE id = ?", [run_id]).fetchone()[0] == "running"

    monkeypatch.setattr(ingest_module, "store_document", real_store)
    results = ingest_job(db, "j1", back, policy=policy)  # the next controller ingests it whole
    assert results["a"].status == "ok" and results["a"].new_documents == 3 and results["a"].new_reports == 3
    assert db.execute("SELECT count(*) FROM documents").fetchone()[0] == 3
    assert db.execute("SELECT count(*) FROM alerts").fetchone()[0] == 3
    assert db.execute("SELECT etag FROM fetch_state WHERE kind = 'list'").fetchone()[0] == '"v1"'
    assert db.execute("SELECT count(*) FROM fetch_state WHERE kind = 'detail'").fetchone()[0] == 3
    assert db.execute("SELECT state FROM scrapyd_jobs").fetchone()[0] == "ingested"
    assert db.execute("SELECT status, new_documents FROM crawl_runs WHERE id = ?", [run_id]).fetchone() == ("ok", 3)
    assert db.execute("SELECT baseline_done FROM portals WHERE id = 'a'").fetchone()[0] == 1

    assert ingest_job(db, "j1", back, policy=policy) is None  # a third time: nothing
    assert db.execute("SELECT count(*) FROM documents").fetchone()[0] == 3
    assert db.execute("SELECT count(*) FROM alerts").fetchone()[0] == 3


def test_one_document_that_fails_to_store_fails_alone(tmp_path, monkeypatch):
    db, run_id = _controller_db(tmp_path)
    real_store = ingest_module.store_document

    def picky_store(db_, doc, **kwargs):
        if doc["url"].endswith("d1.html"):
            db_.execute("INSERT INTO documents (url, portal_id) VALUES ('http://half/written', 'a')")
            raise ValueError("bad document")
        return real_store(db_, doc, **kwargs)

    monkeypatch.setattr(ingest_module, "store_document", picky_store)
    results = ingest_job(db, "j1", _handback(), policy=AlertPolicy())
    assert results["a"].new_documents == 2 and results["a"].errors == 1 and results["a"].status == "error"
    assert "bad document" in results["a"].reason
    assert db.execute("SELECT count(*) FROM documents WHERE url = 'http://half/written'").fetchone()[0] == 0


def test_the_node_scratch_state_round_trips_and_only_changes_go_back(tmp_path):
    crawl = parse_config("").crawl
    rows = [{"url": "http://127.0.0.2:1/list.html", "portal_id": "a", "kind": "list", "status": 200, "etag": '"1"',
             "last_modified": None, "content_hash": "c", "list_entry": None, "fetched_at": "t", "checked_at": "t"},
            {"url": "http://127.0.0.2:1/d.html", "portal_id": "a", "kind": "detail", "status": 200, "etag": None,
             "last_modified": None, "content_hash": "d", "list_entry": "fp", "fetched_at": "t", "checked_at": "t"}]
    payload = build_payload("j9", crawl, [{"portal": {"id": "a", "name": "某县\"人民\"政府",
                                                      "start_urls": ["http://127.0.0.2:1/list.html"]},
                                           "baseline_done": True, "last_status": "ok", "fetch_state": rows}])
    setup = prepare_job(payload, tmp_path)
    config = load_config(setup.config_path)
    assert config.portals[0].name == '某县"人民"政府' and config.crawl.user_agent == crawl.user_agent
    assert setup.portal_ids == ["a"] and changed_fetch_state(setup.db_path, ["a"], setup.seeded) == []
    from crawler.crawl.fetchstate import FetchState

    db = connect(setup.db_path)
    assert FetchState(db).known_entries("a") == {"http://127.0.0.2:1/d.html": "fp"}
    assert db.execute("SELECT baseline_done FROM portals").fetchone()[0] == 1
    FetchState(db).record("http://127.0.0.2:1/list.html", portal_id="a", kind="list", status=304)
    db.conn.close()
    changed = changed_fetch_state(setup.db_path, ["a"], setup.seeded)
    assert [row["url"] for row in changed] == ["http://127.0.0.2:1/list.html"]


def test_an_installed_copy_shadowing_the_deployed_egg_is_refused(tmp_path, monkeypatch):
    egg = tmp_path / "eggs" / "govwatch" / "1.egg"
    egg.parent.mkdir(parents=True)
    with zipfile.ZipFile(egg, "w") as archive:
        archive.writestr("crawler/__init__.py", "")
    assert code_check() is None
    monkeypatch.syspath_prepend(str(egg))  # as scrapyd's runner activates it: crawler is imported already
    message = code_check()
    assert message and str(egg) in message and "installed govwatch" in message


def test_the_checkout_scrapyd_conf_is_the_node_config_and_has_no_credentials(tmp_path):
    assert (REPO / "scrapyd.cfg").read_text(encoding="utf-8") == NODE_CONFIG
    parser = configparser.ConfigParser()
    parser.read_string(NODE_CONFIG)
    node = parser["scrapyd"]
    assert node["bind_address"] == "127.0.0.1" and node["items_dir"] and node["jobs_to_keep"]
    assert "username" not in node and "password" not in node
    write_node_config(tmp_path / "n")
    project = configparser.ConfigParser()
    project.read(tmp_path / "n" / "scrapy.cfg")
    assert project["settings"]["govwatch"] == "crawler.settings"
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "scrapyd.conf").write_text("[scrapyd]\npassword = hunter2\n", encoding="utf-8")
    with pytest.raises(NodeStartError, match="SCRAPYD_PASSWORD") as failure:
        write_node_config(bad)
    assert "hunter2" not in str(failure.value)


def test_a_node_reachable_from_other_machines_needs_credentials():
    with pytest.raises(NodeStartError, match="SCRAPYD_USERNAME"):
        node_environment(bind="0.0.0.0", env={})
    env = node_environment(bind="0.0.0.0", port=6801, env={"SCRAPYD_USERNAME": "u", "SCRAPYD_PASSWORD": "p"})
    assert env["SCRAPYD_BIND_ADDRESS"] == "0.0.0.0" and env["SCRAPYD_HTTP_PORT"] == "6801"
    assert node_environment(port=6802, env={})["SCRAPYD_HTTP_PORT"] == "6802"


@pytest.mark.parametrize("text, message", [
    ('[crawl]\nbackend = "cluster"\n', "x.toml:2: backend must be one of local, scrapyd"),
    ('[crawl]\nbackend = "scrapyd"\n', "x.toml:2: backend = \"scrapyd\" needs [crawl] scrapyd_nodes"),
    ('[crawl]\nscrapyd_nodes = ["http://gw:s3cret@127.0.0.1:6800"]\n', "x.toml:2: [crawl] scrapyd_nodes: 127.0.0.1: no credentials"),
    ('[crawl]\nscrapyd_nodes = ["127.0.0.1:6800"]\n', "x.toml:2: [crawl] scrapyd_nodes: malformed URL"),
    ('[crawl]\nscrapyd_jobs_per_node = 0\n', "x.toml:2: scrapyd_jobs_per_node must be >= 1"),
])
def test_backend_keys_are_checked_at_load(text, message):
    with pytest.raises(ConfigError) as failure:
        parse_config(text, "x.toml")
    assert str(failure.value).startswith(message)
    assert "s3cret" not in str(failure.value)


def test_a_job_is_adopted_only_from_a_controller_that_is_gone():
    import socket
    import subprocess
    import sys

    from crawler.crawl.lifeline import process_started
    from crawler.crawl.scrapyd import controller

    host = socket.gethostname()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert not controller._alive(f"{host}:{gone.pid}:{process_started(os.getpid())}:x")  # dead
    assert not controller._alive(None)
    assert not controller._alive(f"{host}:{os.getpid()}:{process_started(os.getpid())}:old")  # ended in this process
    token = f"{host}:{os.getpid()}:{process_started(os.getpid())}:live"
    controller._FOLLOWING.add(token)
    try:
        assert controller._alive(token)  # a sibling crawl of this process (the daemon's threads)
    finally:
        controller._FOLLOWING.discard(token)
    assert controller._alive(f"{host}:{os.getppid()}:{process_started(os.getppid())}:x")  # another live process
    assert controller._alive("other-machine:1:1:x")


# ---------------------------------------------------------------------------------------------------------
# the archive's records travel with the hand-back


def _node_archive(directory: Path, count: int):
    """A node's archive: `count` report pages and one attachment linked from all of them (WarcWriter);
    the pointers its items carry, and the bodies served."""
    from crawler.corpus.archive import Exchange, WarcWriter

    served, pointers = {}, []
    with WarcWriter(directory, info={"hostname": "node-a"}) as writer:
        attachment_url = "http://127.0.0.2:1/files/report.docx"
        served[attachment_url] = os.urandom(3000)  # incompressible: its member is big
        attachment = writer.write_exchange(Exchange(attachment_url, 200, [("Content-Type", "application/msword")],
                                                    served[attachment_url]))
        for n in range(count):
            url = f"http://127.0.0.2:1/d{n}.html"
            served[url] = f"<html><body><h1>某{n}2023年法治政府建设年度报告</h1>{REPORT}</body></html>".encode()
            html = [("Content-Type", "text/html; charset=utf-8")]
            page = writer.write_exchange(Exchange(url, 200, html, served[url]))
            pointers.append([dict(page, role="page"), dict(attachment, role="attachment")])
    return pointers, served


def _handback_file(path: Path, items: list[dict], node_archive: Path | None) -> Path:
    """The hand-back a node writes (node.HandBack): each record once, before the first document needing it."""
    from crawler.corpus.archive import read_member
    from crawler.crawl.scrapyd.jobs import member_record

    lines, handed = [record("header", format=2, job="j1")], set()
    for item in items:
        for pointer in item.get("archive") or []:
            key = (pointer["file"], pointer["offset"])
            if node_archive is not None and key not in handed:
                lines.append(member_record(pointer, read_member(node_archive, pointer)))
                handed.add(key)
        lines.append(record("document", item=item))
    lines.append(record("run", portal="a", stats={"status": "ok", "requests": 5, "pages": 1, "errors": 0}))
    lines.append(record("end", records=len(lines) + 1, close_reason="finished"))
    path.write_text("".join(lines), encoding="utf-8")
    return path


def _archived_items(tmp_path: Path, count: int = 3):
    import shutil

    pointers, served = _node_archive(tmp_path / "node-archive", count)
    items = [dict(_handback(count).documents[n], archive=pointers[n]) for n in range(count)]
    path = _handback_file(tmp_path / "j1.jl", items, tmp_path / "node-archive")
    shutil.rmtree(tmp_path / "node-archive")  # as the node removes the job's scratch directory
    return path, served


def _captures(db) -> list[dict]:
    """The captures as pointers (`read_capture` takes them)."""
    cursor = db.execute("SELECT d.url AS document, c.url, c.role, c.warc_file AS file, c.warc_offset AS offset, "
                        "c.warc_length AS length, c.record_id, c.status, c.payload_digest AS digest "
                        "FROM captures c JOIN documents d ON d.id = c.document_id")
    return [dict(zip([c[0] for c in cursor.description], row)) for row in cursor.fetchall()]


def test_the_handback_carries_the_records_and_ingest_moves_them_into_the_controllers_archive(tmp_path):
    from crawler.corpus.archive import WarcWriter, iter_file, read_capture

    db, _ = _controller_db(tmp_path)
    path, served = _archived_items(tmp_path)
    with open(path, "rb") as handle:
        back = read_handback(handle, "j1")
        assert len(back.members) == 4 and all(isinstance(at, int) for at in back.members.values())  # not the bytes
        with WarcWriter(tmp_path / "archive") as archive:
            results = ingest_job(db, "j1", back, policy=AlertPolicy(), archive=archive)
    assert results["a"].status == "ok" and results["a"].new_documents == 3
    captures = _captures(db)
    assert len(captures) == 6 and {c["role"] for c in captures} == {"page", "attachment"}
    files = {c["file"] for c in captures}
    assert files == set(archive.files) and all((tmp_path / "archive" / name).exists() for name in files)
    for capture in captures:
        read = read_capture(tmp_path / "archive", capture)
        assert read.body == served[capture["url"]] and read.status == 200
        assert read.record_id == capture["record_id"] and read.payload_digest == capture["digest"]
    attachment_places = {(c["file"], c["offset"]) for c in captures if c["role"] == "attachment"}
    assert len(attachment_places) == 1  # one record for the attachment of three documents
    # the controller's file is a WARC file like any other: its warcinfo, then the four records, whole
    records = [r for name in files for r in iter_file(tmp_path / "archive" / name)]
    assert [r.record_type for r in records] == ["warcinfo"] + ["response"] * 4
    assert sorted(r.offset for r in records[1:]) == sorted({c["offset"] for c in captures})


def test_a_redone_ingest_points_at_whole_records_only(tmp_path, monkeypatch):
    from crawler.corpus.archive import WarcWriter, iter_file, read_capture

    db, _ = _controller_db(tmp_path)
    path, served = _archived_items(tmp_path)
    real_store = ingest_module.store_document
    calls = []

    def dying_store(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt  # killed after two documents' records were appended
        return real_store(*args, **kwargs)

    monkeypatch.setattr(ingest_module, "store_document", dying_store)
    archive_dir = tmp_path / "archive"
    with open(path, "rb") as handle, WarcWriter(archive_dir) as archive, pytest.raises(KeyboardInterrupt):
        ingest_job(db, "j1", read_handback(handle, "j1"), policy=AlertPolicy(), archive=archive)
    assert _captures(db) == []
    first = {name: (archive_dir / name).stat().st_size for name in archive.files}
    # as if the controller had been killed mid-append: its file still `.open`, ending in half a member
    [name] = first
    killed = archive_dir / (name + ".open")
    (archive_dir / name).rename(killed)
    with open(killed, "ab") as cut:
        cut.write(killed.read_bytes()[-200:-100])

    monkeypatch.setattr(ingest_module, "store_document", real_store)
    with open(path, "rb") as handle, WarcWriter(archive_dir) as archive:  # the next controller
        assert archive.recovered == [(name, 100)]
        results = ingest_job(db, "j1", read_handback(handle, "j1"), policy=AlertPolicy(), archive=archive)
    assert results["a"].new_documents == 3
    captures = _captures(db)
    assert len(captures) == 6 and {c["file"] for c in captures} == set(archive.files)  # the redo's copies
    assert all(read_capture(archive_dir, c).body == served[c["url"]] for c in captures)
    # the first attempt's copies (all four: the third document's page went in before its store died),
    # whole records that nothing points at
    assert [r.record_type for r in iter_file(archive_dir / name)] == ["warcinfo"] + ["response"] * 4
    assert name not in {c["file"] for c in captures}


def test_with_the_archive_off_the_records_are_dropped_and_no_capture_is_stored(tmp_path):
    db, _ = _controller_db(tmp_path)
    path, _ = _archived_items(tmp_path)
    with open(path, "rb") as handle:
        results = ingest_job(db, "j1", read_handback(handle, "j1"), policy=AlertPolicy(), archive=None)
    assert results["a"].new_documents == 3
    assert db.execute("SELECT count(*) FROM documents").fetchone()[0] == 3
    assert db.execute("SELECT count(*) FROM captures").fetchone()[0] == 0
    assert not (tmp_path / "archive").exists()


def test_a_pointer_without_its_record_in_the_handback_is_dropped(tmp_path):
    """An older node's hand-back (pointers into files the controller does not have): no capture points nowhere."""
    from crawler.corpus.archive import WarcWriter

    db, _ = _controller_db(tmp_path)
    pointers, _ = _node_archive(tmp_path / "node-archive", 2)
    items = [dict(_handback(2).documents[n], archive=pointers[n]) for n in range(2)]
    path = _handback_file(tmp_path / "j1.jl", items, None)
    with open(path, "rb") as handle, WarcWriter(tmp_path / "archive") as archive:
        results = ingest_job(db, "j1", read_handback(handle, "j1"), policy=AlertPolicy(), archive=archive)
    assert results["a"].new_documents == 2 and _captures(db) == []


def test_append_member_takes_whole_warc_records_a_response_and_its_request_only(tmp_path):
    import gzip

    from crawler.corpus.archive import ArchiveError, Exchange, WarcWriter, iter_file, read_capture, read_member

    with WarcWriter(tmp_path / "a") as writer:
        pointer = writer.write_exchange(Exchange("http://127.0.0.2:1/x.html", 200, [], b"<html>x</html>",
                                                 request_headers=[("User-Agent", "govwatch-test")]))
        response = read_member(tmp_path / "a", pointer)
        exchange = read_member(tmp_path / "a", {**pointer, "length": pointer["exchange_length"]})
    assert len(response) == pointer["length"] < len(exchange)
    with WarcWriter(tmp_path / "b") as target:
        for bad, message in [(response[:-9], "cut short"), (exchange[:-9], "cut short"),
                             (response + response, "not its request record"),
                             (response + b"junk", "not a gzip member"),
                             (gzip.compress(b"<html>not a record</html>"), "no WARC record"),
                             (b"plain bytes", "not a gzip member"), (b"", "no gzip member")]:
            with pytest.raises(ArchiveError, match=message):
                target.append_member(bad, pointer)
        alone = target.append_member(response, pointer)  # an older node's hand-back: the response only
        moved = target.append_member(exchange, pointer)
    assert alone["length"] == alone["exchange_length"] == len(response)
    assert moved["file"] != pointer["file"] and (moved["length"], moved["exchange_length"]) == \
        (pointer["length"], pointer["exchange_length"])
    assert {k: v for k, v in moved.items() if k not in ("file", "offset")} == \
        {k: v for k, v in pointer.items() if k not in ("file", "offset")}
    assert read_capture(tmp_path / "b", moved).body == b"<html>x</html>"
    records = [r for r in iter_file(tmp_path / "b" / moved["file"]) if r.offset >= moved["offset"]]
    assert [r.record_type for r in records] == ["response", "request"]
