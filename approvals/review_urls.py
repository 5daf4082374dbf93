"""Pages of the review queue, notifications and the audit log."""
from django.urls import path

from . import review_views

app_name = "review"

urlpatterns = [
    path("", review_views.queue, name="queue"),
    path("approve-selected/", review_views.queue_bulk_approve, name="bulk_approve"),
    path("<int:pk>/", review_views.review_detail, name="detail"),
    path("<int:pk>/approve/", review_views.review_approve, name="approve"),
    path("<int:pk>/request-changes/", review_views.review_request_changes, name="request_changes"),
    path("posts/<int:post_pk>/", review_views.post_review, name="post"),
    path("notifications/", review_views.notifications, name="notifications"),
    path("notifications/read-all/", review_views.notifications_read_all, name="notifications_read_all"),
    path("notifications/<int:pk>/open/", review_views.notification_open, name="notification_open"),
    path("notifications/<int:pk>/read/", review_views.notification_read, name="notification_read"),
    path("audit/", review_views.audit_log, name="audit"),
    path("audit/export/", review_views.audit_export, name="audit_export"),
    path("audit/verify/", review_views.audit_verify_chain, name="audit_verify"),
]
