from django.contrib import admin

from .models import AuditEvent, Lexicon, LexiconTerm, PolicyVersion, Screening


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit log is append-only."""

    list_display = ["created_at", "actor_label", "action", "object_type", "object_repr"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_repr", "actor_label", "object_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Changes go through the services (version bump, audit): the lexicon pages and the API."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class LexiconTermInline(admin.TabularInline):
    model = LexiconTerm
    fields = ["term", "allow", "severity", "note", "created_by", "created_at"]
    readonly_fields = fields
    extra = 0
    show_change_link = False
    max_num = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Lexicon)
class LexiconAdmin(ReadOnlyAdmin):
    list_display = ["name", "brand", "category", "severity", "is_active", "updated_at"]
    list_filter = ["category", "severity", "is_active", "brand"]
    search_fields = ["name", "terms__term"]
    list_select_related = ["brand"]
    inlines = [LexiconTermInline]


@admin.register(Screening)
class ScreeningAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "decision", "source", "actor", "brand", "account", "policy_version"]
    list_filter = ["decision", "source"]
    search_fields = ["text"]
    list_select_related = ["actor", "brand", "account__platform"]
    date_hierarchy = "created_at"


@admin.register(PolicyVersion)
class PolicyVersionAdmin(ReadOnlyAdmin):
    list_display = ["version", "changed_at"]
