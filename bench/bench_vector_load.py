"""Benchmark the semantic method's first look at the stored vectors, as after a start.

Run from the repo root: ``python -m bench.bench_vector_load [--stories 100000]
[--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]`` (a PostgreSQL
database gets a fresh schema, dropped after). Builds a SQLite database (or schema)
of `--stories` stories with stored vectors (random unit vectors, one story every
20 s), then, in a fresh process each round, loads
the model and runs one neighbour search: the search first reads every stored
vector into the in-memory index (`SemanticDedup._sync`). Prints the load's wall
time, the resident memory after it and the process's peak, each round, then
the median. Needs the ``[semantic]`` extra and a model (as `bench_dedup`).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

T0 = datetime(2026, 11, 1, tzinfo=UTC)
STEP = timedelta(seconds=20)


def build(url: str, stories: int) -> None:
    """Write `stories` stories and their vectors (float16 unit vectors, dimension 384)."""
    import numpy as np
    import sqlalchemy as sa

    from bot.storage.db import open_database
    from bot.storage.models import Story, StoryVector, table_of

    engine = open_database(url)
    rng = np.random.default_rng(3)
    story, vector = table_of(Story), table_of(StoryVector)
    with engine.begin() as connection:
        for start in range(0, stories, 5000):
            ids = range(start + 1, min(stories, start + 5000) + 1)
            stamps = [T0 + STEP * i for i in ids]
            unit = rng.standard_normal((len(ids), 384)).astype(np.float32)
            unit /= np.linalg.norm(unit, axis=1, keepdims=True)
            connection.execute(
                sa.insert(story),
                [
                    {"id": i, "title": f"story {i}", "published_at": t, "first_seen_at": t}
                    for i, t in zip(ids, stamps, strict=True)
                ],
            )
            connection.execute(
                sa.insert(vector),
                [
                    {"story_id": i, "published_at": t, "vector": v.astype(np.float16).tobytes()}
                    for i, t, v in zip(ids, stamps, unit, strict=True)
                ],
            )
    engine.dispose()


def measure(url: str, stories: int) -> dict[str, float]:
    """In this (fresh) process: the first neighbour search over the stored vectors."""
    import resource
    import time

    from sqlmodel import Session

    from bot.ingest import semantic
    from bot.ingest.embed import load_encoder
    from bot.storage.db import open_database

    def resident_mib() -> float:
        with open("/proc/self/status") as status:
            line = next(x for x in status if x.startswith("VmRSS"))
        return int(line.split()[1]) / 1024

    encoder, reason = load_encoder(None)
    if encoder is None:
        raise SystemExit(f"no model: {reason}")
    method = semantic.SemanticDedup(encoder)
    query = method.embed("Netflix raises subscription prices")[None, :]
    engine = open_database(url)
    before = resident_mib()
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with Session(engine) as session:
        started = time.perf_counter()
        method.neighbours(session, query, [T0 + STEP * stories], timedelta(hours=48))
        seconds = time.perf_counter() - started
    return {
        "indexed": method._index.size,
        "seconds": seconds,
        "resident_before": before,
        "resident_after": resident_mib(),
        "peak_before": peak_before,
        "peak_after": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    from bench._common import print_machine

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default: SQLite)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.stories)))
        return
    from bench.bench_compose import database_url

    print_machine()
    with database_url(args.database_url) as url:
        build(url, args.stories)
        runs = []
        for _ in range(args.rounds):
            command = [sys.executable, "-m", "bench.bench_vector_load", "--child", url]
            out = subprocess.run(
                [*command, "--stories", str(args.stories)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            run = json.loads(out.strip().splitlines()[-1])
            runs.append(run)
            print(
                f"indexed {run['indexed']:,.0f}: load {run['seconds']:.2f} s, resident "
                f"{run['resident_before']:.0f} -> {run['resident_after']:.0f} MiB, "
                f"peak {run['peak_before']:.0f} -> {run['peak_after']:.0f} MiB"
            )
    for key in ("seconds", "resident_after", "peak_after"):
        print(f"median {key}: {statistics.median(r[key] for r in runs):.2f}")


if __name__ == "__main__":
    main()
