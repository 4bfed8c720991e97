"""Who did what to whom: a claim that gives two names of the passage each other's roles.

An embedder scores « Sam Altman a été remplacé par Mira Murati » and "Sam Altman
replaced Mira Murati" alike.  Around a word both share (a verb, mostly), each
side gets an actor and an acted-upon, the voice taken into account; names also
keep their order within a clause.  A claim that relates two names of the passage
must show the same relation there.
"""

from __future__ import annotations

from functools import lru_cache

from index.text.language import detect_language, fold
from qa.pipeline.support.clauses import (
    ARTICLES,
    GENITIVE,
    RELATIVES,
    clauses_of,
    grammar_words,
    tokenize,
    word_key,
)

# Auxiliaries of the passive voice, and the prepositions that bring in its agent.
_PASSIVE_AUX = frozenset(
    "etre ete etait etaient est sont fut furent sera seront serait soit soient been was were is are be being".split()
)
_FRENCH_PARTICIPLES = ("é", "ée", "és", "ées", "u", "ue", "us", "ues", "is", "ise", "it", "ite")
_AGENT_MARKERS = frozenset({"par", "by"})
_PREPOSITIONS = frozenset(
    "avec chez dans sur sous vers pendant depuis entre en "
    "with for at in on into from about under over during since between".split()
)
_NOUN_MARKERS = frozenset(
    "le la les l' un une des du de d' au aux ce cet cette ces son sa ses leur leurs mon ma mes notre nos votre vos "
    "the an of his her its their my our your this that these those 's par comme as".split()
)
_VERB_CUES = frozenset(
    "a ai as avons avez ont avait avaient aura auront aurait auraient eu est sont etait etaient ete fut furent "
    "sera seront "
    "serait soit etre avoir peut peuvent pourrait doit doivent devrait va vont allait "
    "il elle ils elles on je nous vous se s' ne n' qui que qu' pour "
    "has have had is are was were be been being will would can could may might must shall should do does did not "
    "he she it they we i you who which that to".split()
)
# Words that open another part of the sentence, with its own actor and acted-upon.
_BOUNDARIES = frozenset(
    "si quand lorsque que qu' qui dont ou pour afin car mais tandis alors parce puis "
    "if when that which who whom whose because but while whereas where to so then".split()
)


def roles_swapped(claim: str, passage: str) -> bool:
    """The claim's actor is the passage's acted-upon (or the reverse), around a word they share.

    For a content word the claim and a passage clause share (a verb, mostly), each side
    gets an actor (the name before the word, or after "par"/"by") and an acted-upon (the
    name after it, or before it in the passive voice).  Names are matched on their first
    letters, so a name spelt the same way in both languages matches.
    """
    extra = _shared_names(claim, passage)
    claim_clauses = [_Clause(c, extra) for c in clauses_of(claim)]
    passage_clauses = [_Clause(c, extra) for c in clauses_of(passage)]
    if not {n for c in claim_clauses for n in c.names if n} & {n for c in passage_clauses for n in c.names if n}:
        return False  # no participant in common: nothing to swap
    for passage_clause in passage_clauses:
        for claim_clause in claim_clauses:
            if _pair_order_differs(claim_clause, passage_clause) or _heads_swapped(claim_clause, passage_clause):
                return True
            for i, j in _shared_words(claim_clause, passage_clause):
                claim_actors, claim_objects = _roles(claim_clause, i)
                passage_actors, passage_objects = _roles(passage_clause, j)
                # A name on both sides of the word in one text says nothing of its role.
                claim_acts, claim_undergoes = claim_actors - claim_objects, claim_objects - claim_actors
                passage_acts, passage_undergoes = passage_actors - passage_objects, passage_objects - passage_actors
                if claim_acts & passage_undergoes or claim_undergoes & passage_acts:
                    return True
    return False


@lru_cache(maxsize=1)
def _not_content() -> frozenset[str]:
    return grammar_words() | _PASSIVE_AUX | _BOUNDARIES


_NOT_BEFORE_PARTICIPLE = _NOUN_MARKERS | _PREPOSITIONS | {"en", "a", "un", "une"}


