"""Deploying like people deploy: the image definition, the lock file, compose, liveness and backups."""

from __future__ import annotations

import asyncio
import json
import re
import time
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from bot.cli import main
from bot.health import check, heartbeat, heartbeat_path
from engine import bootstrap, load_settings
from engine.store.testing import inspect_file, uncommitted_delete

ROOT = Path(__file__).resolve().parents[1]


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()            # PEP 503


def test_license_is_the_one_pyproject_names() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License")
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"] == {"text": "MIT"}


def test_the_lock_pins_every_runtime_dependency_within_its_range() -> None:
    pins = dict(re.findall(r"^([A-Za-z0-9._-]+)==([^\s\\]+)", (ROOT / "requirements.lock").read_text(), re.M))
    pins = {_norm(k): v for k, v in pins.items()}
    for dep in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]:
        req = Requirement(dep)
        name = _norm(req.name)
        assert name in pins, f"{name} is not in requirements.lock"
        assert req.specifier.contains(pins[name], prereleases=True), f"{name}=={pins[name]} is outside {req.specifier}"
    assert "--hash=sha256:" in (ROOT / "requirements.lock").read_text()


def test_the_image_installs_the_lock_and_checks_liveness() -> None:
    lines = [ln.strip() for ln in (ROOT / "Dockerfile").read_text().splitlines()]
    assert any(ln.startswith("RUN pip install") and "--require-hashes -r requirements.lock" in ln for ln in lines)
    assert any("--no-deps ." in ln for ln in lines)           # the app itself adds nothing unlocked
    health = next(ln for ln in lines if ln.startswith("HEALTHCHECK"))
    assert health.endswith('CMD ["multitudes", "health"]')
    assert any(ln.startswith("USER ") and "root" not in ln for ln in lines)


def test_compose_runs_the_bot_with_its_volume_and_healthcheck() -> None:
    doc = yaml.safe_load((ROOT / "compose.yaml").read_text())
    bot = doc["services"]["bot"]
    assert bot["build"] == "."
    vol, _, target = bot["volumes"][0].partition(":")
    assert target == "/data" and vol in doc["volumes"]
    assert bot["healthcheck"]["test"] == ["CMD", "multitudes", "health"]
    assert bot["restart"] == "unless-stopped"
    assert doc["services"]["llm"]["profiles"] == ["llm"]          # optional services stay behind a profile
    db = doc["services"]["db"]                                    # PostgreSQL, for several processes
    assert db["profiles"] == ["postgres"] and "pg_isready" in db["healthcheck"]["test"]
    assert db["volumes"][0].partition(":")[0] in doc["volumes"]
    assert bot["depends_on"]["db"] == {"condition": "service_healthy", "required": False}
    assert "docker compose up" in (ROOT / "README.md").read_text()


async def test_the_heartbeat_is_fresh_while_the_loop_runs_and_stale_after(tmp_path: Path) -> None:
    path = heartbeat_path(str(tmp_path / "m.db"))
    assert path == tmp_path / "m.alive"
    assert check(path)[0] is False                                  # nothing running yet
    task = asyncio.create_task(heartbeat(path, every_s=3600))
    for _ in range(200):
        if path.exists():
            break
        await asyncio.sleep(0.01)
    task.cancel()
    ok, why = check(path)
    assert ok, why
    beat = json.loads(path.read_text())
    assert check(path, max_age_s=90, now=beat["at"] + 91)[0] is False     # a loop that stopped beating
    path.write_text("garbage")
    assert check(path) == (False, check(path)[1]) and "unreadable" in check(path)[1]
    assert heartbeat_path(":memory:") is None


def test_health_command_exit_codes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MULTITUDES_STORAGE__PATH", str(tmp_path / "m.db"))
    monkeypatch.setenv("MULTITUDES_LOGGING__FILE", str(tmp_path / "m.log"))
    assert main(["health"]) == 1
    assert "no heartbeat" in capsys.readouterr().err
    (tmp_path / "m.alive").write_text(json.dumps({"at": time.time(), "pid": 1, "loop_lag_ms": 0.4}))
    assert main(["health"]) == 0
    assert "alive" in capsys.readouterr().out


async def test_backup_is_a_consistent_verified_copy_while_a_writer_holds_the_database(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "m.db"
    monkeypatch.setenv("MULTITUDES_STORAGE__PATH", str(db))
    monkeypatch.setenv("MULTITUDES_LOGGING__FILE", str(tmp_path / "m.log"))
    settings = load_settings(None, env={"MULTITUDES_STORAGE__PATH": str(db)})
    engine = await bootstrap(settings)
    async with engine:
        pid = await engine.person("console", "alice")
        await engine.load_sample(pid)
        plays = (await engine.stats(pid)).plays
        assert plays > 0
        # another writer holds an open transaction with uncommitted rows: the copy has the committed state only
        dest = tmp_path / "backup.db"
        with uncommitted_delete(db, "plays"):
            assert await asyncio.to_thread(main, ["db", "backup", str(dest)]) == 0
    # every committed play, a clean integrity check, one self-contained file (no -wal beside it)
    assert inspect_file(dest, "plays") == (plays, "ok", "delete")
    assert await asyncio.to_thread(main, ["db", "backup", str(dest)]) == 1      # never overwrites


def test_backup_of_a_missing_database_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MULTITUDES_STORAGE__PATH", str(tmp_path / "none.db"))
    monkeypatch.setenv("MULTITUDES_LOGGING__FILE", str(tmp_path / "m.log"))
    assert main(["db", "backup", str(tmp_path / "b.db")]) == 1
    assert "no database" in capsys.readouterr().err


def test_backup_of_a_postgresql_store_points_to_pg_dump(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MULTITUDES_STORAGE__URL", "postgresql://bot@db/multitudes")
    monkeypatch.setenv("MULTITUDES_LOGGING__FILE", str(tmp_path / "m.log"))
    assert main(["db", "backup", str(tmp_path / "b.db")]) == 1
    assert "pg_dump" in capsys.readouterr().err and not (tmp_path / "b.db").exists()
