from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from . import import_views, views

auth_patterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(success_url=reverse_lazy("password_reset_complete")),
        name="password_reset_confirm",
    ),
    # Invitations use the same signed token as a reset, on a page worded for a first password.
    path(
        "password/set/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="registration/password_set_confirm.html",
            success_url=reverse_lazy("password_reset_complete"),
        ),
        name="password_set",
    ),
    path("password/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("password/change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
]

app_patterns = [
    path("people/", views.user_list, name="user_list"),
    path("people/register/", views.register, name="register"),
    path("people/<int:pk>/", views.user_detail, name="user_detail"),
    path("people/<int:pk>/offboard/", views.offboard, name="offboard"),
    path("people/<int:pk>/invite/", views.resend_invitation, name="resend_invitation"),
    path("people/import/", import_views.import_upload, name="import"),
    path("people/import/template.<str:fmt>", import_views.import_template, name="import_template"),
    path("people/import/<int:pk>/", import_views.import_detail, name="import_detail"),
    path("people/import/<int:pk>/confirm/", import_views.import_confirm, name="import_confirm"),
    path("people/import/<int:pk>/progress/", import_views.import_progress, name="import_progress"),
]
