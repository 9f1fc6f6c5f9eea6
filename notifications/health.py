"""What a delivery setup lacks, said before it matters: checked by ``samordna init`` and shown by
``samordna utkorg lista``.

Without ``SAMORDNA_MAIL_URL`` messages to people reachable only by e-mail wait (nothing fails); without
``SAMORDNA_FALLBACK_URL`` the notices about an outage of the mail server can only go by that same mail
server, so they wait with everything else. A production installation (``SAMORDNA_PRODUCTION``) must have
a fallback channel: the coordinator has to hear of an outage while it lasts.
"""

from __future__ import annotations

from samordna.settings import Settings

__all__ = ["configuration_errors", "configuration_warnings"]


def configuration_warnings(settings: Settings) -> list[str]:
    """What is missing but allowed (Swedish sentences)."""
    warnings: list[str] = []
    if not settings.mail_url:
        warnings.append(
            "SAMORDNA_MAIL_URL är inte satt: e-post skickas inte, och meddelanden till personer som bara "
            "nås med e-post väntar tills den är satt."
        )
    if not settings.fallback_url and not settings.production:
        warnings.append(
            "SAMORDNA_FALLBACK_URL är inte satt: meddelanden om en driftstörning i e-posten kan bara gå med "
            "e-post och väntar då tills den fungerar. Ange en annan kanal (t.ex. workflows:// till Teams); "
            "i produktion (SAMORDNA_PRODUCTION) krävs den."
        )
    return warnings


def configuration_errors(settings: Settings) -> list[str]:
    """What a production installation must not lack (Swedish sentences)."""
    if settings.production and not settings.fallback_url:
        required = (
            "SAMORDNA_FALLBACK_URL krävs i produktion (SAMORDNA_PRODUCTION): BRÅ-samordnaren måste nås av "
            "en annan kanal än e-posten när e-posten inte fungerar."
        )
        return [required]
    return []
