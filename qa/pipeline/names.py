"""The names a question uses: a file, an identifier, a product, an acronym.

A name is spelled the same in every language and has no paraphrase, so a collection
that never mentions it cannot answer a question about it, however close in meaning its
passages are (a manual asked how to set `DEB_BUILD_OPTIONS` that never names it).  Only
what is written as a name counts: code (`dh_missing`, `debian/rules`, `Node.js`), a
digit right after a letter (`arm64`, `python3-foo`), capitals after the first letter
(`DebConf`, `LTO`).  Not names: capitalised words (a sentence's first word looks the
same), hyphenated words (`a-t-il`, `per-user`), numbers and quantities (`3.5`, `32-bit`,
`21e`, `1.5B`), abbreviations (`e.g.`, `p.ex.`).  Acronyms are left out when the evidence
is in another language than the question: AI is IA in French, UN is ONU.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W_][\w.+/-]*[\w+]")
_CODE = re.compile(r"\w[_/.]\w")
_LETTER_THEN_DIGIT = re.compile(r"([^\W\d_])(\d)")
_POSSESSIVE = re.compile(r"['’]s$")
_ABBREVIATION = re.compile(r"(?:[^\W\d_]{1,2}\.)+[^\W\d_]{1,2}")


def names(question: str, across_languages: bool = False) -> list[str]:
    """The names in `question`, in order, each once."""
    words = re.findall(r"[^\W\d_]{2,}", question)
    shouting = sum(w.isupper() for w in words) > len(words) / 2  # capitals say nothing then
    found = []
    for match in _WORD.finditer(question):
        word = _POSSESSIVE.sub("", match.group())
        if word[0].isdigit() or _ABBREVIATION.fullmatch(word):
            continue  # a number, a date, a quantity (1.5B); e.g., i.e., p.ex.
        acronym = word.removesuffix("s").isupper() and word.isalpha()
        if _CODE.search(word) or _LETTER_THEN_DIGIT.search(word):
            found.append(word)
        elif not shouting and any(c.isupper() for c in word[1:]) and not (acronym and across_languages):
            found.append(word.removesuffix("s") if acronym else word)  # APIs -> API
    return list(dict.fromkeys(found))


def spellings(name: str) -> list[str]:
    """The ways a text may write `name`: as asked, without hyphens (Wi-Fi, WiFi), with a space before its
    number (Python3, Python 3), in the singular (iPhones, iPhone), each in its own case, lower case, capitals
    or capitalised (COVID-19, Covid-19)."""
    forms = [name, name.replace("-", ""), _LETTER_THEN_DIGIT.sub(r"\1 \2", name), name.removesuffix("s")]
    return list(dict.fromkeys(case for form in forms
                              for case in (form, form.lower(), form.upper(), form[:1].upper() + form[1:].lower())))
