from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("lexicons", api.LexiconViewSet, basename="lexicon")

urlpatterns = [
    path("screenings/", api.ScreeningCreateApi.as_view(), name="screening-create"),
    path("", include(router.urls)),
]
