"""Articles on the web: Markdown rendered by the library with raw HTML escaped; index and
pages in English and Spanish with their review date and sources."""

from __future__ import annotations

import pytest

from triggerpoint.aftercare.education import article_slugs, get_article, load_articles
from triggerpoint.aftercare.rendering import render_markdown, without_leading_title


def test_markdown_becomes_html():
    html = render_markdown("# Title\n\nSome **bold** text.\n\n- one\n- two\n\n[Clinic](https://example.org)")
    assert "<h1>Title</h1>" in html and "<strong>bold</strong>" in html and "<li>one</li>" in html
    assert '<a href="https://example.org" rel="noopener noreferrer">Clinic</a>' in html


def test_raw_html_in_an_article_is_shown_as_text_not_run():
    html = render_markdown('<script>alert(1)</script>\n\nHi <img src=x onerror="alert(1)"> there\n\n<div>x</div>')
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<img" not in html and "<div>" not in html


def test_unsafe_link_targets_are_dropped_but_the_text_stays():
    html = render_markdown("[click](javascript:alert(1)) and [data](data:text/html,x) and [ok](/aftercare/learn/)")
    assert "javascript:" not in html and "data:" not in html
    assert "<a>click</a>" in html and '<a href="/aftercare/learn/">ok</a>' in html


def test_the_opening_title_is_dropped_and_no_heading_outranks_the_page_title():
    body = without_leading_title("# Title\n\nIntro.\n\n## Part\n\n# Stray")
    assert body.startswith("Intro.")
    html = render_markdown(body, min_heading=2)
    assert "<h1>" not in html and "<h2>Part</h2>" in html and "<h2>Stray</h2>" in html


def test_every_shipped_article_renders_without_raw_html():
    for article in load_articles().values():
        html = render_markdown(article.body)
        assert "&lt;" not in html, f"{article.slug}.{article.language} contains raw HTML"


@pytest.mark.django_db
def test_the_library_lists_every_article_in_the_asked_language(client):
    english = client.get("/aftercare/learn/").content.decode()
    spanish = client.get("/aftercare/learn/?lang=es").content.decode()
    for slug in article_slugs():
        assert get_article(slug, "en").title in english
        assert get_article(slug, "es").title in spanish
    assert "Aprenda sobre su tratamiento" in spanish


@pytest.mark.django_db
def test_an_article_page_shows_its_review_date_and_sources(client):
    article = get_article("risks-and-warning-signs", "es")
    html = client.get("/aftercare/learn/risks-and-warning-signs/?lang=es").content.decode()
    assert article.title in html and "Revisado por última vez" in html and "Fuentes" in html
    assert article.last_reviewed.strftime("%Y") in html
    for source in article.sources:
        assert source.title in html or source.title.replace("&", "&amp;") in html
    assert html.count("<h1>") == 1
    assert html.count(article.title) == 2  # the page title and the <title>, not again from the body


@pytest.mark.django_db
def test_a_spanish_speaking_patient_gets_spanish_without_asking_and_staff_can_switch(client, patient, physician,
                                                                                       login_as):
    patient.preferred_language = "es"
    patient.save()
    client.force_login(patient.portal_user)
    assert get_article("aftercare", "es").title in client.get("/aftercare/learn/aftercare/").content.decode()
    staff = login_as(physician)
    assert get_article("aftercare", "en").title in staff.get("/aftercare/learn/aftercare/").content.decode()
    assert get_article("aftercare", "es").title in staff.get("/aftercare/learn/aftercare/?lang=es").content.decode()


@pytest.mark.django_db
def test_an_unknown_article_is_not_found(client):
    assert client.get("/aftercare/learn/no-such-article/").status_code == 404
