from django.urls import path

from . import views

app_name = "matrix"

urlpatterns = [
    path("matrix/", views.overview, name="overview"),
    path("matrix/accounts/", views.account_list_view, name="account_list"),
    path("matrix/accounts/new/", views.account_edit, name="account_create"),
    path("matrix/accounts/<int:pk>/", views.account_detail, name="account_detail"),
    path("matrix/accounts/<int:pk>/edit/", views.account_edit, name="account_edit"),
    path("matrix/accounts/<int:pk>/consent/", views.account_consent, name="account_consent"),
    path("matrix/accounts/<int:pk>/archive/", views.account_archive, name="account_archive"),
    path("me/accounts/", views.my_accounts, name="my_accounts"),
]
