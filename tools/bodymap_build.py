"""Generate the body-map partial ``templates/atlas/_bodymap.html`` from geometry tables.

Why generate: the body map has ~250 clickable regions (147 zone ids, many shown in
both views). Hand-written paths drift apart, leave gaps and are impossible to review.
Here the body is described as a few *tubes* (head, neck, trunk, arms, legs, hands,
feet: a smooth centre line with a half-width at each station), and every region is a
small polygon in the tube's own coordinates ``(a, f)``: ``a`` is the distance along the
tube, ``f`` runs from -1 (the viewer-left / lateral edge) to +1. Neighbouring regions
share their corners, so they tile the body without gaps, and the outer edges follow
the smooth silhouette.

Geometry is drawn once for the viewer-left half of the figure and mirrored. In the
front view the viewer's left is the patient's RIGHT; in the back view it is the
patient's LEFT. That single rule decides every ``-l`` / ``-r`` suffix.

A build tool, not runtime code: it lives outside the ``triggerpoint`` package and the app
never imports it. Pure Python (no Django): run ``python tools/bodymap_build.py`` after
changing the geometry or the zone vocabulary, and commit the regenerated partial;
``triggerpoint/atlas/tests/test_bodymap_svg.py`` fails when the committed partial is not
exactly what this script generates from the committed zones.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

ATLAS_DIR = Path(__file__).resolve().parents[1] / "triggerpoint" / "atlas"
ZONES_FILE = ATLAS_DIR / "data" / "bodymap-zones.json"
PARTIAL_FILE = ATLAS_DIR / "templates" / "atlas" / "_bodymap.html"

VIEWS: tuple[str, str] = ("front", "back")
END = 1e9  # "to the end of the tube" in region tables
Point = tuple[float, float]


# --------------------------------------------------------------------------- tubes
@dataclass
class Tube:
    """A smooth limb-like shape: centre line through stations, half-width at each."""

    stations: Sequence[tuple[float, float, float]]  # (x, y, half_width)
    samples: int = 10
    centre: list[Point] = field(init=False)
    half: list[float] = field(init=False)
    length_at: list[float] = field(init=False)
    normals: list[Point] = field(init=False)

    def __post_init__(self) -> None:
        pts = _centripetal_catmull_rom(self.stations, self.samples)
        self.centre = [(p[0], p[1]) for p in pts]
        self.half = [max(p[2], 0.0) for p in pts]
        self.length_at = [0.0]
        for (x0, y0), (x1, y1) in zip(self.centre, self.centre[1:], strict=False):
            self.length_at.append(self.length_at[-1] + math.hypot(x1 - x0, y1 - y0))
        n = len(self.centre)
        self.normals = []
        for i in range(n):
            (x0, y0), (x1, y1) = self.centre[max(i - 1, 0)], self.centre[min(i + 1, n - 1)]
            d = math.hypot(x1 - x0, y1 - y0) or 1.0
            tx, ty = (x1 - x0) / d, (y1 - y0) / d
            self.normals.append((ty, -tx))  # for a downward tube, f=+1 is towards +x

    @property
    def length(self) -> float:
        return self.length_at[-1]

    def _index(self, a: float) -> tuple[int, float]:
        a = min(max(a, 0.0), self.length)
        lo, hi = 0, len(self.length_at) - 1
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self.length_at[mid] <= a:
                lo = mid
            else:
                hi = mid
        span = self.length_at[hi] - self.length_at[lo] or 1.0
        return lo, (a - self.length_at[lo]) / span

    def frame(self, a: float) -> tuple[Point, Point, float]:
        """Centre, unit normal (towards f=+1) and half-width at distance ``a``."""
        i, t = self._index(a)
        j = min(i + 1, len(self.centre) - 1)
        cx = self.centre[i][0] + (self.centre[j][0] - self.centre[i][0]) * t
        cy = self.centre[i][1] + (self.centre[j][1] - self.centre[i][1]) * t
        nx = self.normals[i][0] + (self.normals[j][0] - self.normals[i][0]) * t
        ny = self.normals[i][1] + (self.normals[j][1] - self.normals[i][1]) * t
        nn = math.hypot(nx, ny) or 1.0
        hw = self.half[i] + (self.half[j] - self.half[i]) * t
        return (cx, cy), (nx / nn, ny / nn), hw

    def point(self, a: float, f: float) -> Point:
        (cx, cy), (nx, ny), hw = self.frame(a)
        return (cx + f * hw * nx, cy + f * hw * ny)

    def direction(self, a: float) -> Point:
        _, (nx, ny), _ = self.frame(a)
        return (-ny, nx)  # tangent: the normal turned back a quarter

    def region(self, corners: Sequence[tuple[float, float]], step: float = 2.5) -> list[Point]:
        """Map a polygon given in (a, f) to the page, following the tube's curves."""
        corners = [(min(a, self.length), f) for a, f in corners]
        out: list[Point] = []
        for (a0, f0), (a1, f1) in zip(corners, [*corners[1:], corners[0]], strict=False):
            # An edge across the tube (constant a) is straight; one along it must bend. Where the
            # tube widens fast (top of the head, a fingertip) equal steps in a are long on the page,
            # so steps are also kept short on the page.
            x0, y0 = self.point(a0, f0)
            x1, y1 = self.point(a1, f1)
            n = 1 if a0 == a1 else max(1, math.ceil(max(abs(a1 - a0), math.hypot(x1 - x0, y1 - y0)) / step))
            ts = [k / n for k in range(n)]
            refined: list[float] = []
            for t, t_next in zip(ts, [*ts[1:], 1.0], strict=True):
                refined.append(t)
                if a0 != a1:
                    p, q = self.point(a0 + (a1 - a0) * t, f0), self.point(a0 + (a1 - a0) * t_next, f0)
                    extra = math.ceil(math.hypot(q[0] - p[0], q[1] - p[1]) / step) - 1
                    refined.extend(t + (t_next - t) * (j + 1) / (extra + 1) for j in range(max(extra, 0)))
            for t in refined:
                out.append(self.point(a0 + (a1 - a0) * t, f0 + (f1 - f0) * t))
        return _simplify_closed(out, 0.1)

    def outline(self) -> list[Point]:
        return self.region([(0, -1), (self.length, -1), (self.length, 1), (0, 1)])


