from django import forms
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _

from matrix.forms import PersonAccountForm
from matrix.models import Brand, Dealer, Department, SocialAccount
from matrix.timezones import timezone_choices

from .models import Role, User


class PersonForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    email = forms.EmailField(label=_("Email"))
    first_name = forms.CharField(label=_("Given name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Family name"), max_length=150, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.EMPLOYEE)
    brand = forms.ModelChoiceField(label=_("Brand"), queryset=Brand.objects.all(), required=False)
    department = forms.ModelChoiceField(label=_("Department"), queryset=Department.objects.all(), required=False)
    title = forms.CharField(label=_("Title"), max_length=120, required=False)
    dealer = forms.ModelChoiceField(label=_("Dealer"), queryset=Dealer.objects.all(), required=False)
    timezone = forms.ChoiceField(label=_("Time zone"), choices=timezone_choices, initial="Asia/Shanghai")
    password = forms.CharField(
        label=_("Password"), required=False, widget=forms.PasswordInput,
        help_text=_("Leave blank to email an invitation to set one."),
    )

    def clean_username(self):
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("This username is taken."))
        return username

    def clean_email(self):
        email = self.cleaned_data["email"]
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(_("Someone is already registered with this email address."))
        return email

    def clean(self):
        data = super().clean()
        if data.get("role") == Role.DEALER_OPERATOR and not data.get("dealer"):
            self.add_error("dealer", _("A dealer operator must belong to a dealer."))
        if not data.get("brand"):
            for source in ("dealer", "department"):
                if data.get(source):
                    data["brand"] = data[source].brand
                    break
        return data


class BasePersonAccountFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        seen = set()
        for form in self.forms:
            if not form.has_changed() or self._should_delete_form(form):
                continue
            key = (form.cleaned_data["platform"].pk, form.cleaned_data["handle"].lower())
            if key in seen:
                form.add_error("handle", _("This handle is listed twice."))
            seen.add(key)
            if SocialAccount.objects.filter(platform=key[0], handle__iexact=key[1]).exists():
                form.add_error("handle", _("This handle is already registered on this platform."))


PersonAccountFormSet = formset_factory(PersonAccountForm, formset=BasePersonAccountFormSet, extra=1, can_delete=True)


class OffboardForm(forms.Form):
    """One successor field per company account that the leaver operates alone."""

    def __init__(self, *args, leaver, blockers, **kwargs):
        super().__init__(*args, **kwargs)
        colleagues = User.objects.filter(is_active=True).exclude(pk=leaver.pk)
        if leaver.brand_id:
            colleagues = colleagues.filter(brand_id=leaver.brand_id) | colleagues.filter(role=Role.ADMIN)
        for account in blockers:
            self.fields[f"account_{account.pk}"] = forms.ModelChoiceField(
                label=str(account), queryset=colleagues.order_by("username"),
                help_text=_("Who operates this company account from now on."),
            )

    def handover(self):
        return {int(name.split("_", 1)[1]): user for name, user in self.cleaned_data.items() if name.startswith("account_")}
