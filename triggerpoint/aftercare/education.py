"""The patient education library: plain-language articles written by the clinic.

Decides which article a patient reads (in their language, falling back to English)
and which articles belong to a given aftercare plan. Articles are Markdown files
under ``data/articles/<slug>.<lang>.md`` with YAML front matter (title, summary,
last review date, sources, tags) validated against ``article.schema.json``, so
clinicians edit words, not code, and every article shows when it was last reviewed
and what it is based on. The body stays Markdown; rendering is the web layer's job.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from triggerpoint.aftercare.plan import AftercarePlan
from triggerpoint.followup import windows  # called as windows.load_windows(): one table, replaceable in tests

ARTICLE_DIR = Path(__file__).resolve().parent / "data" / "articles"
SCHEMA_PATH = ARTICLE_DIR / "article.schema.json"
DEFAULT_LANGUAGE = "en"
FILE_NAME = re.compile(r"^(?P<slug>[a-z0-9][a-z0-9-]*)\.(?P<lang>[a-z]{2})\.md$")
FRONT_MATTER = re.compile(r"\A---\n(?P<meta>.*?)\n---\n(?P<body>.*)\Z", re.DOTALL)


class ArticleError(ValueError):
    """An article file is malformed or its front matter does not match the schema."""


@dataclass(frozen=True)
class Source:
    title: str
    url: str | None = None


@dataclass(frozen=True)
class Article:
    slug: str
    language: str
    title: str
    summary: str
    last_reviewed: date
    sources: tuple[Source, ...]
    tags: tuple[str, ...]
    body: str  # Markdown

    def as_dict(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "language": self.language,
            "title": self.title,
            "summary": self.summary,
            "last_reviewed": self.last_reviewed.isoformat(),
            "sources": [{"title": s.title, **({"url": s.url} if s.url else {})} for s in self.sources],
            "tags": list(self.tags),
            "body": self.body,
        }


def parse_article(text: str, slug: str, language: str, origin: str = "<article>") -> Article:
    """Split front matter from body (YAML between ``---`` lines) and validate it."""
    match = FRONT_MATTER.match(text.replace("\r\n", "\n"))
    if match is None:
        raise ArticleError(f"{origin}: expected YAML front matter between '---' lines at the top")
    try:
        meta = yaml.safe_load(match["meta"])
    except (yaml.YAMLError, ValueError) as error:  # PyYAML raises ValueError for dates like 2026-02-30
        raise ArticleError(f"{origin}: front matter is not valid YAML: {error}") from error
    if isinstance(meta, dict) and isinstance(meta.get("last_reviewed"), date):
        # YAML reads an unquoted date as a date; the schema checks its ISO text form.
        meta["last_reviewed"] = meta["last_reviewed"].isoformat()
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    errors = sorted(Draft202012Validator(schema).iter_errors(meta), key=lambda e: list(e.absolute_path))
    if errors:
        details = "; ".join(f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors)
        raise ArticleError(f"{origin}: front matter does not match article.schema.json: {details}")
    try:
        last_reviewed = date.fromisoformat(meta["last_reviewed"])
    except ValueError as error:
        raise ArticleError(f"{origin}: last_reviewed: {error}") from error
    return Article(
        slug=slug,
        language=language,
        title=meta["title"],
        summary=meta["summary"],
        last_reviewed=last_reviewed,
        sources=tuple(Source(title=s["title"], url=s.get("url")) for s in meta["sources"]),
        tags=tuple(meta.get("tags", ())),
        body=_with_warning_windows(match["body"].strip() + "\n", origin),
    )


def _with_warning_windows(body: str, origin: str) -> str:
    """Fill ``{{window:<id>}}`` / ``{{window_weeks:<id>}}`` from the follow-up warning-window table.

    The windows in which a warning sign is acted on are decided once, in
    followup/data/warning_windows.yaml (the table triage reads), so an article never states a
    number that triage does not use.
    """
    return windows.load_windows().expand_article(body, origin)


@cache
def load_articles() -> dict[tuple[str, str], Article]:
    """Every shipped article keyed by (slug, language); raises `ArticleError` on any bad file."""
    articles: dict[tuple[str, str], Article] = {}
    problems: list[str] = []
    for path in sorted(ARTICLE_DIR.glob("*.md")):
        name = FILE_NAME.match(path.name)
        if name is None:
            problems.append(f"{path.name}: expected <slug>.<lang>.md")
            continue
        try:
            articles[(name["slug"], name["lang"])] = parse_article(
                path.read_text(encoding="utf-8"), name["slug"], name["lang"], origin=path.name
            )
        except ArticleError as error:
            problems.append(str(error))
    if problems:
        raise ArticleError("; ".join(problems))
    return articles


def article_slugs() -> tuple[str, ...]:
    return tuple(sorted({slug for slug, _ in load_articles()}))


def get_article(slug: str, language: str = DEFAULT_LANGUAGE) -> Article:
    """The article in `language`, or its English version when that translation is missing.

    The returned article's `language` says which one was found. KeyError for an unknown slug.
    """
    articles = load_articles()
    if (slug, language) in articles:
        return articles[(slug, language)]
    if (slug, DEFAULT_LANGUAGE) in articles:
        return articles[(slug, DEFAULT_LANGUAGE)]
    raise KeyError(f"unknown article {slug!r}; available {list(article_slugs())}")


def articles_for_plan(plan: AftercarePlan, language: str | None = None) -> tuple[Article, ...]:
    """The articles the plan's tasks link to, in the order they first appear in the plan."""
    return tuple(get_article(slug, language or plan.language) for slug in plan.article_ids)


def plain_text(markdown: str) -> str:
    """The body as sentences, for readability scoring and text-only channels.

    Drops Markdown markers (headings, list bullets, emphasis, link targets) and ends
    each heading or list item with a full stop so it counts as its own sentence, as
    a reader sees it. Handles only the small Markdown subset the articles use.
    """
    sentences: list[str] = []
    for raw_line in markdown.splitlines():
        line = re.sub(r"^\s*(#+|[-*+]|\d+\.)\s+", "", raw_line).strip()
        line = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", line)
        line = line.replace("**", "").replace("__", "")
        if not line:
            continue
        if line[-1] not in ".!?:;":
            line += "."
        sentences.append(line)
    return " ".join(sentences)


def missing_articles(slugs: Iterable[str]) -> list[str]:
    """Which of `slugs` have no article at all (used to check templates against the library)."""
    available = set(article_slugs())
    return sorted(set(slugs) - available)