class _Clause:
    """A clause read for roles: its words, which of them are names (by key), and its content words."""

    def __init__(self, text: str, extra_names: frozenset[str] = frozenset()):
        self.extra_names = extra_names
        self.tokens = tokenize(text)
        self.folded = [fold(t).replace("’", "'") for t in self.tokens]
        self.names = [self._name_key(k) for k in range(len(self.tokens))]
        self.content = [
            word_key(t)
            if t[0].isalpha() and len(t) > 2 and self.names[k] is None and f not in _not_content()
            else None
            for k, (t, f) in enumerate(zip(self.tokens, self.folded))
        ]

    def anchors(self) -> list[int]:
        """Positions of the words a relation may hang on: verb-like content words."""
        return [k for k, key in enumerate(self.content) if key is not None and len(key) >= 4 and self.verb_like(k)]

    def verb_like(self, k: int) -> bool:
        """A verb by its company: after a name, a pronoun, an auxiliary, a negation, "to"."""
        if k == 0:
            return True
        previous = self.folded[k - 1]
        if previous in _NOUN_MARKERS:
            return False
        participle = self.tokens[k].lower().endswith(("é", "ée", "és", "ées", "ed"))
        after_adverb = previous.endswith(("ment", "ly"))
        return self.names[k - 1] is not None or previous in _VERB_CUES or after_adverb or participle

    def voice_unknown(self, k: int) -> bool:
        """A French participle with no auxiliary: « co-fondateur de Twitch connu pour ... »."""
        participle = self.tokens[k].lower().endswith(_FRENCH_PARTICIPLES)
        return participle and not any(f in _VERB_CUES for f in self.folded[max(0, k - 3) : k])

    def passive(self, k: int) -> bool:
        """The word is a participle after "être"/"be": « a été remplacé », "was replaced by"."""
        if self.folded[k].endswith(("ing", "ant")):
            return False
        if k >= 1 and self.folded[k - 1] in _PASSIVE_AUX:
            return True
        between = self.folded[k - 1] if k >= 1 else ""
        return k >= 2 and self.folded[k - 2] in _PASSIVE_AUX and between not in _NOT_BEFORE_PARTICIPLE

    def _name_key(self, k: int) -> str | None:
        token = self.tokens[k]
        if not token[0].isupper():
            return word_key(token) if word_key(token) in self.extra_names and len(token) > 2 else None
        if len(token) == 1:  # "le paquet A"
            return token if k > 0 else None
        if fold(token) in grammar_words() and not token.isupper():
            return None
        return word_key(token)


def _shared_names(claim: str, passage: str) -> frozenset[str]:
    """Words to read as names on both sides: those capitalised on one side ("Bullseye" /
    « bullseye »), and, across languages, the words both write alike (identifiers such as
    "lpr", "cups-bsd"), which a translation would otherwise have changed."""
    claim_tokens, passage_tokens = tokenize(claim), tokenize(passage)
    ignored = grammar_words()
    capitalised = {
        word_key(t) for t in claim_tokens[1:] + passage_tokens[1:] if t[0].isupper() and fold(t) not in ignored
    }
    if detect_language(claim) == detect_language(passage):
        return frozenset(capitalised)
    # Short ones only: longer words written alike are mostly cognates ("option", "version").
    alike = {t for t in claim_tokens if t.isalpha() and 2 < len(t) <= 4 and fold(t) not in ignored}
    alike &= set(passage_tokens)
    return frozenset(capitalised | {word_key(t) for t in alike})


def _shared_words(claim: _Clause, passage: _Clause) -> list[tuple[int, int]]:
    """Positions of the verb-like words that occur once in each clause and in both.

    The same word is the same first letters: a word and its inflections, and across
    languages the words spelt alike ("recruited" / « recruté »).
    """
    pairs = []
    for i in claim.anchors():
        key = claim.content[i]
        if claim.content.count(key) > 1:
            continue
        same = [j for j in passage.anchors() if passage.content[j] == key]
        if len(same) == 1:
            pairs.append((i, same[0]))
    return pairs


