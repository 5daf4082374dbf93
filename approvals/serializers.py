"""What the screening API reads and writes. Rules live in the services; these only shape data."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from matrix.models import Brand, SocialAccount, Tier
from matrix.policies import accounts_visible_to

from .models import Decision, Lexicon, LexiconTerm, Severity
from .services import NOTE_MAX_LENGTH, TERM_MAX_LENGTH, TEXT_MAX_LENGTH


class ScreeningRequestSerializer(serializers.Serializer):
    text = serializers.CharField(
        max_length=TEXT_MAX_LENGTH, trim_whitespace=False,
        help_text=_("The text to screen, at most 100,000 characters. Hit offsets index it exactly as sent."),
    )
    account = serializers.PrimaryKeyRelatedField(
        queryset=SocialAccount.objects.none(), required=False, allow_null=True,
        help_text=_("Screen as a post on this account (one you can see): its brand's lexicons and its tier apply."),
    )
    tier = serializers.ChoiceField(
        choices=Tier.choices, required=False, allow_blank=True,
        help_text=_("Screen as a post on an account of this tier (when no account is given)."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            # An account the caller cannot see reads as one that does not exist.
            self.fields["account"].queryset = accounts_visible_to(request.user)

    def validate(self, attrs):
        account, tier = attrs.get("account"), attrs.get("tier")
        if account is not None and tier and tier != account.tier:
            raise serializers.ValidationError({"tier": [
                _("The account is on the “%(tier)s” tier; leave tier out or give the same.") % {"tier": account.tier}
            ]})
        return attrs


class HitSerializer(serializers.Serializer):
    category = serializers.CharField()
    severity = serializers.ChoiceField(choices=Severity.choices)
    term = serializers.CharField(help_text=_("The lexicon term, or the detector (mobile_number, id_card_number…)."))
    start = serializers.IntegerField(help_text=_("Index of the first character in the text as sent (code points)."))
    end = serializers.IntegerField(help_text=_("Index after the last character in the text as sent."))
    message = serializers.CharField(help_text=_("Why, and a suggested rewrite (Chinese / English)."))


class ScreeningSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True, allow_null=True, help_text=_("The recorded screening."))
    decision = serializers.ChoiceField(choices=Decision.choices)
    hits = HitSerializer(many=True)
    policy_version = serializers.IntegerField(help_text=_("The lexicon version the text was screened with."))
    created_at = serializers.DateTimeField(allow_null=True)


class LexiconSerializer(serializers.ModelSerializer):
    brand = serializers.PrimaryKeyRelatedField(
        queryset=Brand.objects.all(), required=False, allow_null=True,
        help_text=_("Omit or null for a company-wide lexicon. Set at creation only."),
    )
    term_count = serializers.IntegerField(read_only=True, help_text=_("Risky terms (not counting the allow-list)."))
    allow_count = serializers.IntegerField(read_only=True, help_text=_("Allow-list phrases."))

    class Meta:
        model = Lexicon
        fields = ["id", "brand", "name", "category", "severity", "description", "is_active", "term_count",
                  "allow_count", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]
        # The services validate uniqueness and name the field in their errors.
        validators = []

    def validate_brand(self, brand):
        if self.instance is not None and (brand.pk if brand else None) != self.instance.brand_id:
            raise serializers.ValidationError(_("A lexicon stays with its brand; create a new one for another brand."))
        return brand


class LexiconTermSerializer(serializers.ModelSerializer):
    term = serializers.CharField(max_length=TERM_MAX_LENGTH)
    severity = serializers.ChoiceField(
        choices=Severity.choices, required=False, allow_blank=True,
        help_text=_("Empty: the lexicon's default severity. Ignored for allow-list phrases."),
    )
    note = serializers.CharField(
        max_length=NOTE_MAX_LENGTH, required=False, allow_blank=True,
        help_text=_("Explanation or suggested rewrite, shown with every hit."),
    )

    class Meta:
        model = LexiconTerm
        fields = ["id", "term", "allow", "severity", "note", "created_by", "created_at"]
        read_only_fields = ["created_by", "created_at"]
        extra_kwargs = {"allow": {"help_text": _("An allow-list phrase cancels any hit it fully covers.")}}


class TermRemoveSerializer(serializers.Serializer):
    term = serializers.CharField(required=False, max_length=TERM_MAX_LENGTH, help_text=_("The term's text."))
    id = serializers.IntegerField(required=False, help_text=_("The term's id."))

    def validate(self, attrs):
        if not attrs.get("term") and attrs.get("id") is None:
            raise serializers.ValidationError({"term": [_("Name the term to remove: give term or id.")]})
        return attrs


class TermsImportSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=_(
        "A text file, one term a line, optionally term<TAB>severity[<TAB>note]; UTF-8 or GB18030."
    ))
    allow = serializers.BooleanField(required=False, default=False, help_text=_("Import as allow-list phrases."))


class TermsImportReportSerializer(serializers.Serializer):
    added = serializers.IntegerField()
    already_present = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    encoding = serializers.CharField()
    policy_version = serializers.IntegerField()
