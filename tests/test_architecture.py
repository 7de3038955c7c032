"""The engine is the core: it exposes one façade and imports nothing from chat platforms."""

from __future__ import annotations

import ast
from pathlib import Path

import engine

ROOT = Path(__file__).resolve().parents[1]


def test_engine_reexports_the_facade() -> None:
    assert sorted(engine.__all__) == ["Engine", "MultitudesError", "Settings", "bootstrap", "load_settings"]


def test_engine_imports_no_platform_code() -> None:
    banned = ("bot", "discord", "telegram")
    for path in (ROOT / "engine").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for n in names:
                assert n.split(".")[0] not in banned, f"{path.relative_to(ROOT)} imports {n}"