def _centripetal_catmull_rom(stations: Sequence[tuple[float, float, float]], samples: int) -> list[tuple]:
    """Dense points through the stations; centripetal knots never overshoot or loop."""
    p = [tuple(s) for s in stations]
    if len(p) < 2:
        raise ValueError("a tube needs two stations")
    first = tuple(2 * a - b for a, b in zip(p[0], p[1], strict=True))
    last = tuple(2 * a - b for a, b in zip(p[-1], p[-2], strict=True))
    ext = [first, *p, last]
    out: list[tuple] = []
    for i in range(1, len(ext) - 2):
        p0, p1, p2, p3 = ext[i - 1], ext[i], ext[i + 1], ext[i + 2]

        def knot(t: float, a: tuple, b: tuple) -> float:
            return t + max(math.hypot(b[0] - a[0], b[1] - a[1]), 1e-6) ** 0.5

        t0 = 0.0
        t1 = knot(t0, p0, p1)
        t2 = knot(t1, p1, p2)
        t3 = knot(t2, p2, p3)
        for k in range(samples):
            t = t1 + (t2 - t1) * k / samples

            def lerp(a: tuple, b: tuple, ta: float, tb: float, t: float = t) -> tuple:
                w = (t - ta) / (tb - ta)
                return tuple(x + (y - x) * w for x, y in zip(a, b, strict=True))

            a1 = lerp(p0, p1, t0, t1)
            a2 = lerp(p1, p2, t1, t2)
            a3 = lerp(p2, p3, t2, t3)
            b1 = lerp(a1, a2, t0, t2)
            b2 = lerp(a2, a3, t1, t3)
            out.append(lerp(b1, b2, t1, t2))
    out.append(p[-1])
    return out


def _simplify_closed(points: list[Point], tolerance: float) -> list[Point]:
    """Drop points that lie on the straight line between their neighbours (smaller file)."""
    if len(points) < 4:
        return points
    kept = [points[0]]
    for i in range(1, len(points) - 1):
        (x0, y0), (x1, y1), (x2, y2) = kept[-1], points[i], points[i + 1]
        d = math.hypot(x2 - x0, y2 - y0) or 1.0
        if abs((x2 - x0) * (y0 - y1) - (x0 - x1) * (y2 - y0)) / d > tolerance:
            kept.append(points[i])
    kept.append(points[-1])
    return kept


def ellipse(cx: float, cy: float, rx: float, ry: float, angle: float = 0.0, n: int = 20) -> list[Point]:
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    pts = []
    for k in range(n):
        t = 2 * math.pi * k / n
        x, y = rx * math.cos(t), ry * math.sin(t)
        pts.append((cx + x * c - y * s, cy + x * s + y * c))
    return pts


def offshoot(
    parent: Tube, a: float, f: float, angle: float, profile: Sequence[tuple[float, float]], back: float = 0.0
) -> Tube:
    """A finger, thumb or toe leaving ``parent`` at (a, f), turned ``angle`` degrees towards f=+1."""
    bx, by = parent.point(a, f)
    tx, ty = parent.direction(a)
    _, (nx, ny), _ = parent.frame(a)
    r = math.radians(angle)
    dx, dy = tx * math.cos(r) + nx * math.sin(r), ty * math.cos(r) + ny * math.sin(r)
    bx, by = bx - dx * back, by - dy * back
    return Tube([(bx + dx * d, by + dy * d, hw) for d, hw in profile], samples=6)


