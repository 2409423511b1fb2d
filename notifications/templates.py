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
        E.MESSAGE_RECEIVED: MessageTemplate(
            "New message from your care team",
            "You have a new secure message from $department. Sign in to read it: $link",
        ),
        f"{E.MESSAGE_RECEIVED}:staff": MessageTemplate(
            "New patient message for $department",
            "A patient has written to $department. Open the messages inbox: $link",
        ),
        E.DATA_REQUEST_ANSWERED: MessageTemplate(
            "Your request about your data was answered",
            "Your request about your data was answered. Sign in to read the answer: $link",
        ),
        E.ACCOUNT_ERASED: MessageTemplate(
            "Your Ownat account was erased",
            "As you asked, your Ownat account was erased: your sign-in details, notifications and "
            "preferences are gone, and nobody can sign in with them. The law requires your medical "
            "record to be kept until $kept_until: until then it is restricted, used only for your care "
            "and legal claims and sent to no outside system. Bills and payments are kept as accounting "
            "law requires. Questions: contact the hospital.",
        ),
        E.ACCOUNT_VERIFY_EMAIL: MessageTemplate(
            "Confirm your email address",
            "Welcome to Ownat. To finish creating your account, open this link (it works once, until "
            "$until):\n\n$link\n\nIf you did not sign up, ignore this message: without the link, "
            "no account is opened with your address.",
        ),
        E.ACCOUNT_ALREADY_REGISTERED: MessageTemplate(
            "You already have an Ownat account",
            "Someone (probably you) tried to create an Ownat account or asked for a confirmation link "
            "with this address, which already has a confirmed account. Sign in here: $sign_in\n\n"
            "Forgot your password? Reset it here: $forgot\n\nIf it was not you, you can ignore this "
            "message: nothing has changed.",
        ),
        E.ACCOUNT_PASSWORD_RESET: MessageTemplate(
            "Reset your Ownat password",
            "Someone (probably you) asked to reset the password of your Ownat account. To choose a new "
            "one, open this link (it works once, until $until):\n\n$link\n\nIf it was not you, "
            "ignore this message: your password stays as it is.",
        ),
        E.ACCOUNT_NOT_FOUND: MessageTemplate(
            "About your Ownat request",
            "Someone (probably you) asked Ownat for a password reset or a confirmation link for this "
            "address, but no active Ownat account uses it. To create one: $sign_up\n\nIf you have an "
            "account with another address, ask again with that one. If it was not you, ignore this message.",
        ),
        E.ACCOUNT_PASSWORD_CHANGED: MessageTemplate(
            "Your Ownat password was changed",
            "The password of your Ownat account was just changed, and every device signed in with the "
            "old one was signed out. If it was not you, reset your password now: $link",
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
        E.MESSAGE_RECEIVED: MessageTemplate(
            "Nouveau message de votre équipe soignante",
            "Vous avez un nouveau message sécurisé de $department. Connectez-vous pour le lire : $link",
        ),
        f"{E.MESSAGE_RECEIVED}:staff": MessageTemplate(
            "Nouveau message de patient pour $department",
            "Un patient a écrit à $department. Ouvrez la messagerie : $link",
        ),
        E.DATA_REQUEST_ANSWERED: MessageTemplate(
            "Votre demande sur vos données a reçu une réponse",
            "Votre demande concernant vos données a reçu une réponse. Connectez-vous pour la lire : $link",
        ),
        E.ACCOUNT_VERIFY_EMAIL: MessageTemplate(
            "Confirmez votre adresse e-mail",
            "Bienvenue sur Ownat. Pour terminer la création de votre compte, ouvrez ce lien (valable une "
            "fois, jusqu'au $until) :\n\n$link\n\nSi vous ne vous êtes pas inscrit, ignorez ce "
            "message : sans le lien, aucun compte n'est ouvert avec votre adresse.",
        ),
        E.ACCOUNT_PASSWORD_RESET: MessageTemplate(
            "Réinitialisez votre mot de passe Ownat",
            "Quelqu'un (sans doute vous) a demandé à réinitialiser le mot de passe de votre compte Ownat. "
            "Pour en choisir un nouveau, ouvrez ce lien (valable une fois, jusqu'au $until) :\n\n"
            "$link\n\nSi ce n'était pas vous, ignorez ce message : votre mot de passe ne change pas.",
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
