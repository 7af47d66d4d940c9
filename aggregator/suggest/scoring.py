"""The importance score: the curators' published rules (seed 000's NOTE, feeds.yaml's preface) as
points, each with its reason. Pure and deterministic: the same input always gives the same score.

- business applications count over pure research (the suggested top section, else the post's words);
- public source code or model checkpoints raise it (GitHub repositories, Hugging Face models among
  the article's links);
- the topics in scope (CV, NLP, recommender systems, training and inference, MLOps) raise it, topics
  out of scope lower it;
- the source's record (the share of its decided items that were promoted) moves it;
- the feed's ``weight`` multiplies the whole.

The score is clamped to 0-100; 50 is an ordinary in-scope post of an ordinary source.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from aggregator.suggest.features import content
from aggregator.suggest.lexicon import KINDS, OUT_OF_SCOPE, TOPICS, find_cues
from aggregator.suggest.values import Contribution, Score, ScoreInput

__all__ = ["BASE", "code_links", "importance"]

BASE = 40.0
BUSINESS, RESEARCH = 12.0, -8.0
GITHUB, HUGGING_FACE, CODE_CAP = 15.0, 10.0, 20.0
IN_SCOPE, NO_TOPIC, OUT = 10.0, -5.0, -20.0
RECORD_SPAN, RECORD_MIN = 40.0, 3
"""The record moves the score by up to ``RECORD_SPAN`` times its distance from a 30% promotion
share, once the feed has at least ``RECORD_MIN`` decided items."""

_GITHUB_NOT_REPOS = frozenset(
    {"about", "features", "topics", "sponsors", "orgs", "marketplace", "pricing", "login", "settings",
     "collections", "trending", "explore", "site", "security", "enterprise", "blog"}
)  # fmt: skip
_HF_NOT_MODELS = frozenset(
    {"blog", "docs", "spaces", "datasets", "papers", "learn", "posts", "tasks", "pricing", "join", "login",
     "models", "organizations", "settings", "collections", "chat"}
)  # fmt: skip
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def code_links(links: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """The GitHub repositories and Hugging Face models among ``links``, as ``owner/name``, each once."""
    repos: dict[str, None] = {}
    models: dict[str, None] = {}
    for link in links:
        try:
            parts = urlsplit(link)
        except ValueError:
            continue
        host = (parts.hostname or "").lower().removeprefix("www.")
        segments = [s for s in parts.path.split("/") if s][:2]
        if len(segments) < 2 or not all(_NAME.match(s) for s in segments):
            continue
        name = f"{segments[0]}/{segments[1].removesuffix('.git')}"
        if host == "github.com" and segments[0].lower() not in _GITHUB_NOT_REPOS:
            repos[name] = None
        elif host in {"huggingface.co", "hf.co"} and segments[0].lower() not in _HF_NOT_MODELS:
            models[name] = None
    return list(repos), list(models)


def importance(given: ScoreInput) -> Score:
    """The item's importance, 0-100, with every reason and the points it brought."""
    item = given.item
    text = content(item)
    reasons = [Contribution("base", BASE)]
    reasons.append(_kind(given, text))
    reasons.extend(_code(given.links + ((item.url,) if item.url else ())))
    reasons.extend(_scope(f"{item.title}\n{text}", f"{item.title}"))
    record = _record(given.promoted, given.decided)
    if record is not None:
        reasons.append(record)
    subtotal = sum(r.points for r in reasons)
    if given.weight != 1.0:
        reasons.append(Contribution(f"feed weight {given.weight:g}", round(subtotal * (given.weight - 1), 1)))
    value = min(100.0, max(0.0, round(sum(r.points for r in reasons), 1)))
    return Score(value, tuple(r for r in reasons if r.points))


def _kind(given: ScoreInput, text: str) -> Contribution:
    if given.suggestion is not None:
        top = given.suggestion.section.split("/", 1)[0]
        if top == "research":
            return Contribution("research (suggested section)", RESEARCH)
        return Contribution("business application (suggested section)", BUSINESS)
    business = find_cues(text, KINDS["business"])
    research = find_cues(text, KINDS["research"])
    if len(business) > len(research):
        return Contribution(f"business application ('{business[0]}')", BUSINESS)
    if research:
        return Contribution(f"research ('{research[0]}')", RESEARCH)
    return Contribution("kind unclear", 0.0)


def _code(links: tuple[str, ...]) -> list[Contribution]:
    repos, models = code_links(links)
    found = []
    if repos:
        more = f" +{len(repos) - 1}" if len(repos) > 1 else ""
        found.append(Contribution(f"public code (GitHub {repos[0]}{more})", GITHUB))
    if models:
        more = f" +{len(models) - 1}" if len(models) > 1 else ""
        found.append(Contribution(f"model checkpoint (Hugging Face {models[0]}{more})", HUGGING_FACE))
    if sum(c.points for c in found) > CODE_CAP:
        found[-1] = Contribution(found[-1].phrase, CODE_CAP - found[0].points)
    return found


def _scope(text: str, title: str) -> list[Contribution]:
    found = []
    hits = {topic: find_cues(text, cues) for topic, cues in TOPICS.items()}
    best = max(hits, key=lambda t: (len(hits[t]), t)) if hits else None
    if best is not None and hits[best]:
        cues = ", ".join(f"'{c}'" for c in hits[best][:2])
        found.append(Contribution(f"in scope: {best} ({cues})", IN_SCOPE))
    else:
        found.append(Contribution("no in-scope topic found", NO_TOPIC))
    out = find_cues(title, OUT_OF_SCOPE)
    if out:
        found.append(Contribution(f"out of scope ('{out[0]}')", OUT))
    return found


def _record(promoted: int, decided: int) -> Contribution | None:
    if decided < RECORD_MIN:
        return None
    share = (promoted + 1) / (decided + 2)
    points = round(max(-10.0, min(15.0, RECORD_SPAN * (share - 0.3))), 1)
    return Contribution(f"source record: {promoted} of {decided} promoted", points)
