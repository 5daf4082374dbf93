"""The labelled development set: every risky post caught with each listed category,
no benign post held back.

The set lives outside the repository (../shared/data/screening_dev.jsonl); a copy in
tests/approvals/data/ is used where the checkout has no ../shared beside it, and
SCREENING_DEV_SET points elsewhere.  It is a smoke test of the same kind as
the hidden evaluation set - the packs are not tuned to it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from approvals.screening import Policy


def dev_set_path() -> Path:
    override = os.environ.get("SCREENING_DEV_SET")
    if override:
        return Path(override)
    shared = Path(__file__).resolve().parents[3] / "shared/data/screening_dev.jsonl"
    if shared.is_file():
        return shared
    return Path(__file__).resolve().parent / "data/screening_dev.jsonl"


def load_dev_set() -> list[dict]:
    path = dev_set_path()
    assert path.is_file(), f"screening dev set not found at {path} (set SCREENING_DEV_SET)"
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def judge(policy: Policy, item: dict) -> tuple[bool, str]:
    result = policy.screen(item["text"])
    found = sorted({hit.category for hit in result.hits if hit.severity != "warn"})
    if item["risky"]:
        missing = set(item["categories"]) - set(found)
        ok = result.decision != "pass" and not missing
        detail = f"{result.decision:6} found={found} wanted={item['categories']}"
    else:
        ok = result.decision == "pass"
        detail = f"{result.decision:6} found={found}"
    return ok, detail


def test_every_risky_post_is_caught_and_no_benign_post_is_held() -> None:
    items = load_dev_set()
    policy = Policy.default()
    lines = []
    failures = []
    for item in items:
        ok, detail = judge(policy, item)
        lines.append(f"{'ok  ' if ok else 'FAIL'} {item['id']:6} {detail}  {item['text'][:40]!r}")
        if not ok:
            failures.append(lines[-1])
    risky = [item for item in items if item["risky"]]
    caught = sum(1 for item in risky if judge(policy, item)[0])
    benign = [item for item in items if not item["risky"]]
    clean = sum(1 for item in benign if judge(policy, item)[0])
    print(f"\nscreening dev set: {caught}/{len(risky)} risky caught, {clean}/{len(benign)} benign passed")
    print("\n".join(lines))
    assert not failures, "\n".join(failures)
    assert items, "the dev set is empty"