# ------------------------------------------------------------------ body geometry
# Units: one unit ~ one CSS pixel at 360 px per view. The figure stands at x=0, head up.
# All limb tables describe the viewer-LEFT limb; the other is its mirror image.
HEAD = Tube(
    [
        (0, 16, 0),
        (0, 17, 9),
        (0, 19.5, 16.5),
        (0, 24, 23.5),
        (0, 31, 29.5),
        (0, 41, 34),
        (0, 53, 36),
        (0, 65, 36),
        (0, 77, 34.5),
        (0, 88, 31),
        (0, 98, 26.5),
        (0, 106, 21),
        (0, 112, 15),
        (0, 116, 8.5),
        (0, 118, 0),
    ]
)
NECK = Tube([(0, 100, 16.5), (0, 116, 17), (0, 128, 18.5), (0, 136, 23), (0, 143, 30)])
TRUNK = Tube(
    [
        (0, 131, 19),
        (0, 136, 31),
        (0, 142, 49),
        (0, 148, 65),
        (0, 154, 77),
        (0, 162, 84.5),
        (0, 174, 85.5),
        (0, 190, 80.5),
        (0, 215, 75),
        (0, 250, 69),
        (0, 290, 62),
        (0, 318, 59.5),
        (0, 345, 63),
        (0, 370, 69),
        (0, 395, 73),
        (0, 414, 72.5),
    ]
)
ARM = Tube(
    [
        (-77, 150, 4),
        (-83.5, 154, 14),
        (-91, 167, 19.8),
        (-97.5, 190, 18.8),
        (-102.5, 220, 16.5),
        (-107.5, 255, 15),
        (-111.5, 285, 14.2),
        (-116.5, 315, 14.6),
        (-121.5, 345, 12.8),
        (-126, 375, 10.8),
        (-129, 395, 9.4),
        (-130, 403, 9.3),
    ]
)
PALM = Tube(
    [(-129.6, 399, 9.3), (-131.3, 411, 12.2), (-133.2, 425, 13.4), (-134.8, 438, 13), (-135.8, 447, 12.2)],
    samples=8,
)
LEG = Tube(
    [
        (-36, 392, 34),
        (-38.5, 414, 34.6),
        (-40, 440, 33.4),
        (-40.5, 470, 30.5),
        (-38.5, 510, 26),
        (-35.5, 548, 21),
        (-33.5, 575, 18.6),
        (-32.5, 600, 18),
        (-32.5, 625, 19.2),
        (-31.5, 660, 15.2),
        (-30.5, 700, 11),
        (-30, 726, 9.4),
        (-30, 740, 9.8),
    ]
)
FOOT = Tube([(-30, 733, 9.6), (-31.4, 745, 12.4), (-33.2, 756, 14.8), (-34.8, 765, 16.2)], samples=8)
HEEL = Tube([(-30, 733, 9.6), (-30, 747, 11.4), (-30, 757, 10.6), (-30, 763, 7), (-30, 765.5, 0)], samples=8)
SOLE = Tube(
    [
        (-118, 758, 0),
        (-118, 755, 8.5),
        (-118.5, 745, 12.5),
        (-119.5, 728, 11),
        (-120.5, 712, 12.5),
        (-121.5, 694, 15.5),
        (-122, 682, 16),
        (-122, 674, 13),
        (-122, 671, 0),
    ],
    samples=8,
)

FINGER_PROFILE = {  # length, half-width; lateral (index) to medial (little)
    "index": (29.5, 3.1),
    "middle": (33.0, 3.25),
    "ring": (30.5, 3.1),
    "little": (24.0, 2.75),
}


def _finger(f: float, angle: float, length: float, hw: float) -> Tube:
    return offshoot(
        PALM,
        PALM.length,
        f,
        angle,
        [(0, hw), (length - 3.0, hw * 0.94), (length - 1.0, hw * 0.62), (length, 0)],
        back=3,
    )


FINGERS = {
    "index": _finger(-0.66, -5, *FINGER_PROFILE["index"]),
    "middle": _finger(-0.21, -1.5, *FINGER_PROFILE["middle"]),
    "ring": _finger(0.24, 2, *FINGER_PROFILE["ring"]),
    "little": _finger(0.67, 6, *FINGER_PROFILE["little"]),
}
THUMB = offshoot(
    PALM, 13, -0.7, -27, [(0, 5.6), (9, 4.9), (18, 4.0), (23, 3.3), (25.4, 1.7), (26, 0)], back=3
)
EAR = ellipse(-38.5, 71, 6.5, 12.5, angle=8)


def _toes(
    tube: Tube, a: float, specs: Iterable[tuple[float, float, float, float]], outward: float = 1.0
) -> tuple[list[Point], list[list[Point]]]:
    """Big toe and the four small toes as ellipses along the end of a foot."""
    tx, ty = tube.direction(a)
    pieces = []
    for f, rx, ry, ahead in specs:
        x, y = tube.point(a, f)
        angle = math.degrees(math.atan2(ty, tx)) - 90
        pieces.append(ellipse(x + tx * ahead * outward, y + ty * ahead * outward, rx, ry, angle, n=14))
    return pieces[0], pieces[1:]


BIG_TOE_FRONT, SMALL_TOES_FRONT = _toes(
    FOOT,
    FOOT.length,
    [
        (0.68, 5.0, 6.6, 3.5),
        (0.18, 3.6, 5.0, 3.2),
        (-0.22, 3.3, 4.6, 2.6),
        (-0.58, 3.0, 4.2, 1.8),
        (-0.88, 2.6, 3.7, 0.8),
    ],
)
BIG_TOE_SOLE, SMALL_TOES_SOLE = _toes(
    SOLE,
    SOLE.length - 3,
    [
        (-0.55, 5.2, 6.6, 6.5),
        (-0.05, 3.5, 4.6, 5.0),
        (0.33, 3.2, 4.2, 3.6),
        (0.66, 2.9, 3.8, 2.0),
        (0.92, 2.5, 3.3, 0.2),
    ],
)  # the sole tube runs heel-to-toe (upwards), so medial is f<0 here


