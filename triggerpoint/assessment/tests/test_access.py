"""The assessment rows of the role × action matrix, run on their own.

The project-wide matrix (accounts/tests/test_access_matrix.py) runs these rows with every
other app's; this runs only ours so a failure elsewhere cannot hide one here.
"""

from __future__ import annotations

import pytest

from triggerpoint.accounts.tests import test_access_matrix as matrix
from triggerpoint.accounts.tests.test_access_matrix import ROLES, cast  # noqa: F401 - fixture
from triggerpoint.assessment.tests.access_rows import rows


@pytest.mark.parametrize("role", ROLES)
def test_every_assessment_route_allows_exactly_the_roles_in_the_policy(role, cast, patient, client, bearer, monkeypatch):  # noqa: F811
    monkeypatch.setattr(matrix, "_routes", rows)
    matrix.test_every_route_allows_exactly_the_roles_in_the_policy(role, cast, patient, client, bearer)


def test_every_assessment_route_has_a_row(db, clinic_a):
    from triggerpoint.conftest import make_patient

    covered = {row[0] for row in rows(make_patient(clinic_a, "X-2"))}
    assessment_routes = {name for name in matrix._all_route_names() if name.startswith("assessment:")}
    api_routes = {name for name in matrix._all_route_names() if name.startswith("api:assessment")}
    assert assessment_routes | api_routes <= covered
