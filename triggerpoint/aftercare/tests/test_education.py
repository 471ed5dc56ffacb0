"""The education library: complete, sourced, bilingual, linked from plans and easy to read."""

from __future__ import annotations

from datetime import date

import pytest

from triggerpoint.aftercare import education
from triggerpoint.aftercare.education import (
    ArticleError,
    articles_for_plan,
    get_article,
    load_articles,
    parse_article,
    plain_text,
)
from triggerpoint.core.readability import (
    ENGLISH_MAX_GRADE,
    SPANISH_MIN_FERNANDEZ_HUERTA,
    english_grade,
    spanish_fernandez_huerta,
    spanish_szigriszt_pazos,
)

TOPICS = {
    "what-are-trigger-points",
    "causes-and-aggravating-factors",
    "conditions-treated",
    "the-injection",
    "preparing-for-your-injection",
    "aftercare",
    "risks-and-warning-signs",
    "treatments-that-work-with-injections",
    "results-and-repeat-injections",
}
ARTICLES = sorted(load_articles())


def test_all_nine_topics_exist_in_english_and_spanish():
    assert set(load_articles()) == {(slug, lang) for slug in TOPICS for lang in ("en", "es")}


@pytest.mark.parametrize(("slug", "language"), ARTICLES)
def test_each_article_shows_a_review_date_and_sources(slug, language):
    article = get_article(slug, language)
    assert article.language == language
    assert date(2026, 1, 1) <= article.last_reviewed <= date.today()
    assert article.sources and all(source.title for source in article.sources)
    assert article.body.startswith("# ")


@pytest.mark.parametrize("slug", sorted(TOPICS))
def test_english_articles_read_at_grade_eight_or_below(slug):
    text = plain_text(get_article(slug, "en").body)
    assert english_grade(text) <= ENGLISH_MAX_GRADE


@pytest.mark.parametrize("slug", sorted(TOPICS))
def test_spanish_articles_are_fairly_easy_or_easier(slug):
    article = get_article(slug, "es")
    assert article.language == "es"
    text = plain_text(article.body)
    assert spanish_fernandez_huerta(text) >= SPANISH_MIN_FERNANDEZ_HUERTA
    assert spanish_szigriszt_pazos(text) >= 55  # "normal" or easier on the Inflesz scale


def test_the_readability_measures_can_fail():
    dense = (
        "Myofascial trigger point pathophysiology encompasses sustained sarcomeric contracture, localized "
        "ischemic hypoxia, and sensitization of nociceptive afferents, consequently generating referred "
        "hyperalgesia characteristically distributed throughout anatomically predictable territories."
    )
    assert english_grade(dense) > ENGLISH_MAX_GRADE
    denso = (
        "La fisiopatología de los puntos gatillo miofasciales comprende la contractura sarcomérica sostenida, "
        "la hipoxia isquémica localizada y la sensibilización de aferencias nociceptivas, generando consecuentemente "
        "hiperalgesia referida característicamente distribuida en territorios anatómicamente predecibles."
    )
    assert spanish_fernandez_huerta(denso) < SPANISH_MIN_FERNANDEZ_HUERTA


def test_plain_text_turns_headings_and_bullets_into_sentences():
    assert plain_text("# Title\n\n- one item\n- **two** [link](https://x.org)\n\nA line.") == (
        "Title. one item. two link. A line."
    )


def test_a_language_we_do_not_have_falls_back_to_english():
    article = get_article("aftercare", "vi")
    assert article.language == "en"


def test_a_missing_spanish_translation_falls_back_to_english(monkeypatch):
    english_only = {key: value for key, value in load_articles().items() if key != ("aftercare", "es")}
    monkeypatch.setattr(education, "load_articles", lambda: english_only)
    assert get_article("aftercare", "es").language == "en"
    assert get_article("risks-and-warning-signs", "es").language == "es"


def test_an_unknown_article_is_refused():
    with pytest.raises(KeyError, match="aftercare"):
        get_article("no-such-article", "en")


def test_articles_for_a_plan_are_those_its_tasks_link_in_the_plan_language(make_plan):
    plan = make_plan(language="es", injectates=[{"drug": "Botox"}], physical_therapy_planned=True)
    articles = articles_for_plan(plan)
    assert [a.slug for a in articles] == list(plan.article_ids)
    assert {
        "aftercare",
        "risks-and-warning-signs",
        "results-and-repeat-injections",
        "treatments-that-work-with-injections",
    } <= {a.slug for a in articles}
    assert all(a.language == "es" for a in articles)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# No front matter\n", "front matter"),
        ("---\ntitle: T\nsummary: A summary here.\nsources: [{title: Seed}]\n---\nBody\n", "last_reviewed"),
        (
            "---\ntitle: Tt\nsummary: A summary here.\nlast_reviewed: 2026-02-30\nsources: [{title: Seed}]\n---\nB\n",
            "not valid YAML",
        ),
        (
            "---\ntitle: Tt\nsummary: A summary here.\nlast_reviewed: 2026-01-02\nsources: []\n---\nBody\n",
            "sources",
        ),
    ],
)
def test_a_malformed_article_is_refused(text, message):
    with pytest.raises(ArticleError, match=message):
        parse_article(text, "x", "en")
