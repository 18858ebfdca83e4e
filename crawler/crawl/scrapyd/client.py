"""scrapyd's HTTP API as the controller uses it: schedule.json, status.json, listjobs.json, cancel.json,
daemonstatus.json and the job's items file.

Credentials come from SCRAPYD_USERNAME / SCRAPYD_PASSWORD (the variables scrapyd itself reads), never from the
node URL or the config file; errors name the node by its URL and never contain the password.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import urllib.error
import urllib.parse
import urllib.request

REQUEST_TIMEOUT = 10.0  # seconds per API call: a hung node must not hang the controller
# listspiders.json and schedule.json run `scrapy list` on the node (once per project version): seconds
SPIDER_LIST_TIMEOUT = 60.0


class NodeError(RuntimeError):
    """A node could not be used for a call (down, hung, refused); the message starts with the node's URL."""


class NodeDown(NodeError):
    """The node does not answer (refused, timed out, reset)."""


class NodeAuthError(NodeError):
    """The node refused our credentials (HTTP 401)."""


class NodeClient:
    def __init__(self, url: str, *, username: str | None = None, password: str | None = None,
                 timeout: float = REQUEST_TIMEOUT):
        self.url = url.rstrip("/")
        self.timeout = timeout
        username = os.environ.get("SCRAPYD_USERNAME", "") if username is None else username
        password = os.environ.get("SCRAPYD_PASSWORD", "") if password is None else password
        self._auth = None
        if username and password:
            token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
            self._auth = f"Basic {token}"

    def __repr__(self) -> str:
        return f"NodeClient({self.url!r})"  # never the credentials

    # ----- the API
    def daemon_status(self) -> dict:
        return self._json("GET", "daemonstatus.json")

    def list_spiders(self, project: str) -> list[str]:
        return self._json("GET", "listspiders.json", {"project": project}, timeout=SPIDER_LIST_TIMEOUT)["spiders"]

    def schedule(self, project: str, spider: str, job_id: str, args: dict[str, str],
                 settings: dict[str, str] | None = None) -> str:
        fields = [("project", project), ("spider", spider), ("jobid", job_id), *args.items()]
        fields += [("setting", f"{k}={v}") for k, v in (settings or {}).items()]
        return self._json("POST", "schedule.json", fields, timeout=SPIDER_LIST_TIMEOUT)["jobid"]

    def job_state(self, project: str, job_id: str) -> str | None:
        """pending | running | finished | None (the node does not know the job)."""
        return self._json("GET", "status.json", {"project": project, "job": job_id})["currstate"]

    def list_jobs(self, project: str) -> dict:
        return self._json("GET", "listjobs.json", {"project": project})

    def cancel(self, project: str, job_id: str, signal: str = "INT", *, timeout: float | None = None) -> str | None:
        return self._json("POST", "cancel.json", [("project", project), ("job", job_id), ("signal", signal)],
                          timeout=timeout).get("prevstate")

    def fetch(self, path: str, *, timeout: float | None = None) -> bytes:
        """A file the node serves (`/items/...`, `/logs/...`); NodeError naming it when it is not there."""
        return self._request("GET", path.lstrip("/"), timeout=timeout or max(self.timeout, 60.0))

    def download(self, path: str, destination, *, timeout: float | None = None) -> int:
        """`fetch` into the binary file `destination`, in chunks (a hand-back with its WARC records can be far
        larger than memory should hold); the bytes written."""
        return self._request("GET", path.lstrip("/"), timeout=timeout or max(self.timeout, 60.0),
                             into=destination)

    # ----- plumbing
    def _json(self, method: str, endpoint: str, fields=None, *, timeout: float | None = None) -> dict:
        body = self._request(method, endpoint, fields, timeout=timeout)
        try:
            data = json.loads(body)
        except ValueError:
            raise NodeError(f"{self.url}: {endpoint} answered something that is not JSON "
                            f"({body[:80]!r}): is this a scrapyd node?") from None
        if data.get("status") != "ok":
            raise NodeError(f"{self.url}: {endpoint}: {data.get('message') or data}")
        return data

    def _request(self, method: str, endpoint: str, fields=None, *, timeout: float | None = None, into=None):
        url = f"{self.url}/{endpoint}"
        data = None
        if fields and method == "GET":
            url += "?" + urllib.parse.urlencode(fields)
        elif fields:
            data = urllib.parse.urlencode(fields).encode("utf-8")
        request = urllib.request.Request(url, data=data, method=method)
        if self._auth:
            request.add_header("Authorization", self._auth)
        try:
            with urllib.request.urlopen(request, timeout=timeout or self.timeout) as response:
                if into is None:
                    return response.read()
                written = 0
                while chunk := response.read(1 << 20):
                    try:
                        into.write(chunk)
                    except OSError as exc:  # this machine's disk, not the node: not a NodeDown
                        raise RuntimeError(f"cannot save {url} here: {exc.strerror or exc}") from None
                    written += len(chunk)
                return written
        except urllib.error.HTTPError as exc:
            if exc.code == 401:
                given = "the credentials in SCRAPYD_USERNAME/SCRAPYD_PASSWORD were refused" if self._auth else \
                    "it needs credentials: set SCRAPYD_USERNAME and SCRAPYD_PASSWORD"
                raise NodeAuthError(f"{self.url}: HTTP 401 Unauthorized ({given})") from None
            if exc.code == 404:
                raise NodeError(f"{self.url}/{endpoint}: HTTP 404 Not Found") from None
            raise NodeError(f"{self.url}: {endpoint}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise NodeDown(f"{self.url}: does not answer ({reason})") from None
