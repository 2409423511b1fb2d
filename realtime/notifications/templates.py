"""Message templates per event and language (English and French; anything else falls back to English).

Emails and text messages say that something happened and link to sign in; results, diagnoses,
medicines and document titles never leave the platform in a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from string import Template

from core.outbox import EventType

FALLBACK_LANGUAGE = "en"


@dataclass(frozen=True, slots=True)
class MessageTemplate:
    title: str
    body: str


@dataclass(frozen=True, slots=True)
class Rendered:
    language: str
    title: str
    body: str


E = EventType
TEMPLATES: dict[str, dict[str, MessageTemplate]] = {
    "en": {
        E.APPOINTMENT_BOOKED: MessageTemplate(
            "Appointment booked", "Your appointment on $when is booked. Details: $link"
        ),
        E.APPOINTMENT_RESCHEDULED: MessageTemplate(
            "Appointment moved", "Your appointment has moved to $when. Details: $link"
        ),
        E.APPOINTMENT_CANCELLED: MessageTemplate(
            "Appointment cancelled", "Your appointment on $when has been cancelled. Details: $link"
        ),
        E.APPOINTMENT_REMINDER: MessageTemplate(
            "Appointment reminder", "Reminder: you have an appointment on $when. Details: $link"
        ),
        E.LAB_RESULT_READY: MessageTemplate(
            "New test result", "A new test result is available. Sign in to read it: $link"
        ),
        E.PRESCRIPTION_ISSUED: MessageTemplate(
            "New prescription", "A new prescription was issued for you. Sign in to read it: $link"
        ),
        E.DOCUMENT_ADDED: MessageTemplate(
            "New document", "A new document was added to your record. Sign in to read it: $link"
        ),
        E.ALARM_ESCALATED: MessageTemplate(
            "Escalated alarm: $location",
            "A $priority-priority alarm ($code) at $location is unacknowledged since $when. $link",
        ),
        E.INVOICE_ISSUED: MessageTemplate(
            "New invoice", "A new invoice of $amount is available. Sign in to view and pay it: $link"
        ),
        # What a practitioner sees of their own schedule's changes (in the app only).
        f"{E.APPOINTMENT_BOOKED}:staff": MessageTemplate(
            "Appointment booked", "An appointment on $when was booked in your schedule. $link"
        ),
        f"{E.APPOINTMENT_RESCHEDULED}:staff": MessageTemplate(
            "Appointment moved", "An appointment in your schedule moved to $when. $link"
        ),
        f"{E.APPOINTMENT_CANCELLED}:staff": MessageTemplate(
            "Appointment cancelled", "The appointment on $when in your schedule was cancelled. $link"
        ),
    },
    "fr": {
        E.APPOINTMENT_BOOKED: MessageTemplate(
            "Rendez-vous confirmé", "Votre rendez-vous du $when est confirmé. Détails : $link"
        ),
        E.APPOINTMENT_RESCHEDULED: MessageTemplate(
            "Rendez-vous déplacé", "Votre rendez-vous est déplacé au $when. Détails : $link"
        ),
        E.APPOINTMENT_CANCELLED: MessageTemplate(
            "Rendez-vous annulé", "Votre rendez-vous du $when est annulé. Détails : $link"
        ),
        E.APPOINTMENT_REMINDER: MessageTemplate(
            "Rappel de rendez-vous", "Rappel : vous avez rendez-vous le $when. Détails : $link"
        ),
        E.LAB_RESULT_READY: MessageTemplate(
            "Nouveau résultat", "Un nouveau résultat d'analyse est disponible. Connectez-vous : $link"
        ),
        E.PRESCRIPTION_ISSUED: MessageTemplate(
            "Nouvelle ordonnance", "Une nouvelle ordonnance a été établie. Connectez-vous : $link"
        ),
        E.DOCUMENT_ADDED: MessageTemplate(
            "Nouveau document", "Un nouveau document a été ajouté à votre dossier. Connectez-vous : $link"
        ),
        E.ALARM_ESCALATED: MessageTemplate(
            "Alarme escaladée : $location",
            "Alarme de priorité $priority ($code) à $location non acquittée depuis $when. $link",
        ),
        E.INVOICE_ISSUED: MessageTemplate(
            "Nouvelle facture", "Une nouvelle facture de $amount est disponible. Connectez-vous : $link"
        ),
        f"{E.APPOINTMENT_BOOKED}:staff": MessageTemplate(
            "Rendez-vous pris", "Un rendez-vous le $when a été pris dans votre agenda. $link"
        ),
        f"{E.APPOINTMENT_RESCHEDULED}:staff": MessageTemplate(
            "Rendez-vous déplacé", "Un rendez-vous de votre agenda est déplacé au $when. $link"
        ),
        f"{E.APPOINTMENT_CANCELLED}:staff": MessageTemplate(
            "Rendez-vous annulé", "Le rendez-vous du $when dans votre agenda est annulé. $link"
        ),
    },
}

SUPPORTED_LANGUAGES = frozenset(TEMPLATES)


def language_of(tag: str | None) -> str | None:
    """The primary language of a BCP 47 tag ("fr-CA" -> "fr"), if we have templates in it."""
    primary = (tag or "").split("-")[0].lower()
    return primary if primary in SUPPORTED_LANGUAGES else None


def render(event_type: str, language: str, values: dict[str, str], *, staff: bool = False) -> Rendered:
    """The event's message in `language`, or in English when that language has no template."""
    if staff and f"{event_type}:staff" in TEMPLATES[FALLBACK_LANGUAGE]:
        event_type = f"{event_type}:staff"
    chosen = language if event_type in TEMPLATES.get(language, {}) else FALLBACK_LANGUAGE
    template = TEMPLATES[chosen][event_type]
    # safe_substitute: a value missing from an old event leaves "$name" rather than losing the message.
    return Rendered(
        language=chosen,
        title=Template(template.title).safe_substitute(values)[:200],
        body=Template(template.body).safe_substitute(values),
    )
