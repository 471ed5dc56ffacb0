"""The test cast and shared fixtures.

A small named cast (house style): a physician, a nurse, front desk, an analyst
and a clinic admin in clinic A; a physician in clinic B who must see nothing of
clinic A; a patient with a portal account and another patient.
"""

from __future__ import annotations

import os
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(autouse=True, scope="session")
def _media_in_a_temporary_folder(tmp_path_factory):
    """Uploaded files (ultrasound stills) never land in the project's var/media during tests."""
    from django.test import override_settings

    with override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media"))):
        yield


@pytest.fixture(autouse=True)
def _test_code_lives_on_the_clinics_day(settings):
    """Test code speaks for a signed-in user, so its "today" is the clinic's, as in a request.

    `ClinicTimeZoneMiddleware` activates the clinic's zone for every signed-in request; without this,
    a test computing `timezone.localdate()` got the UTC date, which is already tomorrow for five hours
    every evening in New York, and tests failed only in that window. The test clinics use the default
    zone. Runtime code outside a request (worker, tokenised links) must not rely on this: it uses
    `Clinic.today()`, proven with a frozen evening clock in `clinics/tests/test_clinic_day.py`.
    """
    timezone.activate(settings.CLINIC_DEFAULT_TIME_ZONE)
    yield
    timezone.deactivate()


@pytest.fixture(autouse=True, scope="session")
def _routes_loaded_before_any_frozen_clock():
    """Load the URLconf (and the API schemas) once, with the real clock.

    If the first import happened inside a freezegun block, pydantic would build the
    API schemas around freezegun's fake date class and every later request would fail.
    """
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - the import side effect is the point


@pytest.fixture
def clinic_a(db):
    from triggerpoint.clinics.models import Clinic

    return Clinic.objects.create(name="Alpha Test Clinic", slug="alpha", phone="(555) 000-0001")


@pytest.fixture
def clinic_b(db):
    from triggerpoint.clinics.models import Clinic

    return Clinic.objects.create(name="Beta Test Clinic", slug="beta")


def make_staff(username: str, role: str, clinic, with_totp: bool = True):
    from django.contrib.auth.models import Group

    from triggerpoint.accounts import mfa
    from triggerpoint.accounts.models import User

    user = User.objects.create_user(username, password="correct-horse-battery", clinic=clinic)
    user.groups.add(Group.objects.get_or_create(name=role)[0])  # transactional tests flush migration data
    if with_totp:
        mfa.provision_totp(user, "3132333435363738393031323334353637383930")
    return user


@pytest.fixture
def physician(clinic_a):
    return make_staff("alice.physician", "physician", clinic_a)


@pytest.fixture
def nurse(clinic_a):
    return make_staff("nina.nurse", "nurse", clinic_a)


@pytest.fixture
def front_desk(clinic_a):
    return make_staff("fred.desk", "front_desk", clinic_a)


@pytest.fixture
def analyst(clinic_a):
    return make_staff("andy.analyst", "analyst", clinic_a)


@pytest.fixture
def clinic_admin(clinic_a):
    return make_staff("carla.admin", "clinic_admin", clinic_a)


@pytest.fixture
def physician_b(clinic_b):
    return make_staff("bob.otherclinic", "physician", clinic_b)


def make_patient(clinic, mrn: str, given: str = "Test", family: str = "Patient", **extra):
    from triggerpoint.patients.models import Patient

    defaults = dict(
        date_of_birth=date(1980, 5, 17),
        sex="female",
        weight_kg=Decimal("70.0"),
        weight_measured_on=date(2026, 11, 1),
        email=f"{mrn.lower()}@example.org",
    )
    defaults.update(extra)
    return Patient.objects.create(clinic=clinic, mrn=mrn, given_name=given, family_name=family, **defaults)


