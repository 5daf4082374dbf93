from django.contrib import admin

from .models import BlockedDay, CalendarFeed, Campaign, Media, Post


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    """Read-only: a post changes through its transitions (the post pages and the API), which audit."""

    list_display = ["pk", "account", "status", "scheduled_at", "author", "created_at"]
    list_filter = ["status"]
    search_fields = ["body", "account__handle"]
    raw_id_fields = ["account", "author", "campaign", "revision", "approved_revision"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "brand", "status", "window_start", "window_end", "created_at"]
    list_filter = ["status", "brand"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Media)
class MediaAdmin(admin.ModelAdmin):
    list_display = ["original_name", "brand", "kind", "size", "width", "height", "created_at"]
    list_filter = ["kind", "brand"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(BlockedDay)
class BlockedDayAdmin(admin.ModelAdmin):
    """Read-only: days are blocked and unblocked through the calendar and the API, which audit."""

    list_display = ["date", "owner", "note", "created_by", "created_at"]
    list_filter = ["date"]
    search_fields = ["owner__username", "owner__first_name", "owner__last_name", "note"]
    raw_id_fields = ["owner", "created_by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    """Who has a feed and when it was revoked; the token itself is a secret and never shown."""

    list_display = ["user", "created_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["user__username"]
    exclude = ["token"]
    raw_id_fields = ["user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
