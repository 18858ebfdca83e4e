"""A local notification sink for the alert tests: a generic JSON webhook plus fake DingTalk, WeCom and
Feishu/Lark bot endpoints on 127.0.0.1, recording every POST.

    with WebhookServer() as hook:
        hook.json_url("hook")          # json://127.0.0.1:PORT/hook          (Apprise generic JSON)
        hook.dingtalk_url("TOKEN")     # dingtalk://TOKEN/?endpoint=http://127.0.0.1:PORT
        hook.wecom_url("KEY")          # wecombot://KEY/?endpoint=...
        hook.feishu_url("TOKEN")       # feishu://TOKEN/?endpoint=...
        hook.fail_next(3)              # the next 3 posts answer HTTP 500
        hook.errcode(True)             # bots answer HTTP 200 + {"errcode": 310000, ...} / {"code": 19001, ...}
        hook.posts                     # [{"path", "query", "json", "at"}]
"""

from __future__ import annotations

import json
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
                with outer._lock:
                    outer.posts.append({"path": parts.path, "query": parse_qs(parts.query), "json": body,
                                        "status": status, "at": time.time()})
                data = json.dumps(answer).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

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
