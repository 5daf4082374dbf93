from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from matrix.models import SocialAccount, Tier
from matrix.policies import accounts_visible_to, brands_visible_to

from .models import Lexicon, Severity, category_validator
from .policies import brands_for_new_lexicon
from .services import NOTE_MAX_LENGTH, TERM_MAX_LENGTH, TEXT_MAX_LENGTH

SEVERITY_OR_DEFAULT = [("", _("Lexicon default")), *Severity.choices]


class LexiconForm(forms.ModelForm):
    class Meta:
        model = Lexicon
        fields = ["brand", "name", "category", "severity", "is_active", "description"]
        widgets = {
            "category": forms.TextInput(attrs={"list": "category-suggestions", "placeholder": "confidential"}),
            "description": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # A lexicon stays with its brand; create a new one for another brand.
            del self.fields["brand"]
        else:
            self.fields["severity"] = forms.ChoiceField(
                label=_("Default severity"), required=False,
                choices=[("", _("The category's default (confidential: block, others: review)")), *Severity.choices],
            )
            brands = brands_for_new_lexicon(user)
            self.fields["brand"].queryset = self.fields["brand"].queryset.filter(
                pk__in=[brand.pk for brand in brands if brand is not None]
            )
            self.fields["brand"].required = None not in brands
            self.fields["brand"].empty_label = _("Company-wide (every brand)")
            if len(brands) == 1 and brands[0] is not None:
                self.fields["brand"].initial = brands[0].pk

    def _post_clean(self):
        # The services validate and save (uniqueness included) and report errors by field.
        pass


class TermForm(forms.Form):
    term = forms.CharField(label=_("Term"), max_length=TERM_MAX_LENGTH, strip=True)
    allow = forms.BooleanField(
        label=_("Allow-list"), required=False,
        help_text=_("An allow-list phrase cancels any hit it fully covers (e.g. “第一次” cancels “第一”)."),
    )
    severity = forms.ChoiceField(label=_("Severity"), choices=SEVERITY_OR_DEFAULT, required=False)
    note = forms.CharField(label=_("Explanation or suggested rewrite"), max_length=NOTE_MAX_LENGTH, required=False)


class TermsImportForm(forms.Form):
    file = forms.FileField(
        label=_("Text file"),
        help_text=_("One term a line, optionally followed by a tab and a severity (block, review, warn) and another "
                    "tab and a note. UTF-8 or GB18030. Nothing is imported if any line is wrong."),
    )
    allow = forms.BooleanField(label=_("Import as allow-list phrases"), required=False)


class WouldHaveCaughtForm(forms.Form):
    term = forms.CharField(label=_("Term"), max_length=TERM_MAX_LENGTH)
    category = forms.CharField(label=_("Category"), max_length=40, required=False, validators=[category_validator])
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices, required=False)


class TryItForm(forms.Form):
    text = forms.CharField(
        label=_("Text"), max_length=TEXT_MAX_LENGTH, strip=False,
        widget=forms.Textarea(attrs={"rows": 8, "autofocus": True}),
    )
    account = forms.ModelChoiceField(
        label=_("Account"), queryset=None, required=False, empty_label=_("— none —"),
        help_text=_("Screen as a post on one of your accounts: its brand's lexicons apply."),
    )
    brand = forms.ModelChoiceField(
        label=_("Brand"), queryset=None, required=False, empty_label=_("— my brand —"),
        help_text=_("Whose lexicons apply, when no account is chosen."),
    )
    tier = forms.ChoiceField(label=_("Tier"), choices=[("", _("— any tier —")), *Tier.choices], required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # The accounts the person writes for: the ones they own or operate (a short list even for
        # an admin, who can see the whole matrix).
        mine = Q(owner=user) | Q(pk__in=SocialAccount.operators.through.objects.filter(user_id=user.pk).values(
            "socialaccount_id"
        ))
        self.fields["account"].queryset = (
            accounts_visible_to(user).filter(mine).select_related("platform").order_by("platform__position", "handle")
        )
        brands = brands_visible_to(user)
        self.fields["brand"].queryset = brands
        if user.brand_id and brands.count() <= 1:
            del self.fields["brand"]

    def clean(self):
        data = super().clean()
        account, tier = data.get("account"), data.get("tier")
        if account is not None and tier and tier != account.tier:
            self.add_error("tier", _("The account is on the %(tier)s tier.") % {"tier": account.get_tier_display()})
        return data
