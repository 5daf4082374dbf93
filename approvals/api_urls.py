from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import api, audit_api

router = SimpleRouter()
router.register("lexicons", api.LexiconViewSet, basename="lexicon")
router.register("audit-events", audit_api.AuditEventViewSet, basename="auditevent")

urlpatterns = [
    path("screenings/", api.ScreeningCreateApi.as_view(), name="screening-create"),
    path("", include(router.urls)),
]