def y_(tube: Tube, y: float) -> float:
    """Distance along a vertical tube (head, neck, trunk) for a page y."""
    return y - tube.stations[0][1]


def vrect(tube: Tube, y0: float, y1: float, f0: float, f1: float) -> list[Point]:
    return tube.region([(y_(tube, y0), f0), (y_(tube, y1), f0), (y_(tube, y1), f1), (y_(tube, y0), f1)])


def vpoly(tube: Tube, corners: Iterable[tuple[float, float]]) -> list[Point]:
    return tube.region([(y_(tube, y), f) for y, f in corners])


def rect(tube: Tube, a0: float, a1: float, f0: float, f1: float) -> list[Point]:
    return tube.region([(a0, f0), (a1, f0), (a1, f1), (a0, f1)])


# ------------------------------------------------------------------ region tables
# Each entry: (zone stem, kind, pieces). kind "pair": drawn on the viewer-left and
# mirrored, suffix decided by the view; "mid": one shape across the midline, id as-is.
# Order is paint order: later entries lie on top of earlier ones.
E = END
A_SHOULDER, A_UPPER, A_ELBOW, A_FOREARM, A_WRIST = 11, 56, 141, 162, ARM.length - 13
L_HIP, L_THIGH, L_KNEE, L_LOWER, L_ANKLE = 26, 46, 162, 206, LEG.length - 18


# The crease under the buttock, lateral to medial: highest at the side, lowest by the cleft.
GLUTEAL_FOLD = [
    (L_HIP + 4, -0.62),
    (L_THIGH - 6, -0.3),
    (L_THIGH, 0.05),
    (L_THIGH + 2.5, 0.4),
    (L_THIGH + 2, 0.75),
    (L_THIGH - 1, 1),
]


def _leg_front() -> list:
    return [
        ("hip-outer", "pair", [LEG.region([(0, -1), (L_HIP + 6, -1), (L_HIP + 6, -0.62), (0, -0.5)])]),
        ("thigh-outer", "pair", [rect(LEG, L_HIP + 6, L_KNEE, -1, -0.62)]),
        (
            "thigh-front",
            "pair",
            [LEG.region([(0, -0.5), (L_HIP + 6, -0.62), (L_KNEE, -0.62), (L_KNEE, 0.42), (0, 0.42)])],
        ),
        ("thigh-inner", "pair", [rect(LEG, 0, L_KNEE, 0.42, 1)]),
        ("knee-outer", "pair", [rect(LEG, L_KNEE, L_LOWER, -1, 0)]),
        ("knee-inner", "pair", [rect(LEG, L_KNEE, L_LOWER, 0, 1)]),
        (
            "knee-front",
            "pair",
            [LEG.region(_oval((L_KNEE + L_LOWER) / 2, 0, 0.5, (L_LOWER - L_KNEE) / 2 - 2))],
        ),
        ("leg-outer", "pair", [rect(LEG, L_LOWER, L_ANKLE, -1, -0.3)]),
        ("shin", "pair", [rect(LEG, L_LOWER, L_ANKLE, -0.3, 1)]),
        ("ankle-outer", "pair", [rect(LEG, L_ANKLE, E, -1, -0.36)]),
        ("ankle-inner", "pair", [rect(LEG, L_ANKLE, E, 0.36, 1)]),
        ("ankle-front", "pair", [rect(LEG, L_ANKLE, E, -0.36, 0.36)]),
        ("big-toe", "pair", [BIG_TOE_FRONT]),
        ("toes", "pair", SMALL_TOES_FRONT),
        ("foot-top", "pair", [FOOT.outline()]),
    ]


def _leg_back() -> list:
    return [
        ("hip-outer", "pair", [LEG.region([(0, -1), (L_HIP + 10, -1), (L_HIP + 4, -0.62), (0, -0.55)])]),
        (
            "thigh-outer",
            "pair",
            [LEG.region([(L_HIP + 10, -1), (L_KNEE, -1), (L_KNEE, -0.62), (L_HIP + 4, -0.62)])],
        ),
        ("buttock-lower", "pair", [LEG.region([(0, -0.55), *GLUTEAL_FOLD, (0, 1)])]),
        ("thigh-back", "pair", [LEG.region([*GLUTEAL_FOLD, (L_KNEE, 1), (L_KNEE, -0.62)])]),
        ("knee-outer", "pair", [rect(LEG, L_KNEE, L_LOWER, -1, -0.45)]),
        ("knee-back", "pair", [rect(LEG, L_KNEE, L_LOWER, -0.45, 1)]),
        ("leg-outer", "pair", [rect(LEG, L_LOWER, L_ANKLE, -1, -0.45)]),
        ("calf", "pair", [rect(LEG, L_LOWER, L_ANKLE - 22, -0.45, 1)]),
        ("achilles", "pair", [rect(LEG, L_ANKLE - 22, E, -0.45, 1)]),
        ("ankle-outer", "pair", [rect(LEG, L_ANKLE, E, -1, -0.45)]),
        ("heel", "pair", [HEEL.outline()]),
        ("sole", "pair", [SOLE.outline(), BIG_TOE_SOLE, *SMALL_TOES_SOLE]),
    ]


