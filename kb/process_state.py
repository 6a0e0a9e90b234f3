"""What a process keeps for its whole life (caches keyed on the content version, open
searchers, counts not yet flushed), and the one way to forget all of it.

A module that keeps such state registers the function that forgets it, where the state is
defined::

    @process_state.resettable
    def forget_current(): ...

``reset_process_state()`` calls every registered function. A running site never needs it
(each cache notices a new content version by itself); tests call it before each test
(``tests/conftest.py``), because rolling the database back makes content versions repeat.
"""

from collections.abc import Callable

_forgetters: list[Callable[[], None]] = []


def resettable(forget: Callable[[], None]) -> Callable[[], None]:
    """Register ``forget`` (no arguments) with ``reset_process_state``; returns it unchanged."""
    _forgetters.append(forget)
    return forget


def reset_process_state() -> None:
    for forget in _forgetters:
        forget()
