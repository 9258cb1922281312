from django.urls import path

from mita.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("invitation/<str:token>/", views.invitation_accept_view, name="invitation_accept"),
    path("password/forgot/", views.password_reset_request_view, name="password_reset_request"),
    path("password/code/", views.password_reset_confirm_view, name="password_reset_confirm"),
    path("language/", views.language_view, name="language"),
    path("profile/", views.profile_view, name="profile"),
    path("users/", views.user_list_view, name="user_list"),
    path("users/invite/", views.user_invite_view, name="user_invite"),
    path("users/<int:user_id>/", views.user_detail_view, name="user_detail"),
    path("memberships/<int:membership_id>/revoke/", views.membership_revoke_view, name="membership_revoke"),
]
