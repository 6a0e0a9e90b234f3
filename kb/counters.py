"""Counts that many requests bump and the database keeps, without a database write per request.

A bump adds to a counter in the shared cache (``kb.shared``: Redis when configured, else this
process's memory) and remembers its key. At most every few seconds a request hands the
counters this process has touched to a background thread, which takes their values out of the
cache (a decrement by what it read, so a bump meanwhile is not lost) and adds them to their
rows: one UPDATE per row, or an INSERT the first time. A process that dies loses what it had
not flushed yet, a few seconds of counts at most: accepted for statistics.
``settings.KB_COUNTER_FLUSH_SECONDS`` None: only an explicit ``flush()`` writes (the tests).
"""

import hashlib
import json
import logging
import threading
import time

from django.apps import apps
from django.conf import settings
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.db.models import F

from kb import metrics, process_state, shared

logger = logging.getLogger(__name__)

KEY_SECONDS = 3600  # a counter nobody flushed for an hour is dropped by the cache

_pending = {}  # cache key → (model label, row, field), bumped by this process since its last flush
_lock = threading.Lock()
_state = {"flushed_at": time.monotonic(), "flushing": False}


@process_state.resettable
def forget_pending():
    """Drop the counts this process has not flushed yet."""
    with _lock:
        _pending.clear()


def key_of(model_label, row, field):
    described = json.dumps([model_label, row, field], sort_keys=True, ensure_ascii=False)
    return "kb:count:" + hashlib.sha1(described.encode()).hexdigest()


def bump(model_label, row: dict, **fields):
    """Add to the counting ``fields`` of the row of ``model_label`` identified by ``row``.
    Never raises: a failure is logged and the count skipped."""
    try:
        for field, amount in fields.items():
            if amount:
                key = key_of(model_label, row, field)
                shared.incr(key, amount, KEY_SECONDS)
                with _lock:
                    _pending[key] = (model_label, row, field)
        flush_soon()
    except Exception:
        logger.exception("could not count %s %s", model_label, row)


def flush_soon():
    """Start a background flush when the last one is old enough and none runs."""
    every = settings.KB_COUNTER_FLUSH_SECONDS
    with _lock:
        due = every is not None and time.monotonic() - _state["flushed_at"] >= every and not _state["flushing"]
        if due:
            _state["flushing"] = True
    if due:
        threading.Thread(target=_flush_in_background, daemon=True).start()


def _flush_in_background():
    try:
        flush()
    finally:
        close_old_connections()
        connection.close()


def flush() -> int:
    """Write what this process counted to the database now; the number of rows touched."""
    with _lock:
        pending = dict(_pending)
        _pending.clear()
    try:
        values = shared.get_many(list(pending)) if pending else {}
        totals = {}
        for key, value in values.items():
            if value:
                shared.decr(key, value)
                model_label, row, field = pending[key]
                totals.setdefault((model_label, json.dumps(row, sort_keys=True)), {})[field] = value
        for (model_label, row), fields in totals.items():
            add_to_row(apps.get_model(model_label), json.loads(row), fields)
        return len(totals)
    except Exception:
        logger.exception("could not write counters")
        return 0
    finally:
        with _lock:
            _state["flushed_at"] = time.monotonic()
            _state["flushing"] = False
        metrics.COUNTERS_FLUSHED.set_to_current_time()


def add_to_row(model, row, fields):
    increments = {name: F(name) + value for name, value in fields.items()}
    if model.objects.filter(**row).update(**increments):
        return
    try:
        with transaction.atomic():
            model.objects.create(**row, **fields)
    except IntegrityError:  # created meanwhile by another process
        model.objects.filter(**row).update(**increments)