def _arm(view: str) -> list:
    fingers_im = [FINGERS["index"].outline(), FINGERS["middle"].outline()]
    fingers_rl = [FINGERS["ring"].outline(), FINGERS["little"].outline()]
    hand = "palm" if view == "front" else "hand-back"
    wrist = "wrist-front" if view == "front" else "wrist-back"
    common_top = [
        ("shoulder-top", "pair", [rect(ARM, 0, A_SHOULDER, -1, 1), vrect(TRUNK, 131, 152, -1, -0.3)])
    ]
    if view == "front":
        limb = [
            ("shoulder-outer", "pair", [rect(ARM, A_SHOULDER, A_UPPER, -1, -0.15)]),
            ("shoulder-front", "pair", [rect(ARM, A_SHOULDER, A_UPPER, -0.15, 1)]),
            ("upper-arm-outer", "pair", [rect(ARM, A_UPPER, A_ELBOW, -1, -0.5)]),
            ("upper-arm-front", "pair", [rect(ARM, A_UPPER, A_ELBOW, -0.5, 0.42)]),
            ("upper-arm-inner", "pair", [rect(ARM, A_UPPER, A_ELBOW, 0.42, 1)]),
            ("elbow-outer", "pair", [rect(ARM, A_ELBOW, A_FOREARM, -1, 0)]),
            ("elbow-inner", "pair", [rect(ARM, A_ELBOW, A_FOREARM, 0, 1)]),
            ("forearm-front", "pair", [rect(ARM, A_FOREARM, A_WRIST, -1, 0.38)]),
            ("forearm-ulnar", "pair", [rect(ARM, A_FOREARM, A_WRIST, 0.38, 1)]),
        ]
    else:
        limb = [
            ("shoulder-outer", "pair", [rect(ARM, A_SHOULDER, A_UPPER, -1, -0.3)]),
            ("shoulder-back", "pair", [rect(ARM, A_SHOULDER, A_UPPER, -0.3, 1)]),
            ("upper-arm-outer", "pair", [rect(ARM, A_UPPER, A_ELBOW, -1, -0.5)]),
            ("upper-arm-back", "pair", [rect(ARM, A_UPPER, A_ELBOW, -0.5, 1)]),
            ("elbow-outer", "pair", [rect(ARM, A_ELBOW, A_FOREARM, -1, -0.3)]),
            ("elbow-back", "pair", [rect(ARM, A_ELBOW, A_FOREARM, -0.3, 1)]),
            ("forearm-back", "pair", [rect(ARM, A_FOREARM, A_WRIST, -1, 0.38)]),
            ("forearm-ulnar", "pair", [rect(ARM, A_FOREARM, A_WRIST, 0.38, 1)]),
        ]
    return [
        *common_top,
        *limb,
        ("thumb", "pair", [THUMB.outline()]),
        ("fingers-index-middle", "pair", fingers_im),
        ("fingers-ring-little", "pair", fingers_rl),
        (hand, "pair", [PALM.outline()]),
        (wrist, "pair", [rect(ARM, A_WRIST, E, -1, 1)]),
    ]


def front_regions() -> list:
    trunk = [
        ("chest-side", "pair", [vrect(TRUNK, 152, 288, -1, -0.8)]),
        (
            "chest-upper",
            "pair",
            [vpoly(TRUNK, [(137, -0.12), (137, -0.3), (152, -0.3), (152, -0.8), (218, -0.8), (218, -0.12)])],
        ),
        ("chest-lower", "pair", [vrect(TRUNK, 218, 288, -0.8, -0.12)]),
        ("sternum", "mid", [vrect(TRUNK, 137, 288, -0.12, 0.12)]),
        ("abdomen-upper", "pair", [vrect(TRUNK, 288, 336, -1, 0)]),
        ("hip-outer", "pair", [vrect(TRUNK, 352, 414, -1, -0.76)]),
        (
            "abdomen-lower",
            "pair",
            [vpoly(TRUNK, [(336, 0), (336, -1), (352, -1), (352, -0.76), (374, -0.76), (398, 0)])],
        ),
        ("groin", "pair", [vpoly(TRUNK, [(374, -0.76), (414, -0.76), (414, 0), (398, 0)])]),
    ]
    neck = [
        ("neck-side", "pair", [vrect(NECK, 100, 143, -1, -0.68)]),
        ("neck-front", "pair", [vrect(NECK, 100, 143, -0.68, -0.3)]),
        ("throat", "mid", [vrect(NECK, 100, 143, -0.3, 0.3)]),
    ]
    head = [
        ("ear", "pair", [EAR]),
        ("head-top", "mid", [vrect(HEAD, 16, 33, -1, 1)]),
        ("temple", "pair", [vrect(HEAD, 33, 72, -1, -0.56)]),
        ("forehead", "pair", [vrect(HEAD, 33, 53, -0.56, 0)]),
        ("eyebrow", "pair", [vrect(HEAD, 53, 61, -0.56, 0)]),
        (
            "cheek",
            "pair",
            [
                vpoly(
                    HEAD,
                    [
                        (61, 0),
                        (61, -0.56),
                        (72, -0.56),
                        (72, -1),
                        (91, -1),
                        (91, -0.42),
                        (86, -0.42),
                        (86, 0),
                    ],
                )
            ],
        ),
        ("teeth-upper", "pair", [vrect(HEAD, 86, 97, -0.42, 0)]),
        ("teeth-lower", "pair", [vrect(HEAD, 97, 118, -0.42, 0)]),
        ("jaw-angle", "pair", [vrect(HEAD, 91, 118, -1, -0.42)]),
        ("behind-eye", "pair", [HEAD.region(_almond(y_(HEAD, 67.5), -0.33, 0.22, 4.6))]),
    ]
    return [*_leg_front(), *trunk, *neck, *head, *_arm("front")]


