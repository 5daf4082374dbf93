"""A local HTTP stub of a platform's integration endpoint: it records every request (headers and
raw body bytes) and answers as the test scripted it.

    with StubPlatform() as stub:
        stub.answer(201, {"external_id": "x1", "url": "https://example.com/x1"})
        ... send to stub.url ...
        assert stub.requests[0].body == ...

Answers are used in order; the last one repeats; or `script(request, n)` returns the Answer of the
n-th request (from 0). With `idempotent=True` the stub behaves as a platform honouring the
`Idempotency-Key`: a request whose key was already answered 2xx gets that answer again and is marked
`repeat` (it published nothing new); `published` maps each published key to its request. A delay
ends early when the stub closes. A real server on 127.0.0.1 and a random port, in a
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
    arrived_at: float = field(default_factory=time.time)  # wall clock, when the body was read
    repeat: bool = False  # an Idempotency-Key already published (idempotent mode): not a new post

    @property
    def key(self):
        return self.headers.get("idempotency-key")

    def json(self):
        return json.loads(self.body)


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait after reading the request, before answering


class StubPlatform:
    def __init__(self, *, idempotent=False, script=None):
        self.requests = []
        self.published = {}  # Idempotency-Key -> the request that published it (idempotent mode)
        self.idempotent = idempotent
        self.script = script
        self._answers = [Answer()]
        self._answered = {}  # Idempotency-Key -> the 2xx Answer it got
        self._lock = threading.Lock()
        self._closing = threading.Event()
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
                    stub._closing.wait(answer.delay)
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

        class Server(ThreadingHTTPServer):
            # A platform takes many connections at once (the dispatcher sends a batch's posts
            # together); the default listen backlog of 5 would refuse some before any was read.
            request_queue_size = 256

        self.server = Server(("127.0.0.1", 0), Handler)
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
            number = len(self.requests)
            self.requests.append(request)
            key = request.key
            if self.idempotent and key in self._answered:
                request.repeat = True
                return self._answered[key]
            if self.script is not None:
                answer = self.script(request, number)
            else:
                answer = self._answers.pop(0) if len(self._answers) > 1 else self._answers[0]
            if self.idempotent and key and 200 <= answer.status < 300:
                self._answered[key] = Answer(answer.status, answer.body, answer.headers)  # repeats: no delay
                self.published[key] = request
            return answer

    def snapshot(self):
        with self._lock:
            return list(self.requests)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._closing.set()
        self.server.shutdown()
        self.server.server_close()


def closed_port_url():
    """An address where nothing listens: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"
