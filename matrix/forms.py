from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User

from .models import AccountStatus, Dealer, Department, Platform, SocialAccount, Tier
from .timezones import timezone_choices


class AccountFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    tier = forms.ChoiceField(label=_("Tier"), required=False, choices=[("", _("All tiers"))] + list(Tier.choices))
    platform = forms.ChoiceField(label=_("Platform"), required=False)
    region = forms.ChoiceField(label=_("Region"), required=False)
    department = forms.ChoiceField(label=_("Department"), required=False)
    owner = forms.IntegerField(label=_("Owner"), required=False, widget=forms.HiddenInput)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses"))] + list(AccountStatus.choices)
    )

    def __init__(self, *args, regions=(), departments=(), platforms=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["platform"].choices = [("", _("All platforms"))] + [(p.slug, p.name) for p in platforms]
        self.fields["region"].choices = [("", _("All regions"))] + [(r, r) for r in regions]
        self.fields["department"].choices = [("", _("All departments"))] + [(str(d.pk), d.name) for d in departments]


class SocialAccountForm(forms.ModelForm):
    """An account's registration. The webhook secret is write-only: left blank, it is kept."""

    webhook_secret = forms.CharField(
        label=_("Webhook secret"), required=False, widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave blank to keep the current secret."),
    )
    timezone = forms.ChoiceField(label=_("Time zone"), choices=timezone_choices, initial="Asia/Shanghai")
    webhook_url = forms.URLField(label=_("Webhook URL"), required=False, max_length=500, assume_scheme="https")

    class Meta:
        model = SocialAccount
        fields = ["brand", "platform", "handle", "display_name", "tier", "owner", "dealer", "department", "operators",
                  "timezone", "publisher", "webhook_url", "webhook_secret"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["platform"].queryset = Platform.objects.all()
        self.fields["dealer"].queryset = Dealer.objects.select_related("brand")
        self.fields["department"].queryset = Department.objects.all()
        self.fields["owner"].queryset = User.objects.filter(is_active=True)
        self.fields["operators"].queryset = User.objects.filter(is_active=True)
        self.fields["operators"].required = False


class PersonAccountForm(forms.Form):
    """One social account inside the register-an-employee form."""

    platform = forms.ModelChoiceField(label=_("Platform"), queryset=Platform.objects.all())
    handle = forms.CharField(label=_("Handle"), max_length=120)
    display_name = forms.CharField(label=_("Display name"), max_length=160, required=False)
    tier = forms.ChoiceField(label=_("Tier"), choices=Tier.choices, initial=Tier.EMPLOYEE)
    timezone = forms.ChoiceField(label=_("Time zone"), choices=timezone_choices, initial="Asia/Shanghai")