def back_regions() -> list:
    trunk = [
        ("chest-side", "pair", [vrect(TRUNK, 152, 300, -1, -0.8)]),
        ("shoulder-top", "pair", []),  # merged with the arm cap in _arm
        (
            "neck-base",
            "pair",
            [vpoly(TRUNK, [(131, -0.3), (131, -0.16), (160, -0.16), (160, -0.8), (152, -0.8), (152, -0.3)])],
        ),
        ("upper-back", "pair", [vrect(TRUNK, 131, 236, -0.16, 0)]),
        ("scapula-medial", "pair", [vrect(TRUNK, 160, 240, -0.38, -0.16)]),
        (
            "scapula",
            "pair",
            [vpoly(TRUNK, [(160, -0.38), (160, -0.8), (214, -0.8), (240, -0.5), (240, -0.38)])],
        ),
        (
            "scapula-lower",
            "pair",
            [vpoly(TRUNK, [(214, -0.8), (300, -0.8), (300, -0.2), (240, -0.2), (240, -0.5)])],
        ),
        ("mid-back", "pair", [vrect(TRUNK, 236, 300, -0.2, 0)]),
        ("low-back", "pair", [vrect(TRUNK, 300, 352, -1, 0)]),
        ("hip-outer", "pair", [vrect(TRUNK, 352, 414, -1, -0.72)]),
        ("sacroiliac", "pair", [vpoly(TRUNK, [(352, -0.72), (352, -0.16), (372, -0.16), (372, -0.72)])]),
        (
            "buttock-upper",
            "pair",
            [vpoly(TRUNK, [(372, -0.72), (372, -0.16), (393, -0.1), (414, -0.03), (414, -0.72)])],
        ),
        (
            "sacrum",
            "mid",
            [vpoly(TRUNK, [(352, -0.16), (372, -0.16), (393, -0.1), (393, 0.1), (372, 0.16), (352, 0.16)])],
        ),
        ("coccyx", "mid", [vpoly(TRUNK, [(393, -0.1), (414, -0.03), (414, 0.03), (393, 0.1)])]),
    ]
    trunk = [t for t in trunk if t[2]]
    neck = [
        ("neck-side", "pair", [vrect(NECK, 100, 143, -1, -0.55)]),
        ("neck-back", "pair", [vrect(NECK, 100, 143, -0.55, 0)]),
    ]
    head = [
        ("head-top", "mid", [vrect(HEAD, 16, 33, -1, 1)]),
        ("occiput", "pair", [vrect(HEAD, 33, 118, -1, 0)]),
    ]
    return [*_leg_back(), *trunk, *neck, *head, *_arm("back")]


def _oval(a: float, f: float, half_f: float, half_a: float, n: int = 20) -> list[tuple[float, float]]:
    return [
        (a + half_a * math.sin(2 * math.pi * k / n), f + half_f * math.cos(2 * math.pi * k / n))
        for k in range(n)
    ]


def _almond(a: float, f: float, half_f: float, half_a: float, n: int = 16) -> list[tuple[float, float]]:
    """An eye: pointed at both corners, given in tube coordinates."""
    pts = []
    for k in range(n):
        t = 2 * math.pi * k / n
        pts.append((a + half_a * math.sin(t) * abs(math.sin(t)) ** 0.2, f + half_f * math.cos(t)))
    return pts


# Drawn, not clickable: outlines of the body and the few lines that make a face or a spine.
def silhouette(view: str) -> list[list[Point]]:
    limbs = [ARM, PALM, THUMB, *FINGERS.values(), LEG]
    feet = [FOOT.outline(), BIG_TOE_FRONT, *SMALL_TOES_FRONT] if view == "front" else [HEEL.outline()]
    shapes = [t.outline() for t in limbs] + feet
    both = shapes + [_mirror(s) for s in shapes]
    ears = [EAR, _mirror(EAR)]
    return [*both, TRUNK.outline(), NECK.outline(), *ears, HEAD.outline()]


def details(view: str) -> list[str]:
    if view == "front":
        nose = [HEAD.point(y_(HEAD, 64), -0.05), HEAD.point(y_(HEAD, 82), -0.15), HEAD.point(y_(HEAD, 85), 0)]
        mouth = [HEAD.point(y_(HEAD, 97), -0.3), HEAD.point(y_(HEAD, 98.5), 0)]
        navel = ellipse(0, 330, 2.2, 2.8)
        return [_open(_both(nose)), _open(_both(mouth)), _closed(navel)]
    spine = [(0, 143), (0, 352)]
    cleft = [(0, 398), (0, 440)]
    return [_open(spine), _open(cleft)]


