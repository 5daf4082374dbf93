from django.urls import path  # noqa: F401

from . import review_views  # noqa: F401

app_name = "review"

urlpatterns = []
