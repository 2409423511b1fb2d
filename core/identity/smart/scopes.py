"""SMART App Launch scopes: the context scopes, checking and narrowing what an app asks for, and
the words of the consent page. The clinical scope grammar and the grant a token carries are
`core.principal`'s (a principal carries its grant).
"""

from __future__ import annotations

from collections.abc import Iterable

from core.principal import InvalidScope, Level, parse_clinical

# The non-clinical scopes this server understands (SMART App Launch 2.x, section "Scopes").
LAUNCH = "launch"
LAUNCH_PATIENT = "launch/patient"
OPENID = "openid"
FHIR_USER = "fhirUser"
OFFLINE_ACCESS = "offline_access"
ONLINE_ACCESS = "online_access"
CONTEXT_SCOPES = frozenset({LAUNCH, LAUNCH_PATIENT, OPENID, FHIR_USER, OFFLINE_ACCESS, ONLINE_ACCESS})


def check_scopes(items: Iterable[str]) -> None:
    """InvalidScope unless every item is a known context scope or a well-formed clinical scope."""
    for item in items:
        if item not in CONTEXT_SCOPES and parse_clinical(item) is None:
            raise InvalidScope(f"'{item}' is not a scope this server supports.")


def narrow_request(requested: Iterable[str], allowed: Iterable[str]) -> list[str]:
    """The requested scopes the app is registered for (a request beyond them is cut, not refused,
    as RFC 6749 section 3.3 allows; the granted scope is returned to the app)."""
    allowed_items = set(allowed)
    allowed_clinical = [c for c in (parse_clinical(a) for a in allowed_items) if c is not None]
    kept = []
    for item in requested:
        clinical = parse_clinical(item)
        if clinical is None:
            if item in allowed_items:
                kept.append(item)
        elif any(clinical.within(a) for a in allowed_clinical):
            kept.append(str(clinical))
    return list(dict.fromkeys(kept))


def describe(scope: str) -> str:
    """A scope in words, for the consent page."""
    words = {
        LAUNCH: "Open with the patient or context chosen in Ownat",
        LAUNCH_PATIENT: "Know which patient you chose",
        OPENID: "Know who you are",
        FHIR_USER: "Know who you are",
        OFFLINE_ACCESS: "Keep access after you sign out (until you revoke it)",
        ONLINE_ACCESS: "Keep access while you are signed in",
    }
    if scope in words:
        return words[scope]
    clinical = parse_clinical(scope)
    if clinical is None:
        return scope
    verbs = [
        name
        for letter, name in (
            ("r", "read"),
            ("s", "search"),
            ("c", "create"),
            ("u", "change"),
            ("d", "delete"),
        )
        if letter in clinical.permissions
    ]
    what = "all records" if clinical.resource_type == "*" else f"{clinical.resource_type} records"
    whose = {
        Level.PATIENT: "of the chosen patient",
        Level.USER: "that you can see",
        Level.SYSTEM: "of every patient",
    }[clinical.level]
    return f"{', '.join(verbs).capitalize()} {what} {whose}"