def _mirror(points: Sequence[Point]) -> list[Point]:
    return [(-x, y) for x, y in points]


def _both(points: Sequence[Point]) -> list[Point]:
    """An open line drawn on the viewer-left, continued by its mirror image."""
    return [*points, *reversed(_mirror(points[:-1]))]


def _fmt(v: float) -> str:
    s = f"{v:.1f}"
    return "0" if s in ("-0.0", "0.0") else s.removesuffix(".0")


def _closed(points: Sequence[Point]) -> str:
    return "M" + " ".join(f"{_fmt(x)} {_fmt(y)}" for x, y in points) + "Z"


def _open(points: Sequence[Point]) -> str:
    return "M" + " ".join(f"{_fmt(x)} {_fmt(y)}" for x, y in points)


def _centroid(points: Sequence[Point]) -> tuple[Point, float]:
    area = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(points, [*points[1:], points[0]], strict=False):
        c = x0 * y1 - x1 * y0
        area += c
        cx += (x0 + x1) * c
        cy += (y0 + y1) * c
    if abs(area) < 1e-9:
        xs, ys = zip(*points, strict=True)
        return (sum(xs) / len(xs), sum(ys) / len(ys)), 0.0
    return (cx / (3 * area), cy / (3 * area)), abs(area) / 2


# ------------------------------------------------------------------ rendering
@dataclass(frozen=True)
class DrawnZone:
    view: str
    zone_id: str
    label: str
    path: str
    centre: Point


def zone_shapes(view: str, zones: dict[str, dict]) -> list[DrawnZone]:
    """Every clickable region of one view, in paint order, with its patient-side zone id."""
    table = front_regions() if view == "front" else back_regions()
    # Viewer-left is the patient's right in the front view and the patient's left in the back view.
    viewer_left, viewer_right = ("-r", "-l") if view == "front" else ("-l", "-r")
    merged: dict[str, list[list[Point]]] = {}
    for stem, kind, pieces in table:
        if kind == "mid":
            merged.setdefault(stem, []).extend(pieces)
        else:
            merged.setdefault(stem + viewer_left, []).extend(pieces)
            merged.setdefault(stem + viewer_right, []).extend(_mirror(p) for p in pieces)
    drawn = []
    for zone_id, pieces in merged.items():
        if zone_id not in zones:
            raise ValueError(f"geometry draws {zone_id!r}, which the zone vocabulary does not have")
        if view not in zones[zone_id]["views"]:
            raise ValueError(
                f"geometry draws {zone_id!r} in the {view} view, the vocabulary does not list it"
            )
        ((centre, _),) = sorted((_centroid(p) for p in pieces), key=lambda c: -c[1])[:1]
        drawn.append(
            DrawnZone(view, zone_id, zones[zone_id]["label"], "".join(_closed(p) for p in pieces), centre)
        )
    missing = [z for z, spec in zones.items() if view in spec["views"] and z not in merged]
    if missing:
        raise ValueError(f"the {view} view does not draw: {', '.join(missing)}")
    return drawn


HATCH_DEFS = (
    '        <defs><pattern id="bodymap-hatch" width="4" height="4" patternUnits="userSpaceOnUse" '
    'patternTransform="rotate(45)"><rect class="bodymap__hatch-bg" width="4" height="4"/>'
    '<path class="bodymap__hatch-line" d="M0 0V4"/></pattern></defs>'
)
VIEWBOX = "-182 8 364 772"
CAPTIONS = {
    "front": (
        "Front",
        "your right",
        "your left",
        "Front view, as if you were facing us: your right side is on the left of the picture.",
    ),
    "back": (
        "Back",
        "your left",
        "your right",
        "Back view, as if we stood behind you: your left side is on the left of the picture.",
    ),
}


def render_view(view: str, zones: dict[str, dict]) -> str:
    title, left_word, right_word, sentence = CAPTIONS[view]
    lines = [
        f'    <figure class="bodymap__view bodymap__view--{view}" data-view="{view}">',
        f'      <figcaption class="bodymap__caption"><span class="bodymap__side bodymap__side--start" aria-hidden="true">'
        f"{left_word}</span><strong>{title}</strong>"
        f'<span class="bodymap__side bodymap__side--end" aria-hidden="true">{right_word}</span>'
        f'<span class="bodymap__sr">{escape(sentence)}</span></figcaption>',
        f'      <svg class="bodymap__svg" viewBox="{VIEWBOX}" xmlns="http://www.w3.org/2000/svg" '
        f'role="group" aria-label="{title} of the body" focusable="false">',
    ]
    if view == VIEWS[0]:
        lines.append(HATCH_DEFS)
    lines.append('        <g class="bodymap__body" aria-hidden="true">')
    for shape in silhouette(view):
        lines.append(f'          <path d="{_closed(shape)}"/>')
    lines.append("        </g>")
    lines.append('        <g class="bodymap__zones">')
    for z in zone_shapes(view, zones):
        element_id = f"{view}--{z.zone_id}"
        lines.append(
            f'          <path class="zone" id="{element_id}" data-zone="{z.zone_id}" '
            f'data-cx="{_fmt(z.centre[0])}" data-cy="{_fmt(z.centre[1])}" tabindex="0" role="button" '
            f'aria-pressed="false" aria-label={quoteattr(z.label)} d="{z.path}">'
            f"<title>{escape(z.label)}</title></path>"
        )
    lines.append("        </g>")
    lines.append('        <g class="bodymap__details" aria-hidden="true">')
    for d in details(view):
        lines.append(f'          <path d="{d}"/>')
    lines.append("        </g>")
    if view == "back":
        lines.append('        <g class="bodymap__labels" aria-hidden="true">')
        for x in (-119, 119):
            lines.append(f'          <text x="{x}" y="775" text-anchor="middle">sole</text>')
        lines.append("        </g>")
    lines.append('        <g class="bodymap__markers" aria-hidden="true"></g>')
    lines.append("      </svg>")
    lines.append("    </figure>")
    return "\n".join(lines)


