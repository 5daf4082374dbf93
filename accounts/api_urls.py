from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import api, import_api

router = SimpleRouter()
router.register("users", api.UserViewSet, basename="user")

urlpatterns = [
    path("auth/token/", api.TokenObtainApi.as_view(), name="api-token"),
    # Before the router, so that "import" is never read as a user id.
    path("users/import/", import_api.UserImportApi.as_view(), name="user-import"),
    path("", include(router.urls)),
]
