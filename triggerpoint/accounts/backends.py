from django.contrib.auth.backends import ModelBackend


class ClinicAwareBackend(ModelBackend):
    """The stock backend, loading the user's clinic in the same query (every staff page shows it)."""

    def get_user(self, user_id):
        user = self.user_cls().objects.select_related("clinic").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None

    @staticmethod
    def user_cls():
        from django.contrib.auth import get_user_model

        return get_user_model()
