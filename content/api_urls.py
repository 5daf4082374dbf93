from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api, calendar_api, pause_api

router = SimpleRouter()
router.register("posts", api.PostViewSet, basename="post")
router.register("media", api.MediaViewSet, basename="media")
router.register("pauses", pause_api.PauseViewSet, basename="pause")
router.register("blocked-days", calendar_api.BlockedDayViewSet, basename="blocked-day")

urlpatterns = [
    path("calendar/", calendar_api.CalendarApi.as_view(), name="calendar"),
    path("calendar/feed/", calendar_api.CalendarFeedApi.as_view(), name="calendar-feed"),
    *router.urls,
]
