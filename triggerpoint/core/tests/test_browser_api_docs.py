"""The API docs page (Swagger UI) works under the strict Content-Security-Policy.

Django Ninja's default page loads Swagger UI from a CDN and configures it with an inline
script, both refused by our CSP, so the page stayed blank. With `ninja` installed it serves
the same assets from our own static files and configures them from a JSON block.
"""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_api_docs_render_every_operation_with_no_csp_violation(page, live_server, screenshot):
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("requestfailed", lambda request: problems.append(f"failed: {request.url}"))
    page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    response = page.goto(f"{live_server.url}/api/v1/docs")
    assert response.status == 200 and "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector(".opblock-summary-path", timeout=15_000)
    assert page.locator(".opblock").count() >= 60, "Swagger UI did not list the API's operations"
    assert "Trigger Point Clinic API" in page.locator(".info .title").first.inner_text()
    screenshot(page, "api-docs", full_page=False)

    assert not [url for url in requested if not url.startswith(live_server.url) and not url.startswith("data:")], requested
    assert not problems, problems


def test_the_openapi_document_has_no_duplicated_keys(client):
    """JSON allows a repeated key only in theory; Swagger UI's parser refused "422" twice in one operation."""
    import json

    repeated: list[str] = []

    def refuse_repeats(pairs):
        keys = [key for key, _ in pairs]
        repeated.extend(sorted({key for key in keys if keys.count(key) > 1}))
        return dict(pairs)

    document = json.loads(client.get("/api/v1/openapi.json").content, object_pairs_hook=refuse_repeats)
    assert document["openapi"].startswith("3.")
    assert repeated == []
