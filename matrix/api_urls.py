from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("brands", api.BrandViewSet, basename="brand")
router.register("dealers", api.DealerViewSet, basename="dealer")
router.register("platforms", api.PlatformViewSet, basename="platform")
router.register("social-accounts", api.SocialAccountViewSet, basename="socialaccount")

urlpatterns = [
    path("matrix/summary/", api.MatrixSummaryApi.as_view(), name="matrix-summary"),
    path("", include(router.urls)),
]
