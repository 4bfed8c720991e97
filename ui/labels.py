"""Interface words in French and English, and how the page picks one of the two.

Static labels go to Gradio's own i18n (`I18N`), so the browser shows them in the
same language as Gradio's built-in words (drop zone, dataframe search, "Examples");
messages built on the server use `label()` with the page's language.
"""

from __future__ import annotations

import gradio as gr

from index.indexer import Rejection

LANGUAGES = ("fr", "en")
LANGUAGE_NAMES = {"fr": "Français", "en": "English"}

LABELS = {
    "fr": {
        "title": "Questions sur vos documents",
        "subtitle": "Posez une question en français ou en anglais : la réponse cite les passages dont elle vient.",
        "placeholder": "Votre question…",
        "question": "Question",
        "search": "Chercher un document (titre, fichier, date…)",
        "send": "Envoyer",
        "stop": "Arrêter",
        "new": "Nouvelle conversation",
        "examples": "Exemples",
        "documents": "Documents",
        "upload": "Ajouter des fichiers (texte, Markdown, HTML, PDF, Word, OpenDocument, EPUB)",
        "index": "Indexer",
        "remove": "Retirer…",
        "remove_which": "Document à retirer",
        "confirm_remove": "Oui, retirer",
        "cancel": "Annuler",
        "confirm_question": "Retirer **{title}** ({file}, {chunks}) de l’index ? "
                            "Ses réponses ne seront plus possibles.",
        "sources": "Sources",
        "abstained": "Pas de réponse dans les documents.",
        "unsupported": "Phrase non confirmée par le passage cité",
        "stopped": "Réponse interrompue.",
        "searching": "Recherche dans les documents…",
        "reading": "Lecture des passages trouvés…",
        "writing": "Rédaction de la réponse…",
        "indexing": "Indexation",
        "indexed": "Ajouté : {names}. En tête de la liste, surligné.",
        "indexed_one": "**{title}** ({file}, {chunks})",
        "rejected": "Refusé : {items}.",
        "rejected_one": "{file} : {why}",
        "removed": "Retiré : **{title}** ({file}).",
        "not_found": "Ce document n’est plus dans l’index.",
        "nothing": "Choisissez d’abord des fichiers.",
        "nothing_to_remove": "Choisissez d’abord le document à retirer.",
        "error": "Erreur : {message}",
        "language": "Langue de l’interface",
        "forbidden": "Ajouter ou retirer des documents demande la clé d’administration.",
        "logout": "Se déconnecter",
        "columns": ["titre", "fichier", "type", "date", "langue", "passages"],
        "type_text": "Texte",
        "passage": "{n} passage",
        "passages": "{n} passages",
        "language_fr": "français",
        "language_en": "anglais",
    },
    "en": {
        "title": "Questions about your documents",
        "subtitle": "Ask in French or English: the answer cites the passages it comes from.",
        "placeholder": "Your question…",
        "question": "Question",
        "search": "Find a document (title, file, date…)",
        "send": "Send",
        "stop": "Stop",
        "new": "New conversation",
        "examples": "Examples",
        "documents": "Documents",
        "upload": "Add files (text, Markdown, HTML, PDF, Word, OpenDocument, EPUB)",
        "index": "Index",
        "remove": "Remove…",
        "remove_which": "Document to remove",
        "confirm_remove": "Yes, remove it",
        "cancel": "Cancel",
        "confirm_question": "Remove **{title}** ({file}, {chunks}) from the index? Questions will no longer find it.",
        "sources": "Sources",
        "abstained": "No answer in the documents.",
        "unsupported": "Sentence not confirmed by the cited passage",
        "stopped": "Answer stopped.",
        "searching": "Searching the documents…",
        "reading": "Reading the passages found…",
        "writing": "Writing the answer…",
        "indexing": "Indexing",
        "indexed": "Added: {names}. At the top of the list, highlighted.",
        "indexed_one": "**{title}** ({file}, {chunks})",
        "rejected": "Rejected: {items}.",
        "rejected_one": "{file}: {why}",
        "removed": "Removed: **{title}** ({file}).",
        "not_found": "This document is no longer in the index.",
        "nothing": "Choose some files first.",
        "nothing_to_remove": "Choose the document to remove first.",
        "error": "Error: {message}",
        "language": "Interface language",
        "forbidden": "Adding or removing documents needs the admin key.",
        "logout": "Sign out",
        "columns": ["title", "file", "type", "date", "language", "passages"],
        "type_text": "Text",
        "passage": "{n} passage",
        "passages": "{n} passages",
        "language_fr": "French",
        "language_en": "English",
    },
}

# Labels the page shows before any event: translated in the browser by Gradio.
I18N = gr.I18n(**{lang: {k: v for k, v in words.items() if isinstance(v, str) and "{" not in v}
                      for lang, words in LABELS.items()})


def label(language: str, key: str, **values) -> str:
    text = LABELS.get(language, LABELS["en"])[key]
    return text.format(**values) if values else text


def pick_language(preferred: str | None) -> str:
    """French or English from a browser's preference ("fr-CA", "en-US,en;q=0.9", "de"): English otherwise."""
    for tag in (preferred or "").split(","):
        primary = tag.split(";")[0].strip().lower()[:2]
        if primary in LANGUAGES:
            return primary
    return "en"


# Why a file was not indexed, by its rejection code; the facts it carries (a suffix, a limit) fill the blanks.
REASONS = {
    "fr": {
        "too_large": "fichier trop volumineux (plus de {limit_mb} Mo)",
        "empty": "fichier vide",
        "unsupported_type": "type de fichier non pris en charge ({suffix})",
        "not_what_it_claims": "le contenu n’est pas celui d’un fichier {suffix}",
        "invalid_name": "nom de fichier invalide",
        "unreadable": "fichier illisible",
        "damaged": "fichier {suffix} endommagé",
        "encrypted": "fichier protégé par un mot de passe",
        "no_text": "aucun texte lisible dans le fichier",
        "not_text": "fichier binaire, pas du texte",
        "too_many_pages": "{pages} pages, au-delà de la limite de {limit}",
        "unpacks_too_large": "plus de {limit_mb} Mo une fois décompressé",
        "same_id": "même identifiant que {other} : renommez l’un des deux",
    },
    "en": {
        "too_large": "file too large (over {limit_mb} MB)",
        "empty": "empty file",
        "unsupported_type": "unsupported file type ({suffix})",
        "not_what_it_claims": "the content is not that of a {suffix} file",
        "invalid_name": "invalid file name",
        "unreadable": "unreadable file",
        "damaged": "damaged {suffix} file",
        "encrypted": "password-protected file",
        "no_text": "no readable text in the file",
        "not_text": "binary file, not text",
        "too_many_pages": "{pages} pages, over the limit of {limit}",
        "unpacks_too_large": "over {limit_mb} MB once unpacked",
        "same_id": "same document id as {other}: rename one of them",
    },
}


def reason(language: str, rejection: Rejection) -> str:
    """Why `rejection`'s file was not indexed, in `language`; its English message for a code without words."""
    words = REASONS.get(language, REASONS["en"]).get(rejection.code)
    return words.format(**rejection.facts) if words else rejection.message
