"""Form fields shared by the pages' forms and the API's filters."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from ..text import match_name

# An error lists the accepted values when they fit in this many characters.
LISTED_CHOICES_LENGTH = 400


class FoldedChoiceField(forms.ChoiceField):
    """One of a fixed set of names (autonomous communities, provinces), matched folded.

    "andalucia", "ANDALUCÍA" and "Andalucía" all clean to "Andalucía"; a bilingual name is
    also found by either part ("alicante" -> "Alacant/Alicante"). With `parameter` (an API
    query parameter), an unknown value's error names it and, if they are few, lists the
    accepted values.
    """

    default_error_messages = {
        "unknown_listed": _(
            "“%(value)s” is not a value of ?%(parameter)s=. Use one of: %(choices)s. "
            "Accents and case do not matter."
        ),
        "unknown": _(
            "“%(value)s” is not a value of ?%(parameter)s= (the names of the table of Spanish "
            "municipalities, such as %(examples)s). Accents and case do not matter."
        ),
    }

    def __init__(self, *, parameter: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.parameter = parameter

    def names(self) -> list[str]:
        return [str(key) for key, _label in self.choices if key not in self.empty_values]

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return value
        return match_name(value, self.names()) or value

    def validate(self, value):
        try:
            super().validate(value)
        except ValidationError as error:
            if self.parameter is None or error.code != "invalid_choice":
                raise
            names = self.names()
            listed = ", ".join(names)
            params = {"value": value, "parameter": self.parameter}
            if len(listed) <= LISTED_CHOICES_LENGTH:
                message, params["choices"] = self.error_messages["unknown_listed"], listed
            else:
                message, params["examples"] = self.error_messages["unknown"], ", ".join(names[:3])
            raise ValidationError(message, code="invalid_choice", params=params) from None
