"""The words the service itself says, in French and English."""

from __future__ import annotations

PHRASES = {
    "fr": {
        "lead": "D’après les documents :",
        "also": "Par ailleurs :",
        "quote": ("« ", " »"),
        "abstain": "Je ne trouve pas la réponse à cette question dans les documents.",
        "unmentioned": "Les documents ne mentionnent nulle part {names}.",
        "no_number": "Aucun des passages trouvés ne donne de nombre.",
        "no_time": "Aucun des passages trouvés ne donne de date ni de durée.",
        "llm_fallback": ("La réponse du modèle de langage n’a pas pu être utilisée ({reason}) : "
                         "voici ce que disent les documents."),
        "llm_unverified": ("Les passages cités ne confirment pas la réponse du modèle de langage : "
                           "voici ce que disent les documents."),
    },
    "en": {
        "lead": "According to the documents:",
        "also": "Also:",
        "quote": ("“", "”"),
        "abstain": "I could not find the answer to this question in the documents.",
        "unmentioned": "The documents never mention {names}.",
        "no_number": "None of the passages found gives a number.",
        "no_time": "None of the passages found gives a date or a duration.",
        "llm_fallback": ("The language model's answer could not be used ({reason}); "
                         "this answer is quoted from the documents."),
        "llm_unverified": ("The passages it cites do not support the language model's answer; "
                           "this answer is quoted from the documents."),
    },
}


def phrase(language: str, key: str, **values: str) -> str:
    text = PHRASES[language][key]
    return text.format(**values) if values else text


def quoted(language: str, words: list[str]) -> str:
    """Words in the language's quotation marks: « a », « b »."""
    opening, closing = phrase(language, "quote")
    return ", ".join(f"{opening}{word}{closing}" for word in words)
