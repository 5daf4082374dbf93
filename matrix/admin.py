from django import forms
from django.contrib import admin

from .models import Brand, Dealer, Department, Platform, SocialAccount


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "timezone"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Dealer)
class DealerAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "brand", "region", "city"]
    list_filter = ["brand", "region"]
    search_fields = ["code", "name", "city"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "brand"]
    list_filter = ["brand"]


@admin.register(Platform)
class PlatformAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "name_zh", "text_limit", "has_open_api", "position"]
    list_editable = ["position"]


class SocialAccountAdminForm(forms.ModelForm):
    webhook_secret = forms.CharField(required=False, widget=forms.PasswordInput(render_value=False),
                                     help_text="Leave blank to keep the current secret.")

    class Meta:
        model = SocialAccount
        fields = ["brand", "platform", "handle", "display_name", "tier", "ownership", "status", "owner", "dealer",
                  "department", "operators", "timezone", "publisher", "webhook_url", "webhook_secret"]

    def clean_webhook_secret(self):
        return self.cleaned_data["webhook_secret"] or (self.instance.webhook_secret if self.instance.pk else "")


@admin.register(SocialAccount)
class SocialAccountAdmin(admin.ModelAdmin):
    form = SocialAccountAdminForm
    list_display = ["handle", "platform", "tier", "brand", "status", "owner", "dealer"]
    list_filter = ["tier", "status", "platform", "brand"]
    search_fields = ["handle", "display_name"]
    raw_id_fields = ["owner", "dealer", "operators"]
    list_select_related = ["platform", "brand", "owner", "dealer"]
