"""Interface words in French and English, and how the page picks one of the two.

Static labels go to Gradio's own i18n (`I18N`), so the browser shows them in the
same language as Gradio's built-in words (drop zone, dataframe search, "Examples");
messages built on the server use `label()` with the page's language.
"""

from __future__ import annotations

import re

import gradio as gr

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
        "unsupported_type": "type de fichier non pris en charge ({suffix})",
        "not_its_type": "le contenu n’est pas celui d’un fichier {suffix}",
        "empty": "fichier vide",
        "too_large": "fichier trop volumineux",
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
        "unsupported_type": "unsupported file type ({suffix})",
        "not_its_type": "the content is not that of a {suffix} file",
        "empty": "empty file",
        "too_large": "file too large",
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


# The service's reasons for refusing an upload are English sentences; these say them in the page's language.
_REASONS = [
    (re.compile(r"unsupported file type '([^']*)'"), "unsupported_type"),
    (re.compile(r"the file is named (\.\w+) but its content is not"), "not_its_type"),
    (re.compile(r"^empty file$"), "empty"),
    (re.compile(r"upload limit"), "too_large"),
]


def reason(language: str, text: str) -> str:
    for pattern, key in _REASONS:
        if found := pattern.search(text):
            return label(language, key, suffix=found.group(1)) if pattern.groups else label(language, key)
    return text
