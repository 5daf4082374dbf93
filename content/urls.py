"""Pages of posts and campaigns."""
from django.urls import path

from . import calendar_views, pause_views, publish_views, views

app_name = "content"

urlpatterns = [
    path("posts/", views.post_list, name="post_list"),
    path("posts/new/", views.post_create, name="post_create"),
    path("posts/screen/", views.post_screen, name="post_screen"),
    path("posts/media/", views.media_upload, name="media_upload"),
    path("posts/<int:pk>/", views.post_detail, name="post_detail"),
    path("posts/<int:pk>/edit/", views.post_edit, name="post_edit"),
    path("posts/<int:pk>/submit/", views.post_submit, name="post_submit"),
    path("posts/<int:pk>/cancel/", views.post_cancel, name="post_cancel"),
    path("posts/<int:pk>/decide/", views.post_decide, name="post_decide"),
    path("posts/<int:pk>/retry/", views.post_retry, name="post_retry"),
    path("posts/<int:pk>/confirm/", publish_views.post_confirm, name="post_confirm"),
    path("campaigns/", views.campaign_list, name="campaign_list"),
    path("campaigns/new/", views.campaign_create, name="campaign_create"),
    path("campaigns/preview/", views.campaign_preview, name="campaign_preview"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign_detail"),
    path("campaigns/<int:pk>/edit/", views.campaign_edit, name="campaign_edit"),
    path("campaigns/<int:pk>/push/", views.campaign_push, name="campaign_push"),
    path("calendar/", calendar_views.calendar_marketing, name="calendar"),
    path("calendar/mine/", calendar_views.calendar_mine, name="calendar_mine"),
    path("calendar/posts/<int:pk>/", calendar_views.calendar_post_panel, name="calendar_post_panel"),
    path("pauses/", pause_views.pause_list, name="pause_list"),
    path("pauses/<int:pk>/lift/", pause_views.pause_lift, name="pause_lift"),
]
