from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("posts", api.PostViewSet, basename="post")
router.register("media", api.MediaViewSet, basename="media")

urlpatterns = router.urls
