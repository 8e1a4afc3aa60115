from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts import views
from accounts.forms import EmailAuthenticationForm, UniformPasswordResetForm

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(authentication_form=EmailAuthenticationForm, redirect_authenticated_user=True),
        name="login",
    ),
    path("signup/", views.signup, name="signup"),
    path("signup/sent/", views.signup_sent, name="signup-sent"),
    path("signup/confirm/<str:token>/", views.signup_confirm, name="signup-confirm"),
    path("tokens/", views.api_tokens, name="api-tokens"),
    path("tokens/<int:pk>/revoke/", views.api_token_revoke, name="api-token-revoke"),
    path(
        "password_reset/",
        auth_views.PasswordResetView.as_view(form_class=UniformPasswordResetForm),
        name="password_reset",
    ),
    path("members/", views.members, name="members"),
    path("members/<int:pk>/role/", views.member_role, name="member-role"),
    path("members/<int:pk>/remove/", views.member_remove, name="member-remove"),
    path("invites/<int:pk>/revoke/", views.invite_revoke, name="invite-revoke"),
    path("invite/<str:token>/", views.invite_accept, name="invite-accept"),
    path("", include("django.contrib.auth.urls")),
]
