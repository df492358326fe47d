"""Writes Django-style log records the way a Django app does: through Python's own logging module and
logging.handlers.RotatingFileHandler, with python-json-logger for JSON lines (Debian's python3-pythonjsonlogger).

Usage: django_writer.py PATH --count N [--start S] [--format json|text] [--max-bytes B] [--backups K]
                        [--rate LINES_PER_S] [--traceback-every N] [--pad N] [--ledger FILE]
                        [--copytruncate-every N]

Every record's message carries "seq=<n>", so a test can count unique records end to end. With --traceback-every,
every n-th record is logged with logger.exception() inside a chained exception, so the file holds real
multi-line Python tracebacks.

--ledger FILE appends "<seq> <bytes>" per record: the UTF-8 bytes the record took in the log file (the formatted
text and its newline), so a test can turn records that never arrived into bytes, and compare them with the bytes the
agent says it lost. --copytruncate-every N does what logrotate's copytruncate does, every N records: copy the file to
PATH.1, then truncate PATH to 0 bytes while the handler keeps it open (appending, so it writes at the new end). It is
done between two records, so no record falls between the copy and the truncation (logrotate's own race is not what
is tested); --copytruncate-pause S waits S seconds before each, as logrotate run at a quiet moment would find it.
"""
import argparse
import logging
import os
import shutil
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
parser.add_argument("--ledger", default=None, help="append '<seq> <bytes>' per record to this file")
parser.add_argument("--copytruncate-every", type=int, default=0)
parser.add_argument("--copytruncate-pause", type=float, default=0.0, help="seconds to wait before each copytruncate")
args = parser.parse_args()

ledger = open(args.ledger, "a", encoding="utf-8") if args.ledger else None
current_seq = -1


class LedgerHandler(logging.handlers.RotatingFileHandler):
    """RotatingFileHandler that notes the bytes each record took (format() is deterministic for a record)."""

    def emit(self, record):
        super().emit(record)
        if ledger is not None:
            ledger.write(f"{current_seq} {len((self.format(record) + self.terminator).encode('utf-8'))}\n")


handler = LedgerHandler(args.path, maxBytes=args.max_bytes, backupCount=args.backups, encoding="utf-8")
if args.format == "json":
    from pythonjsonlogger import jsonlogger

    handler.setFormatter(jsonlogger.JsonFormatter("%(asctime)s %(levelname)s %(name)s %(module)s %(process)d %(thread)d %(message)s"))
else:
    # The verbose formatter of Django's logging docs: "{levelname} {asctime} {module} {process:d} {thread:d} {message}"
    handler.setFormatter(logging.Formatter("{levelname} {asctime} {module} {process:d} {thread:d} {message}", style="{"))

log = logging.getLogger("django.request")
log.setLevel(logging.DEBUG)
log.addHandler(handler)
log.propagate = False

pad = "x" * args.pad
interval = 1.0 / args.rate if args.rate > 0 else 0.0
next_at = time.monotonic()
for seq in range(args.start, args.start + args.count):
    current_seq = seq
    if args.copytruncate_every and seq > args.start and (seq - args.start) % args.copytruncate_every == 0:
        handler.flush()
        if args.copytruncate_pause:
            time.sleep(args.copytruncate_pause)
            next_at += args.copytruncate_pause
        shutil.copyfile(args.path, args.path + ".1")
        os.truncate(args.path, 0)
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
if ledger is not None:
    ledger.close()
sys.stdout.write(f"wrote {args.count}\n")
