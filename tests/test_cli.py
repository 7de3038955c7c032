"""The command line answers bad situations with one clear line, never a traceback, and never writes the sample
into a real database."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main


def test_sync_without_trakt_refuses_instead_of_writing_the_sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "real.db"
    monkeypatch.setenv("MULTITUDES_STORAGE__PATH", str(db))
    monkeypatch.setenv("MULTITUDES_LOGGING__FILE", str(tmp_path / "m.log"))
    assert main(["sync", "--user", "bob"]) == 2
    assert "Trakt is not configured" in capsys.readouterr().err
    assert not db.exists()


def test_start_up_without_network_is_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str],
                                                    caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("MULTITUDES_STORAGE__PATH", str(tmp_path / "m.db"))
    monkeypatch.setenv("MULTITUDES_LOGGING__FILE", str(tmp_path / "m.log"))
    monkeypatch.setenv("MULTITUDES_TELEGRAM_TOKEN", "123456:TEST-token")
    monkeypatch.setenv("MULTITUDES_TELEGRAM__BASE_URL", "http://127.0.0.1:9/bot")    # nothing listens there
    with caplog.at_level("INFO"):
        assert main(["run"]) == 3
    err = capsys.readouterr().err
    assert "could not reach a service" in err and "Traceback" not in err
    kept = [r for r in caplog.records if r.getMessage() == "start-up failed"]
    assert kept and kept[0].exc_info and kept[0].levelname == "INFO"    # details for the log file, not the console


def test_no_tokens_and_no_terminal_is_an_error_not_a_quiet_exit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """In a container without chat tokens the console has nobody to talk to: a clear message and a failing exit
    code, not exit 0 (a restart loop under a restart policy)."""
    import io
    monkeypatch.setenv("MULTITUDES_STORAGE__PATH", str(tmp_path / "m.db"))
    monkeypatch.setenv("MULTITUDES_LOGGING__FILE", str(tmp_path / "m.log"))
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["run"]) == 2
    assert "no chat token is configured" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("help\n"))                # piped commands still work
    assert main(["run"]) == 0


def test_a_refused_telegram_token_is_never_printed_or_logged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 24 (9): python-telegram-bot's InvalidToken names the token; a Bot API that refuses it (401) or a wrong
    base URL (404) must not put it on the console or in the log file."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Refuse(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            status = 401 if "/bot" in self.path else 404
            body = b'{"ok":false,"error_code":%d,"description":"Unauthorized"}' % status
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    token = "7123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawZ"
    log = tmp_path / "m.log"
    try:
        for base in ("bot", "nothing-here/bot"):
            monkeypatch.setenv("MULTITUDES_STORAGE__PATH", str(tmp_path / "m.db"))
            monkeypatch.setenv("MULTITUDES_LOGGING__FILE", str(log))
            monkeypatch.setenv("MULTITUDES_TELEGRAM_TOKEN", token)
            monkeypatch.setenv("MULTITUDES_TELEGRAM__BASE_URL", f"http://127.0.0.1:{server.server_port}/{base}")
            assert main(["run"]) != 0
            out = capsys.readouterr()
            assert token not in out.err and token not in out.out
            assert token.split(":")[1] not in out.err
    finally:
        server.shutdown()
    import logging
    files = [Path(h.baseFilename) for h in logging.getLogger().handlers if isinstance(h, logging.FileHandler)]
    files.append(log)            # logging is set up once per process: whichever file it writes to is checked
    written = [f.read_text() for f in files if f.exists()]
    assert written and not any(token.split(":")[1] in w for w in written)
