"""Regenerates the sample log set under examples/logs/ (committed; run again only to change it):
  logs/backend/django.log          JSON lines, as python-json-logger writes them in production
  logs/backend/django_errors.log   Django's verbose text format, errors only, with real Python tracebacks
  logs/containers/<id>/<id>-json.log   Docker's json-file driver, with a 40 KiB line split in 16 KiB pieces
Timestamps are fixed so the output is the same every time. Run with Debian's python3: /usr/bin/python3 make_samples.py
"""
import json
import os
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
BACKEND = os.path.join(HERE, "logs", "backend")
CONTAINER_ID = "3f4e1c2b9a8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f"
CONTAINER = os.path.join(HERE, "logs", "containers", CONTAINER_ID)
os.makedirs(BACKEND, exist_ok=True)
os.makedirs(CONTAINER, exist_ok=True)


def real_traceback():
    try:
        try:
            {}["user_id"]
        except KeyError as exc:
            raise ValueError("profile lookup failed") from exc
    except ValueError:
        # The real traceback, with this script's path replaced by one that looks like an app's.
        return traceback.format_exc().rstrip("\n").replace(os.path.abspath(__file__), "/app/backend/api/views.py")


TB = real_traceback()

with open(os.path.join(BACKEND, "django.log"), "w") as f:
    for i in range(40):
        rec = {
            "asctime": f"2026-11-27 12:00:{i:02d},{(i * 37) % 1000:03d}",
            "levelname": "ERROR" if i % 10 == 9 else "INFO",
            "name": "django.request" if i % 10 == 9 else "django.server",
            "message": f"Internal Server Error: /api/accreditations/{i}" if i % 10 == 9 else f"\"GET /api/items/{i} HTTP/1.1\" 200 512",
            "status_code": 500 if i % 10 == 9 else 200,
            "request_id": f"req-{i:04d}",
        }
        if i % 10 == 9:
            rec["exc_info"] = TB
        f.write(json.dumps(rec) + "\n")

with open(os.path.join(BACKEND, "django_errors.log"), "w") as f:
    for i in range(5):
        f.write(f"ERROR 2026-11-27 12:01:{i:02d},500 views 4242 140245 Internal Server Error: /api/accreditations/{i}\n")
        f.write(TB + "\n")
    f.write("[2026-11-27 12:02:00,000] WARNING django.security.csrf: Forbidden (CSRF cookie not set.): /api/login\n")

with open(os.path.join(CONTAINER, f"{CONTAINER_ID}-json.log"), "w") as f:
    def entry(log, stream, second, nanos):
        f.write(json.dumps({"log": log, "stream": stream, "time": f"2026-11-27T12:03:{second:02d}.{nanos:09d}Z"}, separators=(",", ":")) + "\n")

    entry("Booting worker with pid: 7\n", "stderr", 0, 1)
    for i in range(10):
        rec = {"asctime": f"2026-11-27 12:03:{i:02d},000", "levelname": "INFO", "name": "django.server", "message": f"\"GET /health/ HTTP/1.1\" 200 2 ({i})"}
        entry(json.dumps(rec) + "\n", "stdout", i, 123456789)
    big = "A" * (40 * 1024)  # Docker splits a line longer than 16 KiB into pieces without a trailing newline
    pieces = [big[i:i + 16384] for i in range(0, len(big), 16384)]
    for n, piece in enumerate(pieces):
        last = n == len(pieces) - 1
        entry(piece + ("\n" if last else ""), "stdout", 20, n)
        if n == 0:
            entry("a stderr line between the pieces\n", "stderr", 20, 500)
    entry("ERROR 2026-11-27 12:03:30,000 views 7 140245 Internal Server Error: /api/x\n", "stderr", 30, 0)
    for line in TB.split("\n"):
        entry(line + "\n", "stderr", 30, 1)

# logs/containers/<id>/config.v2.json: dockerd's record of the container (a compose service `backend`), the test
# fixture test/containers/fixtures/compose-backend.config.v2.json byte for byte under this id (and short id).
FIXTURE = os.path.join(HERE, "..", "test", "containers", "fixtures", "compose-backend.config.v2.json")
FIXTURE_ID = "7c0a3e1f5b9d4c2e8a6f1b3d5e7c9a0b2d4f6e8a1c3b5d7f9e0a2c4b6d8f1e3a"
with open(FIXTURE, "rb") as f:
    config = f.read().replace(FIXTURE_ID.encode(), CONTAINER_ID.encode()).replace(FIXTURE_ID[:12].encode(), CONTAINER_ID[:12].encode())
with open(os.path.join(CONTAINER, "config.v2.json"), "wb") as f:
    f.write(config)
