from rest_framework.routers import SimpleRouter

from . import api, pause_api

router = SimpleRouter()
router.register("posts", api.PostViewSet, basename="post")
router.register("media", api.MediaViewSet, basename="media")
router.register("pauses", pause_api.PauseViewSet, basename="pause")

urlpatterns = router.urls
