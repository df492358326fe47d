"""Writes Django-style log records the way a Django app does: through Python's own logging module and
logging.handlers.RotatingFileHandler, with python-json-logger for JSON lines (Debian's python3-pythonjsonlogger).

Usage: django_writer.py PATH --count N [--start S] [--format json|text] [--max-bytes B] [--backups K]
                        [--rate LINES_PER_S] [--traceback-every N]

Every record's message carries "seq=<n>", so a test can count unique records end to end. With --traceback-every,
every n-th record is logged with logger.exception() inside a chained exception, so the file holds real
multi-line Python tracebacks.
"""
import argparse
import logging
import logging.handlers
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("path")
parser.add_argument("--count", type=int, required=True)
parser.add_argument("--start", type=int, default=0)
parser.add_argument("--format", choices=["json", "text"], default="json")
parser.add_argument("--max-bytes", type=int, default=0)
parser.add_argument("--backups", type=int, default=5)
parser.add_argument("--rate", type=float, default=0.0)
parser.add_argument("--traceback-every", type=int, default=0)
parser.add_argument("--pad", type=int, default=0, help="extra characters in each message")
parser.add_argument("--sizes", default="", help="write each record's seq and its size in the file (bytes) to this file")
args = parser.parse_args()

handler = logging.handlers.RotatingFileHandler(args.path, maxBytes=args.max_bytes, backupCount=args.backups, encoding="utf-8")
if args.format == "json":
    from pythonjsonlogger import jsonlogger

    handler.setFormatter(jsonlogger.JsonFormatter("%(asctime)s %(levelname)s %(name)s %(module)s %(process)d %(thread)d %(message)s"))
else:
    # The verbose formatter of Django's logging docs: "{levelname} {asctime} {module} {process:d} {thread:d} {message}"
    handler.setFormatter(logging.Formatter("{levelname} {asctime} {module} {process:d} {thread:d} {message}", style="{"))

class SizeRecorder(logging.Filter):
    """Notes the bytes each record takes in the file (what the handler writes: the formatted text and a newline)."""

    def __init__(self, out):
        super().__init__()
        self.out = out

    def filter(self, record):
        self.out.write(f"{record.args[1]} {len((handler.format(record) + handler.terminator).encode('utf-8'))}\n")
        return True


log = logging.getLogger("django.request")
if args.sizes:
    sizes_file = open(args.sizes, "w")
    handler.addFilter(SizeRecorder(sizes_file))
log.setLevel(logging.DEBUG)
log.addHandler(handler)
log.propagate = False

pad = "x" * args.pad
interval = 1.0 / args.rate if args.rate > 0 else 0.0
next_at = time.monotonic()
for seq in range(args.start, args.start + args.count):
    if args.traceback_every and seq % args.traceback_every == 0:
        try:
            try:
                {}["missing"]
            except KeyError as exc:
                raise ValueError(f"bad value for seq={seq}") from exc
        except ValueError:
            log.exception("Internal Server Error: /api/items/%d seq=%d %s", seq, seq, pad, extra={"status_code": 500})
    else:
        log.info("GET /api/items/%d 200 seq=%d %s", seq, seq, pad, extra={"status_code": 200})
    if interval:
        next_at += interval
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
handler.close()
if args.sizes:
    sizes_file.close()
sys.stdout.write(f"wrote {args.count}\n")
