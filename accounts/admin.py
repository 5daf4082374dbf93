from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import ImportJob, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "email", "first_name", "last_name", "role", "brand", "is_active"]
    list_filter = ["role", "is_active", "brand"]
    fieldsets = DjangoUserAdmin.fieldsets + (
        (_("Company"), {"fields": ["role", "brand", "department", "title", "dealer", "timezone", "language", "offboarded_at"]}),
    )


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["id", "filename", "status", "total_rows", "valid_rows", "created_by", "created_at"]
    readonly_fields = [f.name for f in ImportJob._meta.fields]
