from django.contrib.auth.backends import ModelBackend

from triggerpoint.accounts import identity


class ClinicAwareBackend(ModelBackend):
    """The stock backend, loading the user with clinic, roles and devices from one cached snapshot."""

    def get_user(self, user_id):
        user = identity.load_user(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
