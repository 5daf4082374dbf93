"""`make run`: prepare the database, then run the web server, a Celery worker and Celery beat.

All three stop together: on Ctrl-C or SIGTERM each gets SIGTERM (then SIGKILL after a grace
period), and if one of them dies the others are stopped too, so nothing is left running.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent
GRACE_SECONDS = 15


def manage(*args):
    subprocess.run([PYTHON, str(ROOT / "manage.py"), *args], cwd=ROOT, check=True)


def _truthy(value):
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _seeding():
    # Demo users have a known password: seed them only in development or when asked explicitly.
    return _truthy(os.environ.get("SEED_DEMO", "1" if _truthy(os.environ.get("DEBUG")) else "0"))


def prepare():
    from config.compile_translations import compile_all

    compile_all()
    manage("migrate", "--noinput")
    if not _truthy(os.environ.get("DEBUG")):
        manage("collectstatic", "--noinput", "-v0")
    if _seeding():
        manage("seed_demo")
    if os.environ.get("DJANGO_SUPERUSER_USERNAME"):
        manage("ensure_superuser")


def commands(port):
    workers = os.environ.get("WEB_CONCURRENCY", "2")
    return {
        "web": [str(BIN / "gunicorn"), "config.wsgi", "--bind", f"0.0.0.0:{port}", "--workers", workers,
                "--threads", "4", "--access-logfile", "-", "--graceful-timeout", "10"],
        "worker": [str(BIN / "celery"), "-A", "config", "worker", "--loglevel", "INFO",
                   "--concurrency", os.environ.get("CELERY_CONCURRENCY", "2")],
        "beat": [str(BIN / "celery"), "-A", "config", "beat", "--loglevel", "INFO"],
    }


def main():
    port = os.environ.get("PORT", "8000")
    prepare()
    processes = {}
    for name, command in commands(port).items():
        # Own session: Ctrl-C reaches only this supervisor, which then stops the children in order.
        processes[name] = subprocess.Popen(command, cwd=ROOT, start_new_session=True)
    print(f"\nSocial Matrix is running at http://localhost:{port}/  (web, worker and beat; Ctrl-C stops all)", flush=True)
    if _seeding():
        from matrix.demo import DEMO_PASSWORD, PEOPLE

        logins = ", ".join(username for username, *_ in PEOPLE)
        print(f"Demo logins (password {DEMO_PASSWORD}): {logins}", flush=True)
    if os.environ.get("DJANGO_SUPERUSER_USERNAME"):
        print(f"Admin: {os.environ['DJANGO_SUPERUSER_USERNAME']}", flush=True)
    print(flush=True)

    stopping = {"reason": None}

    def request_stop(signum, frame):
        stopping["reason"] = signal.Signals(signum).name

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    exit_code = 0
    while stopping["reason"] is None:
        for name, process in processes.items():
            if process.poll() is not None:
                print(f"{name} exited with code {process.returncode}; stopping the others.", flush=True)
                stopping["reason"] = name
                exit_code = 1
                break
        time.sleep(0.5)

    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    for name, process in processes.items():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"{name} did not stop in {GRACE_SECONDS}s; killing it.", flush=True)
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    print("Stopped.", flush=True)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
