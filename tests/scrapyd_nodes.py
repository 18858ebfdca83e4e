"""Real scrapyd nodes for the tests: each in its own working directory on its own loopback port, started
and stopped by the tests (their own process group, so a node can be killed whole, as a machine dies).

    with ScrapydNode(tmp / "a") as node:               # govwatch installed in the node's environment
        node.url                                       # http://127.0.0.1:PORT
    egg = ScrapydNode(tmp / "b", python=egg_python(tmp / "venv"))   # an environment without govwatch
    deploy_egg(egg.url, tmp / "src")                   # scrapyd-deploy from a copy of the checkout
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

from crawler.crawl.scrapyd.service import start_node, wait_ready

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ScrapydNode:
    def __init__(self, directory: Path, *, python: str | None = None, env: dict | None = None):
        self.directory = Path(directory)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.python = python
        self.env = dict(os.environ if env is None else env)
        self.env.pop("PYTHONPATH", None)  # the node sees what its environment installs, not the checkout
        self.process: subprocess.Popen | None = None

    def start(self) -> "ScrapydNode":
        self.directory.mkdir(parents=True, exist_ok=True)
        self.log = open(self.directory / "scrapyd.out", "ab")  # noqa: SIM115 - closed in stop()
        self.process = start_node(self.directory, port=self.port, env=self.env, python=self.python, log=self.log)
        try:
            wait_ready(self.url, self.process, timeout=60, env=self.env)
        except BaseException:
            self.stop()  # __exit__ is not called when __enter__ raises
            raise
        return self

    def kill(self) -> None:
        """SIGKILL the node and every crawl it runs (the machine died)."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=15)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        try:  # crawls the node started and that outlived it
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError, AttributeError):
            pass
        if hasattr(self, "log"):
            self.log.close()

    def scrapyd_log(self) -> str:
        return (self.directory / "scrapyd.out").read_text(errors="replace")

    def __enter__(self) -> "ScrapydNode":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def egg_python(venv: Path) -> str:
    """A Python environment with govwatch's dependencies and scrapyd but not govwatch itself (an egg node):
    a bare venv whose .pth adds this environment's site-packages as a plain path -- .pth files inside it,
    such as the editable install's finder, are not processed, so `import crawler` fails there."""
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    site = Path(subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "govwatch-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    return str(venv / "bin" / "python")


def copy_checkout(target: Path) -> Path:
    """The checkout's tracked files (and this branch's new ones) in `target`: scrapyd-deploy builds there, so
    the build leaves nothing in the checkout."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True,
                           text=True, check=True).stdout.splitlines()
    for name in files:
        source = REPO / name
        if not source.is_file():
            continue
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(source.read_bytes())
    return target


def deploy_egg(url: str, source: Path, *, project: str = "govwatch", version: str = "1") -> str:
    """`scrapyd-deploy` of a copy of the checkout to the node at `url`; returns its output."""
    if not (source / "scrapy.cfg").exists():
        copy_checkout(source)
    config = (source / "scrapy.cfg").read_text(encoding="utf-8")
    (source / "scrapy.cfg").write_text(config + f"\n[deploy:test]\nurl = {url}/\nproject = {project}\n",
                                       encoding="utf-8")
    started = time.monotonic()  # scrapyd-deploy is this module's main()
    result = subprocess.run([sys.executable, "-m", "scrapyd_client.deploy", "test", "-v", version], cwd=source,
                            capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"scrapyd-deploy failed ({time.monotonic() - started:.0f} s): {result.stdout}{result.stderr}")
    return result.stdout + result.stderr
