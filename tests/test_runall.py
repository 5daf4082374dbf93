"""`make run`'s launcher: with no configuration it prepares SQLite, seeds the demo, creates the admin,
serves with a worker and beat, and stops all three on SIGTERM."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid):
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture
def launcher(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE", "SECRET_KEY")}
    env.update(DEBUG="1", PORT=str(port), RUN_DIR=str(tmp_path / "run"),
               DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", DJANGO_SUPERUSER_USERNAME="root",
               DJANGO_SUPERUSER_EMAIL="root@example.com", DJANGO_SUPERUSER_PASSWORD="Root-pass-2026",
               WEB_CONCURRENCY="1", CELERY_CONCURRENCY="1")
    log = (tmp_path / "run.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "config.runall"], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    yield process, port, tmp_path
    if process.poll() is None:
        process.kill()
        process.wait()


def test_it_serves_seeds_and_stops_everything_on_sigterm(launcher):
    process, port, tmp_path = launcher
    deadline = time.monotonic() + 120
    health = None
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                health = json.loads(response.read())
                break
        except OSError:
            time.sleep(0.5)
    log = (tmp_path / "run.log").read_text()
    assert health == {"status": "ok", "database": "ok", "broker": "ok"}, log
    # Worker and beat are up too: three children.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and "beat: Starting" not in (tmp_path / "run.log").read_text():
        time.sleep(0.5)
    children = _children(process.pid)
    assert len(children) == 3, children
    log = (tmp_path / "run.log").read_text()
    assert "Seeded brand Aurora Motors" in log
    assert "Admin root created." in log
    assert f"http://localhost:{port}/" in log

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=40) == 0
    time.sleep(0.5)
    assert [pid for pid in children if _alive(pid)] == []
    assert "Stopped." in (tmp_path / "run.log").read_text()
