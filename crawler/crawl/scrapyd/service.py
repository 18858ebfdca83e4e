"""Starting a scrapyd node: its working directory, its `scrapyd.conf`, the scrapyd process.

scrapyd reads `scrapyd.conf` in its working directory (and /etc/scrapyd/, ~/.scrapyd.conf, the closest
scrapy.cfg, which override it in that order). `NODE_CONFIG` is the file govwatch writes into a node's
directory as `scrapyd.conf`; the checkout's top-level `scrapyd.cfg` is the same text. Credentials are
never in the file: scrapyd takes SCRAPYD_USERNAME / SCRAPYD_PASSWORD from its environment, and the port
and address from SCRAPYD_HTTP_PORT / SCRAPYD_BIND_ADDRESS when they are set.
"""

from __future__ import annotations

import configparser
import ipaddress
import os
import subprocess
import sys
import time
from pathlib import Path

from crawler.crawl.scrapyd.client import NodeClient, NodeError

CONFIG_NAME = "scrapyd.conf"
NODE_CONFIG = """\
# A govwatch scrapyd node. scrapyd reads ./scrapyd.conf from the directory it starts in: `govwatch scrapyd`
# writes this file (the checkout's scrapyd.cfg) there under that name; /etc/scrapyd/scrapyd.conf,
# ~/.scrapyd.conf and the closest scrapy.cfg are read after it and override it.
[scrapyd]
# loopback only by default; SCRAPYD_BIND_ADDRESS / SCRAPYD_HTTP_PORT override these two
bind_address = 127.0.0.1
http_port = 6800
# no username/password here: scrapyd reads SCRAPYD_USERNAME and SCRAPYD_PASSWORD from its environment
max_proc = 0
max_proc_per_cpu = 2
# seconds between looks at the job queue (scrapyd's default, 5, delays every job start)
poll_interval = 1.0
# a job's log and its hand-back (the items file the controller fetches from /items/) are kept for the last
# jobs_to_keep jobs of the spider; the controller fetches a hand-back as soon as its job finishes
jobs_to_keep = 50
finished_to_keep = 200
logs_dir = logs
items_dir = items
eggs_dir = eggs
dbs_dir = dbs
# finished jobs survive a restart of the node, so a controller can still collect their hand-backs
jobstorage = scrapyd.jobstorage.SqliteJobStorage
"""


# Scrapy's own project file, beside scrapyd.conf: the installed deployment's project. scrapyd's schedule.json
# lists a project's spiders with `scrapy list`, which finds its settings module only in a scrapy.cfg (not in
# scrapyd.conf); scrapyd reads this file's [settings] too, so the project exists before any egg is uploaded.
# An egg uploaded under the same name is used instead, on a node without govwatch installed.
PROJECT_CONFIG = """\
# written by `govwatch scrapyd`: the scrapyd project {project} is govwatch as installed on this node
[settings]
{project} = crawler.settings
"""


class NodeStartError(RuntimeError):
    """The node could not be started; the message says why in one line."""


