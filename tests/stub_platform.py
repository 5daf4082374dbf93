"""A local HTTP stub of a platform's integration endpoint: it records every request (headers and
raw body bytes) and answers as the test scripted it.

    with StubPlatform() as stub:
        stub.answer(201, {"external_id": "x1", "url": "https://example.com/x1"})
        ... send to stub.url ...
        assert stub.requests[0].body == ...

Answers are used in order; the last one repeats. A real server on 127.0.0.1 and a random port, in a
thread: the publisher's sockets, timeouts and header parsing are exercised for real.
"""

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict  # lower-cased names
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait after reading the request, before answering


class StubPlatform:
    def __init__(self):
        self.requests = []
        self._answers = [Answer()]
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                answer = stub._record(RecordedRequest(
                    method="POST", path=self.path, headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                ))
                if answer.delay:
                    time.sleep(answer.delay)
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (a timeout test)

            def log_message(self, format, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, status=200, body=b"", *, headers=None, delay=0.0, then=None):
        """Script the next answers: this one, then each of `then` (Answer objects)."""
        if isinstance(body, dict | list):
            body = json.dumps(body).encode()
            headers = {"Content-Type": "application/json", **(headers or {})}
        elif isinstance(body, str):
            body = body.encode()
        with self._lock:
            self._answers = [Answer(status, body, headers or {}, delay), *(then or [])]

    def _record(self, request):
        with self._lock:
            self.requests.append(request)
            return self._answers.pop(0) if len(self._answers) > 1 else self._answers[0]

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def closed_port_url():
    """An address where nothing listens: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"
