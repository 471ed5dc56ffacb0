from django.urls import path

from triggerpoint.accounts import smart_views, staff_views, views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("enrol/<str:token>/", staff_views.enrol, name="enrol"),
    path("tokens/", views.token_list, name="tokens"),
    path("tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("users/", staff_views.user_list, name="users"),
    path("users/new/", staff_views.user_create, name="user_create"),
    path("users/<int:user_id>/", staff_views.user_detail, name="user_detail"),
    path("users/<int:user_id>/roles/", staff_views.user_roles, name="user_roles"),
    path("users/<int:user_id>/deactivate/", staff_views.user_deactivate, name="user_deactivate"),
    path("users/<int:user_id>/reactivate/", staff_views.user_reactivate, name="user_reactivate"),
    path("users/<int:user_id>/reset-second-factor/", staff_views.user_reset_second_factor,
         name="user_reset_second_factor"),
    path("users/<int:user_id>/tokens/", staff_views.user_token_create, name="user_token_create"),
    path("smart-clients/", staff_views.smart_client_list, name="smart_clients"),
    path("smart-clients/new/", staff_views.smart_client_create, name="smart_client_create"),
    path("smart-clients/<int:client_pk>/", staff_views.smart_client_detail, name="smart_client_detail"),
    path("smart-clients/<int:client_pk>/deactivate/", staff_views.smart_client_deactivate,
         name="smart_client_deactivate"),
    path("smart/token", smart_views.token, name="smart_token"),
]