def write_node_config(directory: str | os.PathLike, project: str = "govwatch") -> Path:
    """The node's scrapyd.conf and scrapy.cfg in `directory` (each written unless it exists)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / CONFIG_NAME
    if not path.exists():
        path.write_text(NODE_CONFIG, encoding="utf-8")
    project_file = directory / "scrapy.cfg"
    if not project_file.exists():
        project_file.write_text(PROJECT_CONFIG.format(project=project), encoding="utf-8")
    check_node_config(path)
    return path


def check_node_config(path: Path) -> None:
    parser = configparser.ConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except configparser.Error as exc:
        raise NodeStartError(f"{path}: {exc}".replace("\n", " ")) from None
    for key in ("username", "password"):
        if parser.get("scrapyd", key, fallback=""):
            raise NodeStartError(f"{path}: [scrapyd] {key}: credentials do not belong in the file: set "
                                 "SCRAPYD_USERNAME and SCRAPYD_PASSWORD in the node's environment")


def node_environment(*, bind: str | None = None, port: int | None = None, env: dict | None = None) -> dict:
    env = dict(os.environ if env is None else env)
    if bind:
        env["SCRAPYD_BIND_ADDRESS"] = bind
    if port:
        env["SCRAPYD_HTTP_PORT"] = str(port)
    address = env.get("SCRAPYD_BIND_ADDRESS", "127.0.0.1")
    if not _loopback(address) and not (env.get("SCRAPYD_USERNAME") and env.get("SCRAPYD_PASSWORD")):
        raise NodeStartError(f"bind address {address} is reachable from other machines: set SCRAPYD_USERNAME "
                             "and SCRAPYD_PASSWORD first (scrapyd runs any project it is sent)")
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return address == "localhost"


def scrapyd_command(python: str | None = None) -> list[str]:
    return [python or sys.executable, "-m", "scrapyd"]


def start_node(directory: str | os.PathLike, *, bind: str | None = None, port: int | None = None,
               env: dict | None = None, python: str | None = None, log=None,
               project: str = "govwatch") -> subprocess.Popen:
    """Start scrapyd in `directory` (its own process group, so the whole node can be signalled at once)."""
    write_node_config(directory, project)
    environment = node_environment(bind=bind, port=port, env=env)
    try:
        return subprocess.Popen(scrapyd_command(python), cwd=str(directory), env=environment,
                                stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    except OSError as exc:
        raise NodeStartError(f"cannot start scrapyd: {exc}") from None


def wait_ready(url: str, process: subprocess.Popen | None = None, *, timeout: float = 30.0,
               env: dict | None = None) -> dict:
    """Wait until the node at `url` answers daemonstatus.json (with the credentials of `env`, by default this
    process's environment); NodeStartError after `timeout`."""
    env = os.environ if env is None else env
    client = NodeClient(url, timeout=2.0, username=env.get("SCRAPYD_USERNAME", ""),
                        password=env.get("SCRAPYD_PASSWORD", ""))
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise NodeStartError(f"scrapyd for {url} exited with code {process.returncode} before answering")
        try:
            return client.daemon_status()
        except NodeError as exc:
            last = str(exc)
        time.sleep(0.2)
    raise NodeStartError(f"{url}: not ready after {timeout:g} s ({last})")


def scrapyd_installed(python: str | None = None) -> bool:
    if python is None:
        import importlib.util

        return importlib.util.find_spec("scrapyd") is not None
    return subprocess.run([python, "-c", "import scrapyd"], capture_output=True).returncode == 0


def node_address(directory: str | os.PathLike, *, bind: str | None = None, port: int | None = None) -> str:
    """The URL the node in `directory` listens on (the overrides, else its scrapyd.conf, else scrapyd's defaults)."""
    parser = configparser.ConfigParser()
    parser.read(Path(directory) / CONFIG_NAME, encoding="utf-8")
    bind = bind or os.environ.get("SCRAPYD_BIND_ADDRESS") or parser.get("scrapyd", "bind_address", fallback="127.0.0.1")
    port = port or os.environ.get("SCRAPYD_HTTP_PORT") or parser.get("scrapyd", "http_port", fallback="6800")
    return f"http://{bind}:{port}"


def serve_node(directory: str | os.PathLike, *, bind: str | None = None, port: int | None = None,
               project: str = "govwatch", ready=None) -> int:
    """Run a node in the foreground until SIGTERM/SIGINT, which stop scrapyd (and its crawls) gracefully;
    returns scrapyd's exit code. `ready(url)` is called once the node answers."""
    import signal

    if not scrapyd_installed():
        raise NodeStartError("scrapyd is not installed here: pip install 'govwatch[scrapyd]'")
    process = start_node(directory, bind=bind, port=port, project=project, log=sys.stderr)
    url = node_address(directory, bind=bind, port=port)

    stopping = []

    def forward(signum, frame):
        stopping.append(signum)
        if process.poll() is None:
            process.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        if ready is not None:
            try:
                wait_ready(url.replace("0.0.0.0", "127.0.0.1"), process, timeout=60)
            except NodeStartError:
                if not stopping:
                    raise
            else:
                ready(url)
        code = process.wait()
        # twistd ends by the signal it was stopped with: a stop we asked for is a clean exit
        return 0 if stopping and code in (-signal.SIGTERM, -signal.SIGINT) else code
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if process.poll() is None:
            process.kill()
            process.wait()
