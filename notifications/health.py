"""What the setup lacks, said before it matters: checked by ``samordna init`` and shown by
``samordna utkorg lista``.

Without ``SAMORDNA_MAIL_URL`` messages to people reachable only by e-mail wait (nothing fails); without
``SAMORDNA_FALLBACK_URL`` the notices about an outage of the mail server can only go by that same mail
server, so they wait with everything else. A production installation (``SAMORDNA_PRODUCTION``) must have
a fallback channel: the coordinator has to hear of an outage while it lasts. A kommun that keeps SSPF
cases (``SAMORDNA_SSPF_KEYS`` or ``SAMORDNA_SSPF_KEY_FILE`` set) needs an audit key and an anchor file,
or whoever owns the database can rewrite the audit log unnoticed (models/audit.py).
"""

from __future__ import annotations

from core.settings import Settings

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
    uses_sspf = bool(settings.sspf_keys.get_secret_value() or settings.sspf_key_file)
    if uses_sspf and not (settings.audit_keys.get_secret_value() or settings.audit_key_file):
        warnings.append(
            "SAMORDNA_AUDIT_KEYS är inte satt: SSPF:s granskningslogg förseglas inte, och den som äger "
            "databasen kan skriva om den utan att det märks. Skapa en nyckel med: samordna sspf nyckel ny"
        )
    if uses_sspf and not (settings.audit_anchor_file or settings.audit_anchor_url):
        warnings.append(
            "SAMORDNA_AUDIT_ANCHOR_FILE är inte satt: att de senaste posterna i granskningsloggen tagits "
            "bort kan inte upptäckas. Ange en fil som bara kan läggas till (chattr +a) eller en loggserver."
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
