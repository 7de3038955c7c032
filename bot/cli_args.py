"""The command line's words: every ``multitudes`` subcommand and option, with its help."""

from __future__ import annotations

import argparse


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="multitudes", description="TV recommendations from your Trakt history.")
    p.add_argument("--config", help="TOML config file (default: $MULTITUDES_CONFIG or ./config.toml)")
    p.add_argument("--fresh", action="store_true",
                   help="console demo: start again from the bundled sample (the demo database is kept otherwise)")
    sub = p.add_subparsers(dest="cmd")
    r = sub.add_parser("run", help="start the bot; with no chat tokens, the console (demo when Trakt is not set up)")
    r.add_argument("--shard", metavar="I/N", help="serve Discord shard I of N (several processes on one PostgreSQL "
                   "store); Telegram is polled by shard 0 only")
    c = sub.add_parser("console", help="the console front end")
    c.add_argument("--user", help="console identity (default: your login name)")
    s = sub.add_parser("sync", help="sync one person's Trakt history")
    s.add_argument("--user", required=True, help="console identity of the person")
    i = sub.add_parser("import", help="import a Trakt export or Netflix CSV for a person")
    i.add_argument("file")
    i.add_argument("--user", required=True)
    pe = sub.add_parser("personas", help="a person's taste personas")
    who = pe.add_mutually_exclusive_group(required=True)
    who.add_argument("--sample", action="store_true", help="the bundled sample person (offline)")
    who.add_argument("--user", help="console identity of the person")
    pe.add_argument("--json", action="store_true", help="print JSON (a list of personas)")
    pe.add_argument("--chart", help="also write a PNG chart of persona weights over time to this file")
    rc = sub.add_parser("recommend", help="a person's /recommend, as the bot would answer it (JSON with --json)")
    who = rc.add_mutually_exclusive_group(required=True)
    who.add_argument("--sample", action="store_true", help="the bundled sample person (offline)")
    who.add_argument("--user", help="console identity of a person in the configured database")
    rc.add_argument("--json", action="store_true", help="print one JSON document: picks and note")
    rc.add_argument("--no-llm", action="store_true", help="templates only, even with an LLM configured")
    rc.add_argument("request", nargs="*", help='the /recommend grammar, e.g. all | like:"Fargo" | mood:"light" k:3')
    ev = sub.add_parser("eval", help="offline evaluation of every strategy side by side")
    ev.add_argument("--interactions", required=True, help="interactions.csv (user_id,item_id,timestamp[,rating])")
    ev.add_argument("--items", required=True, help="items.csv (item_id,title[,genres][,keywords][,year]…)")
    ev.add_argument("--test", help="test.csv of held-out pairs; then all interactions are training data")
    ev.add_argument("--protocol", choices=["last-n", "time-cut"], default="last-n")
    ev.add_argument("--n", type=int, default=5, help="items held out per person (last-n)")
    ev.add_argument("--k", type=int, default=10)
    ev.add_argument("--strategies", default="popular,trending,itemknn,ease,live")
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument("--weights", default="live",
                    help="live's weights: a profile shipped in engine/recommend/weights.json (default: live, the "
                         "bot's own)")
    ev.add_argument("--cowatch", choices=["all", "none"], default="all",
                    help="live: everyone opted in to co-watching (all), or a fresh deployment (none)")
    ev.add_argument("--max-users", type=int, help="evaluate a random sample of this many people (seeded)")
    ev.add_argument("--json", dest="json_out", help="write the results as JSON to this file")
    tu = sub.add_parser("tune", help="fit the weights the bot runs on validation folds cut from the training part "
                        "of one or more datasets (through the /recommend path); write the profile")
    tu.add_argument("--data", action="append", metavar="FOLDER:PROTOCOL",
                    help="a dataset folder (interactions.csv, items.csv[, test.csv]) and its protocol, e.g. "
                         "var/annict:time-cut; repeat to fit one profile on several")
    tu.add_argument("--interactions", help="interactions.csv (instead of --data)")
    tu.add_argument("--items")
    tu.add_argument("--test", help="test.csv of held-out pairs (then all interactions are training data)")
    tu.add_argument("--protocol", choices=["last-n", "time-cut"], default="last-n")
    tu.add_argument("--n", type=int, default=5, help="items held out per person (last-n)")
    tu.add_argument("--name", default="live", help="profile name to write (default: live, the bot's)")
    tu.add_argument("--users", type=int, default=200, help="validation people per fold")
    tu.add_argument("--folds", type=int, default=2, help="validation folds per dataset")
    tu.add_argument("--seed", type=int, default=0)
    tu.add_argument("--out", default=None, help="weights file to update (default: the shipped weights.json)")
    ds = sub.add_parser("dataset", help="dataset tools")
    dsub = ds.add_subparsers(dest="dataset_cmd", required=True)
    conv = dsub.add_parser("convert", help="convert a public dataset to the generic evaluation format")
    conv.add_argument("kind", choices=["movielens", "annict"])
    conv.add_argument("src")
    conv.add_argument("dest")
    al = sub.add_parser("alerts", help="run one release-calendar scan now and list what was decided (sends nothing)")
    al.add_argument("--user", help="also list this console identity's alerts")
    al.add_argument("--json", action="store_true")
    pu = sub.add_parser("publish", help="write the current picks of everyone who opted in (settings publish:on) as a "
                        "Trakt list and a collection on the media server")
    pu.add_argument("--user", help="only this console identity")
    sub.add_parser("keygen", help="print a new MULTITUDES_SECRET_KEY")
    h = sub.add_parser("health", help="exit 0 when the running bot's heartbeat is fresh (a container HEALTHCHECK)")
    h.add_argument("--max-age", type=float, default=90.0, help="seconds a heartbeat stays fresh (default 90)")
    db = sub.add_parser("db", help="database tools")
    dbsub = db.add_subparsers(dest="db_cmd", required=True)
    bk = dbsub.add_parser("backup", help="an online, verified copy of the SQLite database (safe while the bot runs)")
    bk.add_argument("dest", help="the copy's path (must not exist)")
    mt = dbsub.add_parser("migrate-to", help="copy the SQLite database into an empty PostgreSQL database, verified "
                          "row by row (then set storage.url)")
    mt.add_argument("url", help="postgresql://user@host/db (the password from PGPASSWORD)")
    return p
