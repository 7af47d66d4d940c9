"""The README's table of `--json` shapes, checked against what the commands print."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.stock import Stock
from tests.test_triage_cli import invoke, st

__all__ = ["st"]

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_shapes() -> dict[str, set[str]]:
    """Entity -> keys, from the rows of the README's "JSON shapes" table."""
    text = README.read_text(encoding="utf-8")
    part = text.split("### JSON shapes", 1)[1].split("\n#", 1)[0]
    shapes: dict[str, set[str]] = {}
    for line in part.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or cells[0] in ("entity", "---"):
            continue
        shapes[cells[0]] = set(re.findall(r"`([a-z_]+)`", cells[2]))
    return shapes


def printed(*args: str) -> Any:
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def code_shapes(st: Stock) -> dict[str, set[str]]:
    cid, other = st.id("Serving many models"), st.id("루다 생성 모델")
    assert invoke("extract", "--id", str(cid)).exit_code == 0
    decision = printed("promote", str(cid), "--section", "business/mlops", "--digest", "2024-03")
    printed("shortlist", str(other))
    unchanged = printed("shortlist", str(other))
    shown = printed("show", str(cid))
    [listed] = [c for c in printed("candidates", "list") if c["id"] == cid]
    [queued] = [q for q in printed("queue", "--status", "all") if q["id"] == cid]
    [log] = printed("log", str(cid))
    [feed] = printed("feeds", "status")
    issue = printed("digest", "show", "2024-03")
    [section] = [s for s in issue["sections"] if s["id"] == "business"]
    [sub] = [s for s in section["subsections"] if s["id"] == "business/mlops"]
    return {
        "candidate": set(listed),
        "candidate shown": set(shown),
        "article": set(shown["article"]),
        "queue item": set(queued),
        "queue item's article": set(queued["article"]),
        "decision": set(decision),
        "change": set(decision["changed"][0]),
        "unchanged": set(unchanged["unchanged"][0]),
        "log entry": set(log),
        "feed status": set(feed),
        "digest issue": set(issue),
        "digest section": set(section),
        "digest subsection": set(sub),
        "digest item": set(sub["items"][0]),
    }


def test_the_readme_table_is_the_code_s_json(st: Stock) -> None:
    code = code_shapes(st)
    assert readme_shapes() == code


def test_a_candidate_is_the_same_object_in_show_list_and_queue(st: Stock) -> None:
    code = code_shapes(st)
    assert code["candidate"] <= code["candidate shown"]
    # The queue's keys are the candidate's and the shown candidate's, never others for the same facts.
    assert code["queue item"] - {"section_hint"} <= code["candidate shown"]
    assert code["queue item's article"] <= code["article"]
    shown = printed("show", str(st.id("Serving many models")))
    [queued] = [q for q in printed("queue", "--status", "all") if q["id"] == shown["id"]]
    for key in code["queue item"] - {"section_hint", "routes", "article"}:
        assert queued[key] == shown[key], key
    assert queued["article"] == {k: shown["article"][k] for k in queued["article"]}
