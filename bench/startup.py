"""Start-up: how long a newcomer waits for the console's prompt, and for the first answer.

    python bench/startup.py --json [--runs 3]

Runs the console demo (``python -m bot.cli``, no tokens) in a pseudo-terminal, as a person at a terminal does, in a
fresh directory each run, and times two moments from the process's start: ``prompt_s``, when the prompt is on the
screen (the engine — NumPy, SciPy, scikit-learn, matplotlib, the database — loads behind it), and
``first_answer_s``, when the answer to ``stats`` typed at once is complete (it waits for the engine). The first run
warms the machine's file cache and is not counted; the figures are the median of ``--runs`` warm runs.
Target (issue 25): ``prompt_s`` ≤ 2 s on a warm machine.
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import select
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def one_run(within: float = 120.0) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MULTITUDES_")}
    env.update(PYTHONPATH=str(ROOT), TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1")
    with tempfile.TemporaryDirectory() as tmp:
        master, slave = pty.openpty()
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "bot.cli"], stdin=slave, stdout=slave, stderr=slave,
                                cwd=tmp, env=env, close_fds=True)
        os.close(slave)
        seen = b""
        marks: dict[str, float] = {}
        try:
            while "first_answer_s" not in marks:
                if time.perf_counter() - t0 > within or proc.poll() is not None:
                    raise RuntimeError(f"the console did not answer: {seen[-2000:].decode(errors='replace')}")
                ready, _, _ = select.select([master], [], [], 0.05)
                if not ready:
                    continue
                seen += os.read(master, 65536)
                if "prompt_s" not in marks and b"multitudes>" in seen:
                    marks["prompt_s"] = time.perf_counter() - t0
                    os.write(master, b"stats\r")
                if "prompt_s" in marks and b"No recommendations shown yet" in seen:
                    marks["first_answer_s"] = time.perf_counter() - t0
            os.write(master, b"quit\r")
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
            os.close(master)
    return marks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--runs", type=int, default=3, help="warm runs (after one that warms the file cache)")
    args = ap.parse_args()
    one_run()
    runs = [one_run() for _ in range(args.runs)]
    out = {key: round(statistics.median(r[key] for r in runs), 2) for key in ("prompt_s", "first_answer_s")}
    out["runs"] = [{k: round(v, 2) for k, v in r.items()} for r in runs]
    out["target_prompt_s"] = 2.0
    print(json.dumps(out) if args.json else "\n".join(f"{k:16} {v}" for k, v in out.items()))


if __name__ == "__main__":
    main()
