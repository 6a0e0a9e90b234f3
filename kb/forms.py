"""Search parameters from a query string, through a Django form. Anything a visitor types
becomes something searchable: a field that does not validate falls back to its default
instead of an error, and numbers are brought into range."""

from dataclasses import dataclass
from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from kb import languages
from kb.models import Kind
from kb.search import clean_query

ALL_LANGUAGES = "all"
MAX_LIMIT = 50
MAX_PAGE = 1000
MAX_TAG = 100


class ClampedIntegerField(forms.IntegerField):
    """An integer brought into [low, high] rather than refused for being outside it."""

    def __init__(self, *, low, high, **kwargs):
        self.low, self.high = low, high
        super().__init__(required=False, **kwargs)

    def clean(self, value):
        number = super().clean(value)
        return None if number is None else min(max(number, self.low), self.high)


class QueryField(forms.CharField):
    """Free text as the search reads it: control characters gone, spaces collapsed, cut."""

    def to_python(self, value):
        return clean_query(super().to_python(value) or "")


def language_choices():
    return [
        ("", _("Mine first, then the others")),
        *((code, languages.local_name(code)) for code in languages.codes()),
        (ALL_LANGUAGES, _("All, by relevance")),
    ]


class SearchForm(forms.Form):
    q = QueryField(required=False, strip=False)
    lang = forms.ChoiceField(required=False)
    kind = forms.ChoiceField(required=False, choices=[("", _("All kinds")), *Kind.choices])
    tag = QueryField(required=False, strip=False)
    page = ClampedIntegerField(low=1, high=MAX_PAGE)
    limit = ClampedIntegerField(low=1, high=MAX_LIMIT)
    as_typed = forms.BooleanField(required=False)  # no correction of unknown words

    defaults = {"q": "", "lang": "", "kind": "", "tag": "", "page": 1, "limit": 10, "as_typed": False}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["lang"]).choices = language_choices()

    def values(self) -> dict:
        """Every field's cleaned value, or its default where it did not validate."""
        self.is_valid()
        cleaned = self.cleaned_data
        return {
            name: default if name in self.errors or cleaned.get(name) in (None, "") else cleaned[name]
            for name, default in self.defaults.items()
        }


@dataclass
class SearchParams:
    q: str = ""
    lang: str = ""  # "" = the visitor's language first, "all" = no preference
    kind: str = ""
    tag: str = ""
    page: int = 1
    limit: int = 10
    as_typed: bool = False

    @property
    def language_filter(self):
        return self.lang if self.lang in languages.codes() else None


def search_params(data) -> SearchParams:
    values = SearchForm(data).values()
    values["tag"] = values["tag"][:MAX_TAG]
    return SearchParams(**values)
