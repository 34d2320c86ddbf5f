"""Hostile documents: what the largest accepted document costs, and what a trivial query waits
while hostile documents keep arriving.

    .venv/bin/python bench/documents.py [--seconds 10] [--attackers 4]

1. In process: `Documents.parse` (parse, limits, validation) of documents built to sit just
   under every limit, best and median of 30 runs each.
2. Against `dxlink serve` (on bench/.data, as bench/run.py prepares it): the latency of
   `{ tiers { level } }` sent one at a time for --seconds, alone, then while --attackers
   clients keep sending (a) over-limit documents and (b) accepted documents of the largest
   kind, each one different so that no cache helps. Prints p50/p99/max and the attackers'
   request rate as a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import free_port, prepare, stop, wait_ready  # noqa: E402

TRIVIAL = {"query": "{ tiers { level } }"}
SELECTION = (
    "code name kana romaji kind kindLabel population populationYear "
    "region { name shortName kana romaji } prefecture { code name kana } "
)


def largest_accepted(salt: int = 0) -> dict[str, str]:
    """Documents just under the limits, each of another kind; ``salt`` makes them distinct."""
    aliases = " ".join(
        f'm{i}_{salt}: municipality(code: "302015") {{ {SELECTION} }}' for i in range(27)
    )
    filters = " ".join(
        f'q{i}_{salt}: municipalities(first: 1, kind: CITY, search: "わかやま{i}", '
        f"orderBy: {{field: POPULATION, direction: DESC}}) {{ totalCount }}"
        for i in range(30)
    )
    # Depth 12 (maxQueryDepth), three lists deep (maxListNesting), through fragments.
    deep = (
        f'{{ municipality(code: "302015") {{ ...D0_{salt} }} }} '
        f"fragment D0_{salt} on Municipality {{ code region {{ prefecture {{ regions {{ "
        f"municipalities {{ ...D1_{salt} }} }} }} }} }} "
        f"fragment D1_{salt} on Municipality {{ name region {{ prefecture {{ code "
        f"municipalities {{ region {{ prefecture {{ name kana }} }} }} }} }} }}"
    )
    return {
        "27 aliases, 486 fields (maxFields)": "{ " + aliases + " }",
        "30 filtered connections, ~1,050 tokens (maxAliases)": "{ " + filters + " }",
        "10 levels, 3 lists, through fragments (maxListNesting)": deep,
    }


def over_limit(salt: int) -> list[str]:
    return [
        "{ " + "__typename " * 95000 + f"a{salt}: __typename }}",  # maxBodyBytes (413)
        "{ " + "__typename " * 20000 + f"a{salt}: __typename }}",  # maxDocumentLength
        "{ " + "__typename " * 2500 + f"a{salt}: __typename }}",  # maxDocumentTokens
        "{ " + "__typename " * 400 + f"a{salt}: __typename }}",  # maxFieldRepeats
        "{ ...F0 } "  # a fragment bomb: maxFields
        + " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(40))
        + f" fragment F40 on Query {{ a{salt}: __typename }}",
    ]


def in_process() -> None:
    from service.documents import Documents
    from service.graphql import build_schema
    from service.settings import Settings

    settings = Settings(jwt_secret="x" * 40)
    documents = Documents(build_schema(settings)._schema, settings)
    print("| largest accepted document | tokens | best ms | median ms |")
    print("|---|---:|---:|---:|")
    from graphql.language import Lexer, Source, TokenKind

    for name, text in largest_accepted().items():
        lexer, tokens = Lexer(Source(text)), 0
        while lexer.advance().kind != TokenKind.EOF:
            tokens += 1
        assert documents.parse(text).ok, name
        times = []
        for _ in range(30):
            started = time.perf_counter()
            documents.parse(text)
            times.append((time.perf_counter() - started) * 1000)
        print(f"| {name} | {tokens} | {min(times):.1f} | {statistics.median(times):.1f} |")
    print()


async def trivial_latencies(url: str, seconds: float) -> list[float]:
    out = []
    async with httpx.AsyncClient(timeout=60) as client:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            started = time.perf_counter()
            response = await client.post(url, json=TRIVIAL)
            out.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text
    return out


def attacker(url: str, kind: str, seconds: float, first_salt: int) -> int:
    """One hostile client, in a process of its own (so that building and sending its
    documents costs the measuring client nothing)."""

    async def run() -> int:
        sent, salt = 0, first_salt
        stop_at = time.monotonic() + seconds
        async with httpx.AsyncClient(timeout=60) as client:
            while time.monotonic() < stop_at:
                salt += 1
                texts = over_limit(salt) if kind == "over" else [*largest_accepted(salt).values()]
                for text in texts:
                    await client.post(url, json={"query": text})
                    sent += 1
        return sent

    return asyncio.run(run())


async def against_server(url: str, seconds: float, attackers: int) -> None:
    print(f"| trivial query, one at a time, {seconds:g} s | p50 ms | p99 ms | max ms | "
          "hostile req/s |")  # fmt: skip
    print("|---|---:|---:|---:|---:|")
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(max_workers=attackers) as pool:
        for label, kind in (("alone", None), ("over-limit documents", "over"),
                            ("largest accepted documents, all distinct", "accepted")):  # fmt: skip
            futures = [
                loop.run_in_executor(pool, attacker, url, kind, seconds, i * 1_000_000)
                for i in range(attackers if kind else 0)
            ]
            await asyncio.sleep(0.5 if kind else 0)  # the attack is under way
            latencies = sorted(await trivial_latencies(url, seconds - 1))
            sent = sum(await asyncio.gather(*futures))
            p99 = latencies[int(len(latencies) * 0.99) - 1]
            print(f"| {label} | {statistics.median(latencies):.1f} | {p99:.1f} | "
                  f"{latencies[-1]:.1f} | {sent / seconds:.0f} |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--attackers", type=int, default=4)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "bench" / ".data")
    args = parser.parse_args()
    in_process()
    prepare(args.data_dir.resolve())
    port = free_port()
    env = {
        **os.environ,
        "DXLINK_DATA_DIR": str(args.data_dir.resolve()),
        "DXLINK_LOG_LEVEL": "WARNING",
        "DXLINK_AUTO_SEED": "false",
    }
    env.pop("DATABASE_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--port", str(port)], env=env, cwd=ROOT
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}/readyz", server)
        asyncio.run(against_server(f"http://127.0.0.1:{port}/graphql", args.seconds,
                                   args.attackers))  # fmt: skip
    finally:
        stop(server)


if __name__ == "__main__":
    main()
