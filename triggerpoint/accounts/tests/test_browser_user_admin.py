"""In a real browser, as the clinic admin: add a user (who enrols from the emailed link), deactivate a user,
reset a second factor, and the user signs in again with a new authenticator."""

from __future__ import annotations

import base64
import re

import pytest
from django_otp.oath import totp
from playwright.sync_api import expect

from triggerpoint.accounts.models import User
from triggerpoint.conftest import browser_login
from triggerpoint.notifications.services import deliver_due

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a long enough passphrase"


def _emailed_link(smtp_server, to: str) -> str:
    deliver_due()
    [message] = [m for m in smtp_server.messages if m["To"] == to]
    smtp_server.messages.clear()
    part = message if not message.is_multipart() else message.get_payload(0)
    return re.search(r"https?://\S+/accounts/enrol/[^/\s]+/", part.get_payload(decode=True).decode()).group(0)


def _code_for(page) -> str:
    """What the authenticator app shows after the key on the page is typed into it."""
    secret = page.locator("#totp-secret").inner_text().replace(" ", "").strip()
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return f"{totp(key):06d}"


def _open_link(pg, live_server, link: str) -> None:
    pg.goto(live_server.url + link[link.index("/accounts/enrol/"):])  # the mail names SITE_URL; tests serve elsewhere


def test_admin_adds_deactivates_and_resets_and_the_user_enrols_again(browser, page, live_server, clinic_admin,
                                                                       front_desk, smtp_server, screenshot):
    browser_login(page, live_server, clinic_admin)
    page.wait_for_load_state()
    page.click("nav.shell-nav >> text=Users")
    expect(page.locator("h1")).to_have_text("Users")

    # Add a user: the account exists at once, the link goes by email.
    page.click("text=Add a user")
    page.fill("#id_first_name", "Ana")
    page.fill("#id_last_name", "Ruiz")
    page.fill("#id_username", "ana.ruiz")
    page.fill("#id_email", "ana.ruiz@clinic.example")
    page.check("input[name=roles][value=nurse]")
    screenshot(page, "admin-users-01-add-a-user")
    page.click("form.form-grid button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("An enrolment link was emailed to ana.ruiz@clinic.example")
    expect(page.locator("#second-factor")).to_contain_text("link sent")
    ana = User.objects.get(username="ana.ruiz")
    link = _emailed_link(smtp_server, "ana.ruiz@clinic.example")

    # Ana's first sign-in, in her own browser: choose a password, scan, type the code.
    ana_context = browser.new_context(viewport={"width": 1280, "height": 900})
    ana_page = ana_context.new_page()
    ana_page.set_default_timeout(15000)
    _open_link(ana_page, live_server, link)
    expect(ana_page.locator("h1")).to_contain_text("Welcome")
    expect(ana_page.locator("img[alt='QR code for your authenticator app']")).to_be_visible()
    screenshot(ana_page, "admin-users-02-first-sign-in-enrolment")
    ana_page.fill("#id_new_password1", PASSWORD)
    ana_page.fill("#id_new_password2", PASSWORD)
    ana_page.fill("#id_code", _code_for(ana_page))
    ana_page.click(".login-card button[type=submit]")
    ana_page.wait_for_url(f"{live_server.url}/worklist/")
    expect(ana_page.locator(".shell-user")).to_contain_text("Ana Ruiz")

    # Deactivate the front desk account, after the confirmation step.
    page.goto(f"{live_server.url}/accounts/users/{front_desk.pk}/")
    page.click("text=Deactivate")
    expect(page.locator("h1")).to_have_text("Deactivate fred.desk?")
    screenshot(page, "admin-users-03-confirm-deactivation")
    page.click("#confirm")
    expect(page.locator(".messages")).to_contain_text("fred.desk was deactivated")
    front_desk.refresh_from_db()
    assert not front_desk.is_active

    # Ana lost her phone: reset her second factor. Her open session stops counting at once.
    page.goto(f"{live_server.url}/accounts/users/{ana.pk}/")
    page.click("text=Reset second factor")
    expect(page.locator("h1")).to_contain_text("Reset the second factor of ana.ruiz?")
    page.click("#confirm")
    expect(page.locator(".messages")).to_contain_text("A new enrolment link was emailed")
    link = _emailed_link(smtp_server, "ana.ruiz@clinic.example")
    ana_page.goto(f"{live_server.url}/worklist/")
    ana_page.wait_for_url(re.compile(r".*/accounts/login/.*"))
    ana_page.wait_for_load_state()

    # Signing in with the password alone cannot work any more ...
    ana_page.fill("#id_username", "ana.ruiz")
    ana_page.fill("#id_password", PASSWORD)
    ana_page.fill("#id_otp_token", "123456")
    ana_page.click(".login-card button[type=submit]")  # her unverified session still shows "Sign out" above
    expect(ana_page.locator(".form-errors")).to_contain_text("No authenticator app is set up")

    # ... the emailed link and her password enrol the new phone, and she is signed in.
    _open_link(ana_page, live_server, link)
    expect(ana_page.locator("h1")).to_contain_text("Set up your authenticator app again")
    ana_page.fill("#id_password", PASSWORD)
    ana_page.fill("#id_code", _code_for(ana_page))
    screenshot(ana_page, "admin-users-04-enrol-again-after-reset")
    ana_page.click(".login-card button[type=submit]")
    ana_page.wait_for_url(f"{live_server.url}/worklist/")
    ana_context.close()

    # A token for Ana's scheduling system: shown once; revoking it asks first.
    page.goto(f"{live_server.url}/accounts/users/{ana.pk}/")
    page.fill("#id_name", "scheduling-sync")
    page.fill("#id_expires_days", "30")
    page.click("text=Create a token")
    secret = page.locator("#token-secret").inner_text().strip()
    assert secret.startswith("tpc_") and ana.api_tokens.get().token_hash != secret
    screenshot(page, "admin-users-06-token-shown-once")
    page.click("text=Done")
    expect(page.locator("body")).not_to_contain_text(secret)
    page.click("text=Revoke…")
    expect(page.locator("h1")).to_contain_text("Revoke the token “scheduling-sync”")
    screenshot(page, "admin-users-07-confirm-revoke")
    assert ana.api_tokens.get().revoked_at is None
    page.click("#confirm")
    expect(page.locator(".messages")).to_contain_text("revoked")
    assert ana.api_tokens.get().revoked_at is not None

    page.goto(f"{live_server.url}/accounts/users/")
    table = page.locator("#users")
    expect(table.locator("tr", has_text="fred.desk")).to_contain_text("deactivated")
    expect(table.locator("tr", has_text="ana.ruiz")).to_contain_text("enrolled")
    screenshot(page, "admin-users-05-users-list")
    page.goto(f"{live_server.url}/accounts/users/{ana.pk}/")
    screenshot(page, "admin-users-08-user-page")
