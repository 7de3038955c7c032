"""The measuring commands: ``multitudes eval`` (strategies side by side, ratios with their intervals), ``tune`` (the
live profile fitted on validation folds cut from training) and ``convert`` (a public dataset into the evaluation's
files). The engine's evaluation loads only when one of them runs."""

from __future__ import annotations

import argparse
import json
import shlex
from collections.abc import Sequence
from pathlib import Path

from engine.values.errors import MultitudesError


def eval_command(args: argparse.Namespace) -> int:
    from engine.evaluation.datasets import load
    from engine.evaluation.runner import evaluate
    ds = load(args.interactions, args.items, args.test)
    names = [s.strip() for s in args.strategies.split(",") if s.strip()]
    result = evaluate(ds, strategies=names, protocol=args.protocol, n=args.n, k=args.k, seed=args.seed,
                      weights=args.weights, max_users=args.max_users, cowatch=args.cowatch)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(result, indent=2))
    print(f"{result['users']} people, k={result['k']}, protocol {result['protocol']}")
    print(f"{'strategy':13} {'recall':>8} {'ndcg':>8} {'coverage':>9} {'ild':>7} {'calib_kl':>9} "
          f"{'persona_cov':>12}  ratio to the best baseline [95% interval]")

    def f(v: object) -> str:
        return "—" if v is None else f"{v:.4f}"
    for name, m in result["strategies"].items():
        ci = m.get("ratio_ci95")
        ratio = f"  {m['ratio_to_best']:.2f}x [{ci[0]:.2f}, {ci[1]:.2f}] of {m['best_baseline']}" if ci else ""
        print(f"{name:13} {f(m['recall']):>8} {f(m['ndcg']):>8} {f(m['coverage']):>9} {f(m['ild']):>7} "
              f"{f(m['calibration_kl']):>9} {f(m['persona_coverage']):>12}{ratio}")
    return 0


def tune_command(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from engine.evaluation.tune import tune_datasets
    specs: list[tuple[str, str, str | None, str, int]] = []
    for d in args.data or []:
        folder, _sep, protocol = d.partition(":")
        if protocol not in ("last-n", "time-cut"):
            raise MultitudesError(f"--data {d!r}", user_message=f"--data {d}: give a folder and a protocol, e.g. "
                                  "var/annict:time-cut or var/ml:last-n.")
        test = Path(folder, "test.csv")
        specs.append((str(Path(folder, "interactions.csv")), str(Path(folder, "items.csv")),
                      str(test) if test.is_file() else None, protocol, args.n))
    if args.interactions:
        if not args.items:
            raise MultitudesError("--items", user_message="--interactions needs --items.")
        specs.append((args.interactions, args.items, args.test, args.protocol, args.n))
    if not specs:
        raise MultitudesError("no data", user_message="Give the data to fit on: --data FOLDER:PROTOCOL (repeatable), "
                              "or --interactions and --items.")
    info = tune_datasets(specs, users=args.users, seed=args.seed, folds=args.folds,
                         command=shlex.join(["multitudes", *argv]), name=args.name, out=args.out,
                         log=lambda m: print(m, flush=True))
    print(json.dumps(info, indent=2))
    return 0


def convert_command(args: argparse.Namespace) -> int:
    from engine.evaluation.datasets import CONVERTERS, write
    ds = CONVERTERS[args.kind](args.src)
    write(ds, args.dest)
    print(f"wrote {len(ds.interactions)} interactions over {len(ds.items)} items to {args.dest}")
    return 0
