from django.urls import NoReverseMatch, reverse

from triggerpoint.accounts.policy import can


def shell(request):
    """What the page shell needs: the clinic, the user's roles and which nav items to show."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    nav = []
    if user.clinic_id:
        for label, url_name, action in (
            ("Worklist", "core:worklist", "worklist.view"),
            ("Schedule", "scheduling:day", "schedule.view"),
            ("Patients", "patients:search", "patient.list"),
            ("Screenings", "screening:index", "screening.view"),
            ("Atlas", "atlas:index", "atlas.view"),
            ("Analytics", "outcomes:dashboard", "analytics.view"),
            ("Billing", "billing:worklist", "billing.view"),
            ("Users", "accounts:users", "user.manage"),
            ("Merge charts", "patients:merge", "patient.merge"),
            ("API tokens", "accounts:tokens", "token.manage"),
            ("Audit log", "audit:log", "audit.view"),
        ):
            if can(user, action):
                try:
                    nav.append((label, reverse(url_name), url_name.split(":")[0]))
                except NoReverseMatch:
                    continue  # that module is not installed in this build
    # Two items of one app (accounts: Users, API tokens) are told apart by their path.
    shared = {ns for _label, _url, ns in nav if sum(1 for item in nav if item[2] == ns) > 1}
    nav = [(label, url, ns if ns not in shared or request.path.startswith(url) else "") for label, url, ns in nav]
    return {"shell_nav": nav, "shell_clinic": getattr(user, "clinic", None)}
