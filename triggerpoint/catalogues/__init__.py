"""Catalogues: the clinic's reference tables as pure modules (no models, no requests).

`drugs` (injectates and their classes) and `instruments` (outcome questionnaires and their
scoring) sit below every clinical app, so screening, assessment, procedures and outcomes read
one definition without importing each other. Their data files stay in the app that curates
them (``procedures/data/drugs.yaml``, ``outcomes/data/instruments/``). The muscle atlas is
its own app one layer up (it has staff pages).
"""
