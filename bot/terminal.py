"""The terminal under the console: reading a line (prompt_toolkit in a terminal, plain lines from a pipe), Ctrl-C,
a closed pipe, and who is at the keyboard."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path


def _whoami() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "me"


def _on_sigint(loop: asyncio.AbstractEventLoop, handler: Callable[[], None]) -> bool:
    """Route Ctrl-C to ``handler`` when this is the main thread of a terminal session (not in tests or pipes)."""
    if not sys.stdin.isatty() or threading.current_thread() is not threading.main_thread():
        return False
    try:
        loop.add_signal_handler(signal.SIGINT, handler)
    except (NotImplementedError, RuntimeError, ValueError):
        return False
    return True


HISTORY = Path("var/console_history")
INTERRUPT = "\x03"                         # what the reader returns for Ctrl-C at the prompt (the line is dropped)
_SESSION: list[object] = []


def _quiet_stdout() -> None:
    """The reader of our output is gone (a closed pipe): send the rest nowhere, so exiting prints no traceback."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


async def _stdin_line(prompt: str) -> str | None:
    """The next line: in a terminal a prompt_toolkit prompt (editing, a history kept between sessions, Ctrl-C
    clears the line as a shell does); from a pipe or a file, plain lines."""
    if sys.stdin.isatty() and sys.stdout.isatty():
        return await _terminal_line(prompt)
    return await _piped_line()


async def _terminal_line(prompt: str) -> str | None:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    if not _SESSION:
        try:
            HISTORY.parent.mkdir(parents=True, exist_ok=True)
            history: FileHistory | InMemoryHistory = FileHistory(str(HISTORY))
        except OSError:
            history = InMemoryHistory()
        _SESSION.append(PromptSession(history=history))
    session: PromptSession[str] = _SESSION[0]  # type: ignore[assignment]
    try:
        return await session.prompt_async(prompt, handle_sigint=False)
    except KeyboardInterrupt:
        return INTERRUPT
    except EOFError:
        return None


async def _piped_line() -> str | None:
    def read() -> str | None:
        line = sys.stdin.readline()
        return None if line == "" else line.rstrip("\n")

    # a daemon thread, not the default executor: leaving while a read is blocked must not wait for Enter
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[str | None] = loop.create_future()

    def deliver(result: str | None, error: BaseException | None) -> None:
        if not fut.done():
            fut.set_exception(error) if error is not None else fut.set_result(result)

    def worker() -> None:
        try:
            got, err = read(), None
        except BaseException as e:          # handed to the loop
            got, err = None, e
        with contextlib.suppress(RuntimeError):          # the loop may be gone: the session ended meanwhile
            loop.call_soon_threadsafe(deliver, got, err)

    threading.Thread(target=worker, name="console-input", daemon=True).start()
    return await fut
