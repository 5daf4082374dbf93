from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts import urls as accounts_urls
from accounts import views as accounts_views
from content import calendar_api
from matrix import views as matrix_views

from . import views

api_v1 = [
    path("", include("accounts.api_urls")),
    path("", include("matrix.api_urls")),
    path("", include("approvals.api_urls")),
    path("", include("content.api_urls")),
]

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    # The switcher also saves the choice on the signed-in user (their emails' language).
    path("i18n/setlang/", accounts_views.set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("accounts/", include(accounts_urls.auth_patterns)),
    path("accounts/", include((accounts_urls.app_patterns, "accounts"))),
    path("approvals/", include("approvals.urls")),
    path("review/", include("approvals.review_urls")),
    path("calendar/<slug:token>.ics", calendar_api.calendar_feed_ics, name="calendar_feed"),
    path("", include("content.urls")),
    path("", include("matrix.urls")),
    path("", matrix_views.home, name="home"),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
