"""The prompt log: every prompt and answer the LLM client exchanges, one line per record in its own rotating file
(``logging.prompt_log``), never on the console; each line says whose request it served, so forgetting a person
removes their lines."""

from __future__ import annotations

import logging
import logging.handlers
from contextvars import ContextVar, Token
from pathlib import Path

prompt_log = logging.getLogger("multitudes.prompts")
prompt_log.propagate = False          # never reaches the console handlers on the root logger
# whose request a prompt serves: every prompt-log line carries it, so forgetting a person removes their lines
SUBJECT: ContextVar[str] = ContextVar("llm_subject", default="-")


def subject_of(person_id: int) -> str:
    return f"p{int(person_id)}"


def about(person_id: int) -> Token[str]:
    """Mark the LLM calls made from here on (in this task) as serving ``person_id``."""
    return SUBJECT.set(subject_of(person_id))


def forget_prompts(path: str | Path, person_id: int) -> int:
    """Remove a person's lines from the prompt log and its rotated files; returns how many went."""
    tag = f" subject={subject_of(person_id)} "
    removed = 0
    base = Path(path)
    for f in [base, *sorted(base.parent.glob(base.name + ".*"))]:
        if not f.is_file():
            continue
        lines = f.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)
        kept = [ln for ln in lines if tag not in ln]
        if len(kept) != len(lines):
            removed += len(lines) - len(kept)
            f.write_text("".join(kept), encoding="utf-8")
    return removed


def setup_prompt_log(path: str | Path) -> None:
    p = Path(path)
    for h in list(prompt_log.handlers):
        if getattr(h, "_multitudes_prompts", None) == str(p):
            return
        prompt_log.removeHandler(h)
        h.close()
    p.parent.mkdir(parents=True, exist_ok=True)
    h = logging.handlers.RotatingFileHandler(p, maxBytes=5_000_000, backupCount=3, encoding="utf-8")
    h.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    h._multitudes_prompts = str(p)  # type: ignore[attr-defined]
    prompt_log.addHandler(h)
    prompt_log.setLevel(logging.INFO)