def _heads_swapped(claim: _Clause, passage: _Clause) -> bool:
    """Two names, one completing a noun and one not, trade places: "Woody était le cheval de
    Bullseye" against « bullseye était le cheval de bois de Woody »."""
    def statuses(clause: _Clause) -> dict[str, bool]:
        found: dict[str, bool] = {}
        for key, _, complement, start in _name_runs(clause, 0, len(clause.tokens)):
            found.setdefault(key, _completes_a_noun(clause, start))
        return found

    claim_status, passage_status = statuses(claim), statuses(passage)
    common = [n for n in claim_status if n in passage_status]
    return any(
        claim_status[a] != claim_status[b]
        and (claim_status[a], claim_status[b]) == (passage_status[b], passage_status[a])
        for x, a in enumerate(common)
        for b in common[x + 1 :]
    )


def _pair_order_differs(claim: _Clause, passage: _Clause) -> bool:
    """Two names that share a clause on both sides stand in the other order.

    The one brought in by "par"/"by" counts as first (the actor of a passive); two names
    joined by "et"/"and" are not ordered; a name after "of"/"de" or a preposition is left
    out ("OpenAI's board" / « le conseil d'OpenAI »).
    """
    return _pair_orders(claim, passage, with_complements=False)[1]


def _pair_orders(claim: _Clause, passage: _Clause, with_complements: bool) -> tuple[set[str], bool]:
    """(the names of the pairs in the same order on both sides, whether a pair is in the other order)."""
    claim_order = _ranked_names(claim, with_complements)
    passage_order = _ranked_names(passage, with_complements)
    common = [n for n in claim_order if n in passage_order]
    same: set[str] = set()
    other = False
    for x, a in enumerate(common):
        for b in common[x + 1 :]:
            if claim_order[a] != claim_order[b] and passage_order[a] != passage_order[b]:
                if (claim_order[a] < claim_order[b]) == (passage_order[a] < passage_order[b]):
                    same |= {a, b}
                else:
                    other = True
    return same, other


def relation_unverified(claim: str, passage: str) -> bool:
    """The claim relates two names of the passage, and nothing shows the passage relates them that way.

    Shown means: a word both share (a verb) with a name in the same role on both sides,
    or two names in the same order in one clause of each.  Otherwise the claim may well
    have swapped who did what to whom, which neither words nor meaning vectors can see
    ("Sam Altman replaced Mira Murati" against « Pour remplacer Sam Altman, OpenAI a
    choisi Mira Murati »): it is not counted as supported.
    """
    extra = _shared_names(claim, passage)
    claim_clauses = [_Clause(c, extra) for c in clauses_of(claim)]
    passage_clauses = [_Clause(c, extra) for c in clauses_of(passage)]
    in_passage = {run[0] for c in passage_clauses for run in _name_runs(c, 0, len(c.tokens))}
    for claim_clause in claim_clauses:
        # Names that complete a noun ("OpenAI's former CTO", « président d'OpenAI ») are not parties to it.
        related = [
            key
            for key, _, _, start in _name_runs(claim_clause, 0, len(claim_clause.tokens))
            if key in in_passage
            and not _common_acronym(claim_clause.tokens[start])
            and not _completes_a_noun(claim_clause, start)
        ]
        ranks = _ranked_names(claim_clause, with_complements=True)
        if len({ranks.get(key) for key in related}) < 2:
            continue  # one name, or names listed together ("Outlook and Office"): no relation between them
        # What the clause says of its first name (its subject, mostly) is what must be shown.
        if not any(_relation_shown(claim_clause, passage_clause, related[0]) for passage_clause in passage_clauses):
            return True
    return False


def _completes_a_noun(clause: _Clause, start: int) -> bool:
    end = start
    while end + 1 < len(clause.tokens) and clause.names[end + 1] is not None:
        end += 1
    before = clause.folded[start - 1] if start else ""
    after = clause.folded[end + 1] if end + 1 < len(clause.folded) else ""
    return before in GENITIVE - {"'s"} or after == "'s"


def _common_acronym(token: str) -> bool:
    """ "AI", « IA », "US": two capitals name a field or a country more often than a party."""
    return len(token) == 2 and token.isupper()


