"""Access decisions for every atlas route (run by accounts/tests/test_access_matrix.py).

The atlas is reference content, not patient data: every staff role may use it
(action ``atlas.view``), including staff of another clinic; portal patients and
anonymous visitors may not.
"""

from __future__ import annotations

ALL_STAFF = {"physician", "nurse", "front_desk", "analyst", "clinic_admin"}


def rows(patient):
    drawing = {"zones": [{"zone": "temple-l", "intensity": 6}, {"zone": "neck-side-l", "intensity": 4}], "limit": 3}
    return [
        ("atlas:index", "get", "/atlas/", None, ALL_STAFF, {200}),
        ("atlas:muscle", "get", "/atlas/muscles/upper_trapezius/?side=left", None, ALL_STAFF, {200}),
        ("atlas:drawing", "get", "/atlas/drawing/", None, ALL_STAFF, {200}),
        ("api:atlas_zones", "get", "/api/v1/atlas/zones", None, ALL_STAFF, {200}),
        ("api:atlas_muscles", "get", "/api/v1/atlas/muscles?q=trapezius", None, ALL_STAFF, {200}),
        ("api:atlas_muscle", "get", "/api/v1/atlas/muscles/upper_trapezius", None, ALL_STAFF, {200}),
        ("api:atlas_suggest", "post", "/api/v1/atlas/suggest", drawing, ALL_STAFF, {200}),
    ]
