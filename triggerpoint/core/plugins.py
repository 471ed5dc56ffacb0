"""Plug-ins by discovery: the one registry of what each installed app contributes.

INSTALLED_APPS is the only list of apps. An app contributes by having a module of a known
name (Django's `autodiscover_modules` convention), and, for what needs a prefix, by an
attribute on its AppConfig:

==============  ============================================  ==========================
module          what it provides                              used by
==============  ============================================  ==========================
``timeline``    ``entries(patient, user)``, ``actions(...)``  the patient chart
``worklist``    ``sections(user)``                            the clinician worklist
``portal``      ``sections(user)``                            the patient portal home
``note_links``  ``links(procedure, user)``                    a signed procedure note's page
``demo``        ``extend(ctx)``                               ``triggerpoint demo``
``urls``        pages, mounted at ``AppConfig.url_prefix``    the root URLconf
``api``         ``router``, at ``AppConfig.api_prefix``       ``/api/v1/``
``sweeps``      ``sweep() -> dict[str, int]``                 the worker's periodic sweep
==============  ============================================  ==========================

Apps are visited in INSTALLED_APPS order. The imports are by name at run time, so the kernel
never depends on an app; the layers contract (pyproject.toml) checks the apps' own imports.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from types import ModuleType

from django.apps import AppConfig, apps
from django.utils.module_loading import module_has_submodule

PROJECT_PACKAGE = "triggerpoint."


def project_apps() -> list[AppConfig]:
    """The clinic's own apps (not Django's or third parties'), in INSTALLED_APPS order."""
    return [config for config in apps.get_app_configs() if config.name.startswith(PROJECT_PACKAGE)]


def contributions(module_name: str) -> Iterator[tuple[AppConfig, ModuleType]]:
    """Each project app's `<app>.<module_name>` module, skipping apps that have none.

    An app's module that hosts the plug-ins of that name (listed in `plugin_hosts` on its
    AppConfig: core's `worklist`, patients' `timeline`) is not a contribution. An import error
    inside a module that exists is raised, never taken for "no plug-in".
    """
    for config in project_apps():
        if module_name in getattr(config, "plugin_hosts", ()):
            continue
        if module_has_submodule(config.module, module_name):
            yield config, importlib.import_module(f"{config.name}.{module_name}")


def modules(module_name: str) -> list[ModuleType]:
    return [module for _config, module in contributions(module_name)]


def prefixed(module_name: str, attribute: str) -> list[tuple[str, AppConfig, ModuleType]]:
    """(prefix, app, module) for the apps that set `attribute` on their AppConfig and have the module."""
    found = []
    for config, module in contributions(module_name):
        prefix = getattr(config, attribute, None)
        if prefix is not None:
            found.append((prefix, config, module))
    return found