@pytest.fixture
def patient(clinic_a):
    from triggerpoint.accounts.models import User

    p = make_patient(clinic_a, "A-0001", "Pat", "Portalowner")
    p.portal_user = User.objects.create_user("pat.portal", password="correct-horse-battery")
    p.save(update_fields=["portal_user"])
    return p


@pytest.fixture
def other_patient(clinic_a):
    from triggerpoint.accounts.models import User

    p = make_patient(clinic_a, "A-0002", "Otto", "Otherperson", sex="male")
    p.portal_user = User.objects.create_user("otto.portal", password="correct-horse-battery")
    p.save(update_fields=["portal_user"])
    return p


@pytest.fixture
def patient_in_b(clinic_b):
    return make_patient(clinic_b, "B-0001", "Bea", "Elsewhere")


def verified_client(client, user):
    """A Django test client signed in as `user` with the second factor passed."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user).first()
    if device is not None:
        session = client.session
        session["otp_device_id"] = device.persistent_id
        session.save()
    return client


@pytest.fixture
def login_as(client):
    def _login(user):
        return verified_client(client, user)

    return _login


@pytest.fixture
def bearer():
    """Headers with a fresh API token for a user."""
    from triggerpoint.accounts.models import ApiToken

    def _headers(user):
        _token, raw = ApiToken.issue(user, "test")
        return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    return _headers


# ---------------------------------------------------------------- real SMTP on loopback
class SmtpSink:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that can be stopped and restarted on the same port."""

    def __init__(self):
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.messages: list = []
        self.controller = None

    def start(self):
        from aiosmtpd.controller import Controller

        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
                import email

                sink.messages.append(email.message_from_bytes(envelope.content))
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_server(settings):
    sink = SmtpSink()
    sink.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = sink.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    yield sink
    sink.stop()


# ---------------------------------------------------------------- browser tests
def chromium_path() -> str | None:
    explicit = os.environ.get("TRIGGERPOINT_CHROMIUM")
    if explicit:
        return explicit
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session", autouse=True)
def _report_connections_left_open(django_db_setup, django_db_blocker):
    """On PostgreSQL, name (and end) the sessions still connected to the test database at the end.

    A session left open by a finished thread makes dropping the test database fail after every test
    passed ("test_test_gw0 is being accessed by other users"). This names what held it, so the leak
    can be found, instead of failing the run on a database that is about to be dropped anyway.
    """
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, state, left(query, 120) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        left_open = cursor.fetchall()
        for pid, state, query in left_open:
            print(f"\nconnection left open on the test database: pid {pid}, {state}, last query: {query}")  # noqa: T201
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.fixture(scope="session")
def browser():
    skip_reason = os.environ.get("TRIGGERPOINT_BROWSER_SKIP")
    executable = chromium_path()
    if skip_reason or not executable:
        pytest.skip(skip_reason or "Debian chromium is not installed (scripts/test installs it when apt-get is usable)")
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made
    # by the test itself (fixtures, assertions) are still synchronous and safe here.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(
            executable_path=executable,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield instance
        instance.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    context.close()


@pytest.fixture
def phone_page(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                  device_scale_factor=2)
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    context.close()


@pytest.fixture
def screenshot():
    """Save a screenshot under test-artifacts/screenshots/ (opened and judged by a person)."""
    directory = ARTIFACTS / "screenshots"
    directory.mkdir(parents=True, exist_ok=True)

    def _shot(pg, name: str, full_page: bool = True) -> Path:
        path = directory / f"{name}.png"
        pg.screenshot(path=str(path), full_page=full_page)
        return path

    return _shot


def totp_now(user) -> str:
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user=user)
    return f"{totp(device.bin_key, step=device.step, digits=device.digits):06d}"


def browser_login(pg, live_server, user, password="correct-horse-battery"):
    pg.goto(f"{live_server.url}/accounts/login/")
    pg.fill("#id_username", user.username)
    pg.fill("#id_password", password)
    if user.clinic_id:
        pg.fill("#id_otp_token", totp_now(user))
    pg.click("button[type=submit]")