HEADER = """{% comment %}
Body map partial: GENERATED by tools/bodymap_build.py - edit the geometry there, then run
  python tools/bodymap_build.py
Context:
  bodymap_mode        "draw" (default) | "pattern" | "heat"
  bodymap_input_name  name of the hidden input that receives the drawing in draw mode (default "pain_drawing")
  bodymap_initial     a JSON *string*: draw/heat {"zone-id": 0-10} or [{"zone": id, "intensity": n}];
                      pattern {"essential": [...], "spillover": [...], "trigger_points": [...]}
  bodymap_label       optional accessible name of the whole map (default "Body map")
Needs atlas/bodymap.css and atlas/bodymap.js (no inline script or style: strict CSP).
One body map per page: element ids such as front--temple-l are fixed.
{% endcomment %}"""


def render_partial(zones: dict[str, dict]) -> str:
    views = "\n".join(render_view(v, zones) for v in VIEWS)
    return f"""{HEADER}
{{% with mode=bodymap_mode|default:"draw" %}}<div class="bodymap bodymap--{{{{ mode }}}}" data-bodymap data-mode="{{{{ mode }}}}" data-input-name="{{{{ bodymap_input_name|default:"pain_drawing" }}}}" data-initial="{{{{ bodymap_initial|default:"" }}}}"{{% if mode == "pattern" %}} data-pattern="{{{{ bodymap_initial|default:"" }}}}"{{% elif mode == "heat" %}} data-drawing="{{{{ bodymap_initial|default:"" }}}}"{{% endif %}} role="group" aria-label="{{{{ bodymap_label|default:"Body map" }}}}">
  <div class="bodymap__views">
{views}
  </div>
  {{% if mode == "draw" %}}<div class="bodymap__panel">
    <p class="bodymap__hint">Tap or click each place where you feel pain, then set how strong it is (0 = none, 10 = worst imaginable). Keyboard: Tab to a body part, Enter or Space to choose it, Delete to remove it.</p>
    <div class="bodymap__control" data-bodymap-control>
      <p class="bodymap__selected"><span class="bodymap__selected-prefix">Selected:</span> <strong data-bodymap-selected>none yet &ndash; choose a body part</strong></p>
      <label class="bodymap__range-label" for="bodymap-intensity-range">Pain strength</label>
      <div class="bodymap__range-row">
        <button type="button" class="bodymap__step" data-bodymap-step="-1" aria-label="Less pain" disabled>&minus;</button>
        <input type="range" class="bodymap__range" id="bodymap-intensity-range" min="0" max="10" step="1" value="5" disabled data-bodymap-range>
        <button type="button" class="bodymap__step" data-bodymap-step="1" aria-label="More pain" disabled>+</button>
        <label class="bodymap__sr" for="bodymap-intensity-number">Pain strength, 0 to 10</label>
        <span class="bodymap__number-wrap"><input type="number" class="bodymap__number" id="bodymap-intensity-number" min="0" max="10" step="1" value="5" inputmode="numeric" disabled data-bodymap-number>
        <span class="bodymap__of" aria-hidden="true">/ 10</span></span>
      </div>
    </div>
    <h3 class="bodymap__list-title">Where it hurts</h3>
    <p class="bodymap__empty" data-bodymap-empty>No places chosen yet.</p>
    <ul class="bodymap__list" data-bodymap-list></ul>
    <input type="hidden" name="{{{{ bodymap_input_name|default:"pain_drawing" }}}}" value="" data-bodymap-input>
  </div>{{% endif %}}
  <div class="bodymap__legend" data-bodymap-legend></div>
  <ul class="bodymap__summary" data-bodymap-summary></ul>
  <p class="bodymap__sr" aria-live="polite" data-bodymap-live></p>
</div>{{% endwith %}}
"""


def load_zones(path: Path = ZONES_FILE) -> dict[str, dict]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {z["id"]: z for z in data["zones"]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zones", type=Path, default=ZONES_FILE)
    parser.add_argument("--out", type=Path, default=PARTIAL_FILE)
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render_partial(load_zones(args.zones)), encoding="utf-8")
    print(f"wrote {args.out}")  # noqa: T201


if __name__ == "__main__":
    main()
