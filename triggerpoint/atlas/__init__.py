"""Trigger point atlas: body-map zones, muscles, referral patterns, and pain drawing → muscles to examine.

Reference content (no patient data): every staff role may use it (action ``atlas.view``).

How other modules use it
------------------------
Python (pure, no Django):
    ``catalog.load_atlas()`` — the validated, cached atlas (loaded at start-up by ``AtlasConfig.ready``);
    ``suggest.validate_drawing(payload, atlas)`` and ``suggest.suggest(zones, atlas, limit)`` — rule ATL-SUGGEST.

JSON API (``api.py``, mounted at /api/v1/atlas/):
    ``GET zones``, ``GET muscles?q=``, ``GET muscles/{id}``, ``POST suggest`` (ARCHITECTURE §8; stores nothing).

Templates (``{% load static atlas_tags %}`` where the filters are used):
    Pain drawing input (one body map per page)::

        <link rel="stylesheet" href="{% static 'atlas/bodymap.css' %}">
        <script src="{% static 'atlas/bodymap.js' %}" defer></script>
        {% include "atlas/_bodymap.html" with bodymap_mode="draw" bodymap_input_name="pain_drawing" bodymap_initial=drawing_json %}

    Heat map of a stored drawing (read-only; links its own CSS/JS; lists the zones as text too)::

        {% include "atlas/_heatmap.html" with heatmap_drawing=visit.pain_drawing heatmap_title="Pain drawing" %}

    Live "muscles to examine" next to a draw-mode map, with "Add to note" buttons::

        <link rel="stylesheet" href="{% static 'atlas/atlas.css' %}">
        <script src="{% static 'atlas/suggest.js' %}" defer></script>
        {% include "atlas/_suggestions.html" with suggestions_pick=True %}

        document.addEventListener("atlas:pick", (e) => addSite(e.detail.muscle, e.detail.side));

    ``static/atlas/suggest.js`` documents the event (bubbling, cancelable, detail {muscle, side, name}) and
    ``window.TriggerPointSuggest.setPicked/unpick`` for keeping the buttons in step with the note.
    ``drawing|atlas_suggestions:5`` renders candidates for a stored drawing server-side.
"""