def _relation_shown(claim: _Clause, passage: _Clause, name: str) -> bool:
    """The passage clause puts `name` where the claim clause does: before or after the same
    other name, or in the same role around the same word."""
    if name in _pair_orders(claim, passage, with_complements=True)[0]:
        return True
    for i, j in _shared_words(claim, passage):
        claim_actors, claim_objects = _roles(claim, i)
        passage_actors, passage_objects = _roles(passage, j)
        if name in (claim_actors & passage_actors) | (claim_objects & passage_objects):
            return True
    return False


def _ranked_names(clause: _Clause, with_complements: bool = False) -> dict[str, int]:
    """Each name's rank in the clause: order of appearance, actors of a passive first, coordinated names tied."""
    runs = _name_runs(clause, 0, len(clause.tokens))
    ranks: dict[str, int] = {}
    rank = 0
    for x, (key, agent, genitive, start) in enumerate(runs):
        if (genitive and not with_complements) or key in ranks or _common_acronym(clause.tokens[start]):
            continue
        coordinated = x > 0 and start >= 1 and clause.folded[start - 1] in {"et", "and", "ou", "or"}
        if not coordinated:
            rank += 1
        ranks[key] = -1 if agent else rank
    return ranks


def _roles(clause: _Clause, at: int) -> tuple[set[str], set[str]]:
    """Actors and acted-upon of the word at `at`: names around it, with the voice taken into account.

    Only names of the same part of the sentence count: the search stops at a
    subordinating word (« pour succéder à Sam Altman » has its own actor), except that a
    relative pronoun takes its antecedent (« Microsoft, qui détient OpenAI »).
    """
    if clause.voice_unknown(at):
        return set(), set()
    passive = clause.passive(at)
    first = at
    while first > 0 and clause.folded[first - 1] not in _BOUNDARIES:
        first -= 1
    if first > 1 and clause.folded[first - 1] in RELATIVES and clause.names[first - 2] is not None:
        first -= 2  # the antecedent
    last = at + 1
    while last < len(clause.tokens) and clause.folded[last] not in _BOUNDARIES:
        last += 1
    actors, objects = set(), set()
    before = _name_runs(clause, first, at)
    after = _name_runs(clause, at + 1, last)
    subject = next((run for run in reversed(before) if not run[1] and not run[2]), None)
    if subject:
        (objects if passive else actors).add(subject[0])
    actors |= {run[0] for run in after if run[1]}
    if not passive:
        objects |= {run[0] for run in after if not run[1]}
    return actors, objects


_AGENT_REACH = 6  # words: "par"/"by" this close before a name brings it in as the actor


def _name_runs(clause: _Clause, start: int, end: int) -> list[tuple[str, bool, bool, int]]:
    """Names between two token positions: (key of the run's last word, after "par"/"by",
    after a preposition or genitive, where the run starts)."""
    runs: list[tuple[str, bool, bool, int]] = []
    k = start
    while k < end:
        if clause.names[k] is None:
            k += 1
            continue
        first = k
        while k + 1 < end and clause.names[k + 1] is not None and len(clause.tokens[k + 1]) > 1:
            k += 1
        previous = [f for f in clause.folded[max(0, first - 3) : first] if f not in ARTICLES]
        # "par"/"by" brings in the actor, also when the name completes it: « par le conseil d'OpenAI »
        reach = max(0, first - _AGENT_REACH)
        agent = any(f in _AGENT_MARKERS for f in clause.folded[reach:first]) and not any(
            f in _BOUNDARIES or f in _VERB_CUES or clause.names[x] is not None or f.endswith(("ing", "ant"))
            for x, f in enumerate(clause.folded[reach:first], start=reach)
            if x > max(i for i in range(reach, first) if clause.folded[i] in _AGENT_MARKERS)
        )
        genitive = bool(previous) and previous[-1] in (GENITIVE - {"'s"}) | _PREPOSITIONS
        genitive |= k + 1 < len(clause.folded) and clause.folded[k + 1] in {"'s", "’s"}
        runs.append((clause.names[k], agent, genitive, first))
        k += 1
    return runs
