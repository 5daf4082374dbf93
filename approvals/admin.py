from django.contrib import admin

from .models import (
    AuditEvent,
    Lexicon,
    LexiconTerm,
    PolicyVersion,
    Review,
    ReviewStep,
    Screening,
    Workflow,
    WorkflowStep,
)


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


class WorkflowStepInline(admin.TabularInline):
    model = WorkflowStep
    extra = 0
    fields = ["position", "name", "kind", "role", "group", "condition", "categories"]


@admin.register(Workflow)
class WorkflowAdmin(admin.ModelAdmin):
    """Routing is data: admins add a compliance step for finance hits or a regional step for dealers
    here. Reviews already under way keep the steps they started with."""

    list_display = ["name", "tier", "brand", "skip_unchanged_template", "sla_hours", "backup_group", "is_active"]
    list_filter = ["tier", "brand", "is_active"]
    inlines = [WorkflowStepInline]


class ReviewStepInline(admin.TabularInline):
    model = ReviewStep
    extra = 0
    fields = ["position", "name", "kind", "role", "group", "status", "decided_by", "decided_at", "comment",
              "revision_sha256", "due_at", "reminded_at", "escalated_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    """Reviews change only through the post transitions."""

    list_display = ["post", "workflow", "status", "started_at", "finished_at"]
    list_filter = ["status"]
    inlines = [ReviewStepInline]
