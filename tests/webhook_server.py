"""A local notification sink for the alert tests: a generic JSON webhook plus fake DingTalk, WeCom and
Feishu/Lark bot endpoints on 127.0.0.1, recording every POST.

    with WebhookServer() as hook:
        hook.json_url("hook")          # json://127.0.0.1:PORT/hook          (Apprise generic JSON)
        hook.dingtalk_url("TOKEN")     # dingtalk://TOKEN/?endpoint=http://127.0.0.1:PORT
        hook.wecom_url("KEY")          # wecombot://KEY/?endpoint=...
        hook.feishu_url("TOKEN")       # feishu://TOKEN/?endpoint=...
        hook.fail_next(3)              # the next 3 posts answer HTTP 500
        hook.errcode(True)             # bots answer HTTP 200 + {"errcode": 310000, ...} / {"code": 19001, ...}
        hook.hang()                    # posts are read and recorded, then never answered
        hook.trickle(3.0)              # posts are answered one byte every 3 s (no socket read timeout fires)
        hook.posts                     # [{"path", "query", "json", "at", "status", "client_gone_at"}]

A hanging or trickling answer ends when the client closes the connection (recorded as the post's
`client_gone_at`, so a test can tell that a send was really stopped) or the server stops.
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class WebhookServer:
    def __init__(self, port: int = 0):
        self.posts: list[dict] = []
        self._fail = 0
        self._fail_status = 500
        self._errcode = False
        self._down = False
        self._slow: tuple[str, float] | None = None  # ("hang" | "trickle", seconds per byte)
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                try:
                    body = json.loads(raw.decode("utf-8")) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                status, answer = outer._answer(parts.path)
                post = {"path": parts.path, "query": parse_qs(parts.query), "json": body, "status": status,
                        "at": time.time(), "client_gone_at": None}
                with outer._lock:
                    outer.posts.append(post)
                    slow = outer._slow
                data = json.dumps(answer).encode("utf-8")
                if slow is not None:
                    self.answer_slowly(post, slow, data)
                    return
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def answer_slowly(self, post: dict, slow: tuple[str, float], data: bytes) -> None:
                mode, interval = slow
                answer = (b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                          + str(len(data)).encode() + b"\r\n\r\n" + data)
                position = 0
                while not outer._stopping.is_set():
                    if self.client_gone(interval):
                        post["client_gone_at"] = time.time()
                        return
                    if mode == "trickle":
                        try:
                            self.connection.sendall(answer[position:position + 1])
                        except OSError:
                            post["client_gone_at"] = time.time()
                            return
                        position += 1
                        if position >= len(answer):
                            return
                self.close_connection = True

            def client_gone(self, wait: float) -> bool:
                """Waits up to `wait` s; True once the client closed its end (EOF or reset)."""
                ready, _, _ = select.select([self.connection], [], [], wait)
                if not ready:
                    return False
                try:
                    return self.connection.recv(1, socket.MSG_PEEK) == b""
                except OSError:
                    return True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread: threading.Thread | None = None

    # -- control -------------------------------------------------------------------------------------
    def fail_next(self, n: int, status: int = 500) -> None:
        with self._lock:
            self._fail, self._fail_status = n, status

    def errcode(self, on: bool = True) -> None:
        with self._lock:
            self._errcode = on

    def hang(self) -> None:
        """From now on, read each post and never answer it."""
        with self._lock:
            self._slow = ("hang", 0.2)

    def trickle(self, seconds_per_byte: float = 3.0) -> None:
        """From now on, answer each post one byte every `seconds_per_byte` s (~150 bytes: minutes)."""
        with self._lock:
            self._slow = ("trickle", seconds_per_byte)

    def answer_normally(self) -> None:
        with self._lock:
            self._slow = None

    def _answer(self, path: str) -> tuple[int, dict]:
        with self._lock:
            if self._fail > 0:
                self._fail -= 1
                return self._fail_status, {"error": "injected failure"}
            errcode = self._errcode
        is_feishu = path.startswith("/open-apis/bot/v2/hook")
        if errcode and (path.startswith("/robot/send") or path.startswith("/cgi-bin/webhook/send")):
            return 200, {"errcode": 310000, "errmsg": "keywords not in content, more: [https://ding-doc]"}
        if errcode and is_feishu:
            return 200, {"code": 19001, "msg": "param invalid: incoming webhook access token invalid"}
        if is_feishu:
            return 200, {"code": 0, "msg": "success", "data": {}}
        return 200, {"errcode": 0, "errmsg": "ok"}

    # -- URLs ----------------------------------------------------------------------------------------
    def json_url(self, path: str = "hook") -> str:
        return f"json://127.0.0.1:{self.port}/{path}"

    def dingtalk_url(self, token: str = "dtok0123456789abcdef", secret: str | None = None) -> str:
        user = f"{secret}@" if secret else ""
        return f"dingtalk://{user}{token}/?endpoint={self.base}"

    def wecom_url(self, key: str = "wkey0123456789abcdef") -> str:
        return f"wecombot://{key}/?endpoint={self.base}"

    def feishu_url(self, token: str = "ftok0123456789abcdef") -> str:
        return f"feishu://{token}/?endpoint={self.base}"

    def posts_to(self, path_prefix: str, ok_only: bool = True) -> list[dict]:
        with self._lock:
            return [p for p in self.posts if p["path"].startswith(path_prefix)
                    and (not ok_only or p["status"] == 200)]

    # -- lifecycle -----------------------------------------------------------------------------------
    def start(self) -> "WebhookServer":
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> "WebhookServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


if __name__ == "__main__":  # python tests/webhook_server.py [port]: a sink for manual tries
    import sys

    server = WebhookServer(int(sys.argv[1]) if len(sys.argv) > 1 else 9000).start()
    print(f"listening on {server.base}; json: {server.json_url()}")
    try:
        while True:
            time.sleep(1)
            for post in server.posts[-1:]:
                pass
    except KeyboardInterrupt:
        server.stop()
