"""The portal's rules for accounts, hooked into django-allauth (settings.ACCOUNT_ADAPTER)."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _


class AccountAdapter(DefaultAccountAdapter):
    def validate_unique_email(self, email: str) -> str:
        """Refuse an address that any account already uses, whatever its case.

        allauth compares addresses as typed (lower-cased on sign-up), and with its
        enumeration prevention it would let a duplicate sign-up through to a
        verification mail. The network's accounts are named people, so sign-up says
        plainly that the address is taken and points to sign-in and password reset.
        """
        if email_in_use(email, exclude_user=getattr(self.request, "user", None)):
            raise forms.ValidationError(
                _(
                    "An account with this e-mail address already exists (upper and lower "
                    "case do not matter). Sign in, or reset your password if you forgot it."
                ),
                code="email_taken",
            )
        return email

    def send_password_reset_mail(self, user, email: str, context: dict) -> None:
        """Send a reset link only to an address its owner has verified.

        Otherwise whoever signed up with someone else's address could take the account
        over by resetting its password. The page looks the same either way.
        """
        if EmailAddress.objects.filter(user=user, email__iexact=email, verified=True).exists():
            super().send_password_reset_mail(user, email, context)


def email_in_use(email: str, exclude_user=None) -> bool:
    """Whether an account other than `exclude_user` has `email`, compared without case."""
    addresses = EmailAddress.objects.filter(email__iexact=email)
    users = get_user_model().objects.filter(email__iexact=email)
    if exclude_user is not None and exclude_user.is_authenticated:
        addresses = addresses.exclude(user=exclude_user)
        users = users.exclude(pk=exclude_user.pk)
    return addresses.exists() or users.exists()


def user_display(user) -> str:
    """How allauth names a user in its messages and pages (settings.ACCOUNT_USER_DISPLAY).

    The person's full name, or else their e-mail address: never the internal username,
    which nobody chose or sees elsewhere ("Signed in as user17").
    """
    return user.get_full_name() or user.email or user.get_username()
