"""The engine is the core: it exposes one façade and imports nothing from chat platforms."""

from __future__ import annotations

import ast
import re
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


# SQL as this codebase writes it (upper-case keywords); built from parts so this file does not match itself
_KW = {"sel": "SEL" + "ECT", "ins": "INS" + "ERT", "upd": "UPD" + "ATE", "del": "DEL" + "ETE", "cre": "CRE" + "ATE"}
SQL = re.compile(rf"\b{_KW['sel']}\b[\s\S]*\bFROM\b|\b{_KW['ins']}\s+(OR\s+\w+\s+)?INTO\b|\b{_KW['upd']}\s+\w+\s+SET\b|"
                 rf"\b{_KW['del']}\s+FROM\b|\b{_KW['cre']}\s+(TABLE|INDEX|UNIQUE)\b|\bPRA" r"GMA\s+\w")


def _strings(tree: ast.AST) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            out.append((node.lineno, node.value))
        elif isinstance(node, ast.JoinedStr):
            out.append((node.lineno, "".join(v.value for v in node.values
                                             if isinstance(v, ast.Constant) and isinstance(v.value, str))))
    return out


def test_sql_lives_only_in_the_store() -> None:
    """Every other module (engine, bot, tests, benchmarks, scripts) reaches data through the repositories."""
    store = ROOT / "engine" / "store"
    found = []
    for folder in ("engine", "bot", "tests", "bench", "scripts"):
        for path in (ROOT / folder).rglob("*.py"):
            if store in path.parents or ".venv" in path.parts:
                continue
            for line, text in _strings(ast.parse(path.read_text(encoding="utf-8"))):
                if SQL.search(text):
                    found.append(f"{path.relative_to(ROOT)}:{line}: {text[:60]!r}")
    assert not found, "SQL outside engine/store/:\n" + "\n".join(found)
    assert SQL.search(_KW["sel"] + " id FROM people")                     # and the check does see SQL


def test_the_facade_stays_thin() -> None:
    source = (ROOT / "engine" / "facade.py").read_text(encoding="utf-8")
    assert len(source.splitlines()) < 250
    tree = ast.parse(source)
    engine_cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Engine")
    for fn in engine_cls.body:
        if isinstance(fn, ast.AsyncFunctionDef | ast.FunctionDef):
            body = [s for s in fn.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
            assert len(body) <= 6, f"Engine.{fn.name} does more than delegate"


def test_no_room_is_too_long() -> None:
    """No module of the engine or the bot over 400 lines (tests, benchmarks and data files aside): a module that
    grows past it holds more than one thing that changes together, and is split by what changes together."""
    paths = [p for folder in ("engine", "bot") for p in sorted((ROOT / folder).rglob("*.py"))]
    long = [f"{p.relative_to(ROOT)}: {n} lines" for p in paths
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400]
    assert not long, "\n".join(long)


def test_the_folders_tell_the_role() -> None:
    """engine/ holds its entry points and one package per role; nothing else sits beside them."""
    modules = sorted(p.name for p in (ROOT / "engine").glob("*.py"))
    assert modules == ["__init__.py", "bootstrap.py", "facade.py", "schedule.py", "services.py"]
    packages = sorted(p.name for p in (ROOT / "engine").iterdir() if (p / "__init__.py").is_file())
    assert packages == ["adapters", "evaluation", "formats", "plumbing", "ports", "recommend", "store", "taste",
                        "usecases", "values"]
