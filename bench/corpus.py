"""Deterministic, readable synthetic company documents for the benchmarks."""

from __future__ import annotations

import random

TOPICS = {
    "expenses": "receipts reimbursement travel hotel per diem approval manager card finance claim",
    "on-call": "pager incident escalation rotation handover alert severity runbook postmortem latency",
    "onboarding": "laptop accounts buddy first week training badge payroll benefits orientation",
    "security": "password phishing vpn laptop encryption access review token secrets audit",
    "hiring": "interview candidate scorecard referral offer recruiter loop feedback headcount",
    "release": "deploy rollback canary changelog freeze branch tag staging production review",
}
GLUE = "the team should always before after when each every our new please note that with for".split()  # noqa: SIM905


def paragraph(rng: random.Random, topic: str, sentences: int = 5) -> str:
    words = TOPICS[topic].split()
    out = []
    for _ in range(sentences):
        length = rng.randint(10, 18)
        sentence = " ".join(rng.choice(words if rng.random() < 0.5 else GLUE) for _ in range(length))
        out.append(sentence.capitalize() + ".")
    return " ".join(out)


def document(seed: int, sections: int = 5) -> tuple[str, str]:
    """Return (title, markdown) with `sections` headed sections of two paragraphs each."""
    rng = random.Random(seed)
    topic = rng.choice(sorted(TOPICS))
    title = f"{topic.title()} handbook {seed}"
    body = [f"# {title}"]
    for number in range(sections):
        body.append(f"## Part {number + 1}")
        body.extend(paragraph(rng, topic) for _ in range(2))
    return title, "\n\n".join(body)
