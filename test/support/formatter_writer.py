"""Writes Django-style text logs through Python's own logging.Formatter, one file per case, and prints what it wrote.

Usage: formatter_writer.py < cases.json   (TZ in the environment decides asctime's zone, as it does for Django)
       formatter_writer.py --records < records.json   (prints a JSON list: each record formatted, as a string; see
                                                       format_records)

cases.json is a list of {"path", "format", "style" ("%", "{" or "$"), "datefmt" (null: Python's default)}. Each file
gets the same six records, as a Django app logs them: three errors logged with logger.exception() inside chained
exceptions (multi-line Python tracebacks after the message) and three warnings. Their messages hold what formats use
as separators (": ", " - ", "[...]", ":"), and one of each kind is multi-line. Logger names are Django's.

Prints one JSON line per case: {"path", "records": [...]}, each record as Python made it: "epoch_ms" (the time the
line carries: whole seconds, plus milliseconds when the format shows them: default datefmt or %(msecs)), "offset"
(the UTC offset of asctime, "+0100"), "level", "logger", "message" (record.getMessage()), "error_type" (the last
exception's class, or null).
"""
import json
import logging
import sys
import time

SEPARATORS = "a: b - c [d] e:f | g"


def handler_for(case):
    handler = logging.FileHandler(case["path"], mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter(case["format"], case["datefmt"], style=case["style"]))
    return handler


def fail(kind, text):
    """Raises `kind(text)` from a KeyError, as a view that looks up a missing key would."""
    try:
        {}["missing"]
    except KeyError as exc:
        raise kind(text) from exc


def write(case):
    errors = logging.getLogger("django.request")
    warnings = logging.getLogger("django.security.csrf")
    handler = handler_for(case)
    records = []

    class Keep(logging.Filter):
        def filter(self, record):
            records.append(record)
            return True

    handler.addFilter(Keep())
    for log in (errors, warnings):
        log.handlers = [handler]
        log.propagate = False
        log.setLevel(logging.DEBUG)

    def error(msg, kind, text, *args):
        try:
            fail(kind, text)
        except Exception:
            errors.exception(msg, *args)

    error("Internal Server Error: /api/items/%d %s", ValueError, "bad value for item 1", 1, SEPARATORS)
    warnings.warning("Forbidden (CSRF cookie not set.): /api/y - [csrf] reason: missing")
    error("Internal Server Error: /api/z\nsecond line of the message: %s\n  and an indented third", RuntimeError, "database said: ERROR - [x]", SEPARATORS)
    warnings.warning("Multi-line warning\nline two: %s\n  indented line three", SEPARATORS)
    time.sleep(0.011)  # another millisecond, another second now and then
    error("Internal Server Error: /api/w", KeyError, "it's a key")
    warnings.warning("Last warning: %d%% done - [ok]", 100)
    handler.close()

    precise = case["datefmt"] is None or "msecs" in case["format"]
    out = []
    for r in records:
        seconds = int(r.created)
        out.append({
            "epoch_ms": seconds * 1000 + (int(r.msecs) if precise else 0),
            "offset": time.strftime("%z", time.localtime(r.created)),
            "level": r.levelname,
            "logger": r.name,
            "message": r.getMessage(),
            "error_type": r.exc_info[1].__class__.__name__ if r.exc_info else None,
        })
    return out


def format_records(items):
    """Each item: {format, style, datefmt, name, level, message, lineno, funcName, created, exc?}: the formatted
    text (with a chained traceback of ValueError(exc) when exc is given)."""
    out = []
    for it in items:
        exc_info = None
        if it.get("exc") is not None:
            try:
                fail(ValueError, it["exc"])
            except ValueError:
                exc_info = sys.exc_info()
        r = logging.LogRecord(it["name"], getattr(logging, it["level"]), "/app/backend/api/views.py", it["lineno"], it["message"], (), exc_info, it["funcName"])
        r.created = it["created"]
        r.msecs = int((it["created"] - int(it["created"])) * 1000) + 0.0
        r.process = 4242
        r.thread = 140245123456
        out.append(logging.Formatter(it["format"], it["datefmt"], style=it["style"]).format(r))
    return out


if sys.argv[1:] == ["--records"]:
    sys.stdout.write(json.dumps(format_records(json.load(sys.stdin))))
else:
    for case in json.load(sys.stdin):
        sys.stdout.write(json.dumps({"path": case["path"], "records": write(case)}) + "\n")
