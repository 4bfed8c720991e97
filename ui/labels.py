"""Interface words in French and English."""

from __future__ import annotations

LABELS = {
    "fr": {
        "title": "Questions sur vos documents",
        "subtitle": "Posez une question en français ou en anglais : la réponse cite les passages dont elle vient.",
        "placeholder": "Votre question…",
        "send": "Envoyer",
        "new": "Nouvelle conversation",
        "examples": "Exemples",
        "documents": "Documents",
        "upload": "Ajouter des fichiers (.txt, .md, .html, .pdf)",
        "index": "Indexer",
        "remove": "Retirer",
        "remove_which": "Document à retirer",
        "sources": "Sources",
        "abstained": "Pas de réponse dans les documents.",
        "unsupported": "Phrase non confirmée par le passage cité",
        "indexing": "Indexation",
        "indexed": "{n} document(s) indexé(s) : {names}.",
        "rejected": "Refusé : {items}.",
        "removed": "Document « {doc_id} » retiré.",
        "not_found": "Aucun document « {doc_id} ».",
        "nothing": "Choisissez d’abord des fichiers.",
        "error": "Erreur : {message}",
        "busy": "Le serveur est occupé, réessayez dans un instant.",
        "language": "Langue de l’interface",
        "forbidden": "Ajouter ou retirer des documents demande la clé d’administration.",
        "logout": "Se déconnecter",
        "columns": ["document", "titre", "passages"],
    },
    "en": {
        "title": "Questions about your documents",
        "subtitle": "Ask in French or English: the answer cites the passages it comes from.",
        "placeholder": "Your question…",
        "send": "Send",
        "new": "New conversation",
        "examples": "Examples",
        "documents": "Documents",
        "upload": "Add files (.txt, .md, .html, .pdf)",
        "index": "Index",
        "remove": "Remove",
        "remove_which": "Document to remove",
        "sources": "Sources",
        "abstained": "No answer in the documents.",
        "unsupported": "Sentence not confirmed by the cited passage",
        "indexing": "Indexing",
        "indexed": "{n} document(s) indexed: {names}.",
        "rejected": "Rejected: {items}.",
        "removed": "Removed “{doc_id}”.",
        "not_found": "No document “{doc_id}”.",
        "nothing": "Choose some files first.",
        "error": "Error: {message}",
        "busy": "The server is busy, try again in a moment.",
        "language": "Interface language",
        "forbidden": "Adding or removing documents needs the admin key.",
        "logout": "Sign out",
        "columns": ["document", "title", "passages"],
    },
}

EXAMPLES = [
    "Combien d’employés ont signé la lettre ?",
    "Qui a remplacé Mira Murati à la tête d’OpenAI ?",
    "Who is Emmett Shear?",
    "How much did Microsoft invest in OpenAI in 2019?",
]


def label(language: str, key: str, **values) -> str:
    text = LABELS.get(language, LABELS["en"])[key]
    return text.format(**values) if values else text
