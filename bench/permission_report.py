"""Print what `search_latency.py --permissions` measured as Markdown tables for docs/benchmarks.md."""

from __future__ import annotations

import os
import statistics
from collections.abc import Iterable, Sequence
from typing import Any

from filtered_search import CANDIDATES, Config, Findings, K, Run
from plans import cte, render, summarize


def table(header: Sequence[str], lines: Sequence[str]) -> None:
    print("\n| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for line in lines:
        print(f"| {line} |")


def pct(samples: Sequence[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def latency(samples: Sequence[float]) -> str:
    cells = [f"{pct(samples, p):.1f} ms" for p in (0.50, 0.95, 0.99)]
    return " | ".join([*cells, f"{statistics.mean(samples):.1f} ms"])


def counts(run: Run) -> str:
    sizes = [len(r) for r in run.results]
    return f"{statistics.mean(sizes):.2f} / {min(sizes)}"


def kept(run: Run, exact: Run) -> str:
    """Results per query, what the exact scan returns, queries answered short, and recall@k."""
    pairs = list(zip(run.results, exact.results, strict=True))
    short = sum(1 for got, want in pairs if len(got) < len(want))
    recall = [len(set(got) & set(want)) / len(want) for got, want in pairs if want]
    return f"{counts(run)} | {counts(exact)} | {short} | {statistics.mean(recall):.3f}"


def plans(found: Sequence[dict[str, Any]]) -> str:
    """How the vector ranking ran (path, HNSW tuples read, candidates), and where the time went."""
    summaries = [summarize(plan) for plan in found]
    tuples = [s.hnsw_tuples for s in summaries]
    vector = [s.vector_rows for s in summaries]
    text = statistics.mean(s.text_rows for s in summaries)

    def median_ms(values: Iterable[float]) -> str:
        return f"{statistics.median(values):.1f} ms"

    times = [median_ms(s.vector_ms for s in summaries), median_ms(s.text_ms for s in summaries)]
    return (
        f"{' / '.join(sorted({s.path for s in summaries}))} | {statistics.mean(tuples):.0f} / {max(tuples)}"
        f" | {statistics.mean(vector):.1f} / {min(vector)} | {text:.1f}"
        f" | {' / '.join(times)} | {median_ms(s.ms for s in summaries)}"
    )


SQL = ["caller sees", "p50", "p95", "p99", "mean", "results of k (mean / min)"]
SQL += ["exact scan returns (mean / min)", "queries short of exact", "recall@10 vs exact"]
HTTP = ["caller sees", "p50", "p95", "p99", "mean", "service took_ms p50", "results of k (mean / min)"]
PLANS = ["vector ranking", "HNSW tuples read (mean / max)", "vector candidates (mean / min)"]
PLANS += ["full-text candidates (mean)", "vector / full-text ranking p50", "execution p50"]


def report(found: Findings) -> None:
    """Print the run's setting, then SQL, HTTP, plans, the what-ifs and one plan per caller."""
    served = [c for c in found.cases if c.config.served]
    what_ifs = [c for c in found.cases if not c.config.served]
    print(f"\nmachine: {os.cpu_count()} CPUs; {found.chunks} chunks, 10 per file; vectors: {found.vectors}")
    queries = len(served[0].run.latencies)
    print(f"{queries} queries, configurations in turn, k={K}; SEARCH_CANDIDATES (= ef_search) {CANDIDATES};")
    print(f"hnsw.iterative_scan relaxed_order; hnsw.max_scan_tuples {found.max_scan_tuples}")
    print(
        "visible: "
        + "; ".join(f"{label}: {f} files, {c} chunks" for label, (f, c) in found.visibility.items())
    )
    print("\nSQL alone: PostgresIndex.search, the served statement and settings (baseline: no access join)")
    table(SQL, [f"{c.config.label} | {latency(c.run.latencies)} | {kept(c.run, c.exact)}" for c in served])
    print("\nGET /search end to end: HTTP client, trusted proxy headers from 127.0.0.1")
    table(
        HTTP,
        [
            f"{label} | {latency(run.latencies)} | {statistics.median(run.reported):.1f} ms | {counts(run)}"
            for label, run in found.http.items()
        ],
    )
    print(f"\nPlans: EXPLAIN ANALYZE of the served statement, first {len(served[0].plans)} queries")
    table(["caller sees", *PLANS], [f"{c.config.label} | {plans(c.plans)}" for c in served])
    if what_ifs:
        print("\nWhat if, SQL alone: hnsw.max_scan_tuples, SEARCH_CANDIDATES, the HNSW index forced")
        header = ["caller sees", "max_scan_tuples", "candidates", "plan", *SQL[1:], *PLANS]
        table(
            header,
            [
                f"{what_if(c.config)} | {latency(c.run.latencies)}"
                f" | {kept(c.run, c.exact)} | {plans(c.plans)}"
                for c in what_ifs
            ],
        )
    for c in served:
        print(f"\nvector_hits of the first query, {c.config.label}:")
        print("\n".join("  " + line for line in render(cte(c.plans[0], "vector_hits"))))


def what_if(config: Config) -> str:
    limit = config.max_scan_tuples or "default"
    plan = "HNSW forced" if config.force_hnsw else "planner's choice"
    return f"{config.label} | {limit} | {config.candidates} | {plan}"
