"""The term bridge between languages: a query in one language also finds texts in another.

The glossary (content/glossary.yaml, imported into ``kb.models.Glossary``) lists each concept's
forms per language. A query is read two ways, and both count in one ranking
(``kb.search.engine.run``):

* *as typed* (``Rewritten.direct``): every word, a Japanese word typed whole as a phrase; a
  text that holds it all is ranked higher (a strong signal, not a gate);
* *ranked* (``slots_of``): one slot per thing the query asks for (a word, a Japanese run, a
  glossary concept in any of its forms and languages), the words that only frame a question
  left out; a text is scored by the slots it holds (``kb.search.matching.ranked``). A typed
  word that holds a noun the glossary does not know is not bridged in part: 更新 of 更新中 is
  not "update" on its own.

Forms other than the typed one weigh ``BRIDGE_WEIGHT``, so a match through the bridge ranks
below a direct match of the same strength. Forms are compared as the analyzer reads them
(``analysis.terms`` in query mode), English forms also inflected (deallocate, deallocated,
deallocating), so "resizing" meets "resize" and ネットワークセキュリティグループ meets
ネットワーク セキュリティ グループ.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import query
from whoosh.lang.porter import stem

from kb import caching, process_state
from kb.search.analysis import (
    ASCII_RUN,
    CONTENT,
    FUNCTION,
    JOIN,
    LIGHT,
    NEGATION,
    japanese_roles,
    normalize,
    split_variants,
    terms,
    word_positions,
)

BRIDGE_WEIGHT = 0.8
FILLER_FILE = Path(__file__).with_name("english_fillers.txt")


def read_fillers(path: Path = FILLER_FILE) -> frozenset:
    """Words of a question that say nothing about its subject (data: ``english_fillers.txt``),
    stemmed as the analyzer stems them: left out of the conceptual reading (a text in another
    language cannot hold them, one in the same language proves nothing). Japanese particles,
    auxiliaries and verbs are left out by part of speech instead: see ``japanese_nouns``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(stem(line.strip()) for line in lines if line.strip() and not line.startswith("#"))


FILLER = read_fillers()


def form_key(form: str) -> tuple:
    """The words of a glossary form as a query reads them (identifier parts joined)."""
    return tuple(term for term, *_ in terms(form, "query"))


def form_keys(form: str) -> list:
    """The form's key; for a Japanese form, also every other way Sudachi may split it in a
    sentence (割り当て解除: 割る 当てる 解除, or 割り当て 解除); for an English form, those of its
    last word's inflections: the stemmer does not bring every one to the same stem
    (deallocated → deallocat, deallocate → dealloc)."""
    keys = [form_key(form)]
    if not form.isascii():
        keys += [tuple(words) for words in resplit(keys[0], split_variants(form))[1:]]
    head, _space, last = form.rpartition(" ")
    if form.isascii() and last.isalpha() and last.islower():
        for inflected in inflections(last):
            key = form_key(f"{head} {inflected}".strip())
            if key not in keys:
                keys.append(key)
    return [key for key in keys if key]


def inflections(word: str) -> list:
    if word.endswith("e"):
        return [word + "s", word + "d", word[:-1] + "ing"]
    if word.endswith("y") and len(word) > 2 and word[-2] not in "aeiou":
        return [word[:-1] + "ies", word[:-1] + "ied", word + "ing"]
    if word.endswith(("s", "x", "ch", "sh")):
        return [word + "es", word + "ed", word + "ing"]
    return [word + "s", word + "ed", word + "ing"]


def split_difference(form: str, lang: str):
    """None when ``form`` typed as a query is looked for as the words it splits into inside a
    sentence; else (alone, in a sentence): a form a query could never find as written."""
    alone = [term for term, *_ in word_positions(list(terms(form, "index")))]
    splits = [tuple(alone)] + split_variants(form).get(tuple(alone), [])
    before, after = SENTENCE_FRAMES.get(lang, (" ", " "))
    sentence = f"{before}{form}{after}"
    start, end = len(before), len(before) + len(form)
    found = word_positions(list(terms(sentence, "index")))
    inside = [term for term, s, e in found if start <= s and e <= end]
    straddling = [term for term, s, e in found if s < start < e or s < end < e]
    if tuple(inside) not in splits or straddling:
        return alone, inside + straddling
    return None


SENTENCE_FRAMES = {"ja": ("その", "を確認します。"), "en": ("Check the ", " first.")}


@dataclass(frozen=True)
class Form:
    key: tuple  # the words, as the analyzer reads them
    text: str  # as written in the glossary
    lang: str


@dataclass
class Bridge:
    """The glossary as lookups: analysed form → concepts; concept → its forms."""

    concepts: list = field(default_factory=list)  # [[Form, …]] per concept
    index: dict = field(default_factory=dict)  # key → [concept number]
    longest: int = 0

    @classmethod
    def from_entries(cls, entries):
        bridge = cls()
        for number, entry in enumerate(entries):
            forms = [
                Form(key, text, lang) for lang, texts in entry.items() for text in texts for key in form_keys(text)
            ]
            bridge.concepts.append(forms)
            for form in forms:
                bridge.index.setdefault(form.key, []).append(number)
                bridge.longest = max(bridge.longest, len(form.key))
        return bridge

    def concept_at(self, words, start):
        """(length, concept numbers) of the longest glossary form starting at words[start]."""
        for length in range(min(self.longest, len(words) - start), 0, -1):
            found = self.index.get(tuple(words[start : start + length]))
            if found:
                return length, found
        return 0, []

    def written(self, key):
        """How the glossary writes a form, given its words."""
        return next(
            (form.text for number in self.index.get(key, []) for form in self.concepts[number] if form.key == key),
            " ".join(key),
        )

    def other_forms(self, numbers, key):
        """Every form of the concepts whose words differ from ``key``, one per set of words."""
        forms = {}
        for number in numbers:
            for form in self.concepts[number]:
                if form.key != key:
                    forms.setdefault(form.key, form)
        return [forms[key] for key in sorted(forms)]


EMPTY = Bridge()


@dataclass
class Rewritten:
    direct: object  # the parsed query, every word as typed
    latin: bool = True  # written in Latin letters only (English), else in Japanese
    # The ranked reading (``slots_of``) of a flat query: what it asks for, one slot each.
    # Empty for a query with NOT or nested groups: that one is read as typed (``direct``).
    slots: list = field(default_factory=list)
    # Japanese words that lean on another (いる of 続いている, できる, a negation): looked for,
    # but not marked on their own in a snippet, where they stand in nearly every sentence.
    light: frozenset = frozenset()

    def nodes(self):
        """Every word and phrase the search looks for, for highlighting."""
        return [self.direct, *(node for slot in self.slots for node, _weight in slot.alternatives)]


@dataclass
class Slot:
    """One thing a query asks for (a word, a run of words, a concept), found as any of its
    alternatives: (query node, weight), the words as typed weighing 1."""

    alternatives: list
    latin: bool  # a text in Latin letters (English) could hold it
    other: bool  # a text in another script (Japanese) could hold it
    required: bool = False  # a phrase the visitor put in double quotes
    words: tuple = ()  # as typed, analysed
    bridged: tuple = ()  # for a concept: (its words, as written, [other Form, …])


def rewrite(parsed, bridge: Bridge, text: str, variants=None) -> Rewritten:
    """The query as typed, and for a word, a phrase, or an AND/OR group of them its ranked
    reading through the glossary (``slots_of``); a query with NOT or nested groups stays as
    typed. ``variants`` (``analysis.split_variants``): the other ways Sudachi may split the
    query's Japanese runs in a text; words as typed are looked for in each (a glossary form
    already is: ``form_keys``)."""
    variants = variants or {}
    result = Rewritten(with_variants(parsed, variants), latin=text.isascii())
    leaves, _group = leaves_of(parsed)
    roles = {} if text.isascii() else japanese_roles(text)
    result.light = frozenset(word for word, role in roles.items() if role != CONTENT or word in NEGATION)
    if leaves is not None:
        result.slots = slots_of(leaves, bridge, text, variants, roles)
    return result


CORE_WEIGHT = 0.7  # a run found without its negation (起動 for 起動しない)


def slots_of(leaves, bridge: Bridge, text: str, variants, roles) -> list:
    """The ranked reading of a flat query: one slot per thing it asks for. Words that only
    frame a question (Japanese particles, auxiliaries, adverbs by part of speech; English
    fillers) are left out. The rest, in units: the words of one typed Japanese word between
    such function words (正常性プローブ, 更新中) are one run, found as a phrase, unless glossary
    forms cover all of it (then each form is a concept, found in any of its forms, the others
    at ``BRIDGE_WEIGHT``); English words are one slot each, or one concept for a glossary
    form (network security group). A run ending in light verbs (停止する, 続いている) is found
    by its head (停止); one with a negation (起動しない) as typed first, its head alone at
    ``CORE_WEIGHT``; one of light words and negation alone (ください, ません) asks nothing.
    An identifier is also looked for whole, a katakana word also with or without its final
    long vowel. ``roles``: ``analysis.japanese_roles`` of the text."""
    slots, words, units, english = [], [], [], []
    for leaf in leaves:
        if is_quoted(leaf, text) or is_identifier_phrase(leaf):
            slots.append(typed_slot(leaf, variants, required=is_quoted(leaf, text)))
            continue
        unit = []
        for word in leaf_words(leaf):
            if word.isascii():  # English words and identifiers: one run of them across leaves
                unit = flush(unit, units)
                if word not in FILLER:
                    english.append((len(words), word))
                    words.append(word)
                continue
            english = flush(english, units)
            role = roles.get(word, CONTENT)
            if role == FUNCTION:
                unit = flush(unit, units)
                continue
            if role == CONTENT and word not in NEGATION and unit and roles.get(unit[-1][1]) == LIGHT:
                unit = flush(unit, units)  # 失敗する原因: a light verb ends a run
            unit.append((len(words), word))
            words.append(word)
        flush(unit, units)
    flush(english, units)
    units.sort()
    whole_units = units_spanned(units, find_spans(bridge, words) if bridge.index else [])
    for number, unit in enumerate(units):
        if number in whole_units:  # a form over several whole units (VM エージェント): one more slot
            key, numbers, _last = whole_units[number]
            slots.append(concept_slot(bridge, numbers, key))
        unit_words = [word for _at, word in unit]
        spans = {start: (length, numbers) for start, length, numbers in find_spans(bridge, unit_words)}
        slots += unit_slots([(i, word) for i, word in enumerate(unit_words)], spans, bridge, roles, variants)
    wholes = whole_forms(text)
    for slot in slots:
        whole = wholes.get(slot.words)
        if whole and not slot.bridged:  # an identifier's case or parts typed another way
            slot.alternatives.append((query.Term("text", whole), 1.0))
        if not slot.bridged:
            slot.alternatives += long_vowel_alternatives(slot.words)
        if not text.isascii():  # English typed among Japanese (nslookup タイムアウト): Japanese texts use it too
            slot.other = True
    return slots


KATAKANA = re.compile(r"[ァ-ヴ][ァ-ヴー]{2,}")


def long_vowel_variant(word: str) -> str:
    """The katakana word with its final long-vowel mark added or taken away (メモリ, メモリー):
    Sudachi equates some such pairs (サーバ, サーバー) but not all of them."""
    return word[:-1] if word.endswith("ー") else word + "ー"


def long_vowel_alternatives(words) -> list:
    """The words again with one katakana word's final long vowel toggled (完全メモリーダンプ
    finds 完全メモリ ダンプ), for at most the first three katakana words."""
    found = []
    places = [i for i, word in enumerate(words) if KATAKANA.fullmatch(word)][:3]
    for i in places:
        varied = (*words[:i], long_vowel_variant(words[i]), *words[i + 1 :])
        found.append((node_for(varied, 1.0), 1.0))
    return found


def whole_forms(text: str) -> dict:
    """The analysed words of each ASCII run of the query → the run lower-cased whole, as an
    identifier is indexed (ZonalAllocationFailed whole: zonalallocationfailed, typed in one
    case; UserErrorGuestAgentStatusUnAvailable, its parts cut another way), where they differ."""
    found = {}
    for match in ASCII_RUN.finditer(normalize(text)):
        stripped = match.group().strip("\"'()[]{}<>,;:!?.`*=|")
        key = tuple(term for term, *_ in terms(stripped, "query"))
        whole = stripped.lower()
        if PLURAL_ACRONYM.fullmatch(stripped):  # VMs, NICs: the acronym as a text writes it
            whole = whole[:-1]
        if whole and key and key != (whole,):
            found[key] = whole
    return found


PLURAL_ACRONYM = re.compile(r"[A-Z]{2,}s")


def units_spanned(units, spans) -> dict:
    """First unit number → (words, concept numbers, last unit number) for each glossary form
    that covers two or more whole units: it stands for them all."""
    starts = {unit[0][0]: number for number, unit in enumerate(units)}
    ends = {unit[-1][0]: number for number, unit in enumerate(units)}
    found = {}
    for start, length, numbers in spans:
        first, last = starts.get(start), ends.get(start + length - 1)
        if first is not None and last is not None and last > first:
            words = tuple(word for unit in units[first : last + 1] for _at, word in unit)
            if len(words) == length:
                found[first] = (words, numbers, last)
    return found


def flush(unit, units):
    if unit:
        units.append(unit)
    return []


def typed_slot(node, variants, required=False, words=None):
    words = tuple(words or leaf_words(node))
    latin = all(word.replace(JOIN, "").isascii() for word in words)
    return Slot(
        [(with_variants(node, variants), 1.0)], latin, not latin or any(map(is_identifier, words)), required, words
    )


def unit_slots(unit, spans, bridge, roles, variants) -> list:
    words = [word for _at, word in unit]
    positions = [at for at, _word in unit]
    if all(word.isascii() for word in words):
        return english_slots(words, positions, spans, bridge, variants)
    light = [roles.get(word, CONTENT) != CONTENT or word in NEGATION for word in words]
    if all(light):  # 教えてください, しまいませんか: politeness and a question's framing, nothing asked
        return []
    core_end = len(words)
    while core_end > 1 and light[core_end - 1]:
        core_end -= 1
    concepts, i = [], 0
    while i < core_end:  # glossary forms one after another, over the whole head of the run
        length, numbers = spans.get(positions[i], (0, []))
        if not length or i + length > len(words):
            break
        concepts.append((tuple(words[i : i + length]), numbers))
        i += length
    if concepts and i > core_end and not NEGATION.intersection(words[core_end:i]):
        core_end = i  # a form may take in a light verb (入れ直す: 入れる + 直す), not a negation
    negated = any(word in NEGATION for word in words[core_end:])
    if concepts and i == core_end:
        found = [concept_slot(bridge, numbers, key) for key, numbers in concepts]
        if negated:  # the last form with its negation, as typed, leads; without it weighs less
            last, typed = found[-1], tuple(words[core_end - len(concepts[-1][0]) :])
            last.alternatives = [(with_variants(node_for(typed, 1.0), variants), 1.0)] + [
                (node, weight * CORE_WEIGHT) for node, weight in last.alternatives
            ]
        return found
    if core_end < len(words) and not negated:  # 停止する, 続いている: the head says it all
        return [typed_slot(node_for(tuple(words[:core_end]), 1.0), variants, words=words[:core_end])]
    slot = typed_slot(node_for(tuple(words), 1.0), variants, words=words)
    if core_end < len(words):  # 起動しない: as typed first, the head alone weighs less
        slot.alternatives.append((with_variants(node_for(tuple(words[:core_end]), 1.0), variants), CORE_WEIGHT))
    return [slot]


def english_slots(words, positions, spans, bridge, variants) -> list:
    slots, i = [], 0
    while i < len(words):
        length, numbers = spans.get(positions[i], (0, []))
        if length and i + length <= len(words):
            slots.append(concept_slot(bridge, numbers, tuple(words[i : i + length])))
            i += length
            continue
        slots.append(typed_slot(node_for((words[i],), 1.0), variants, words=(words[i],)))
        i += 1
    return slots


def concept_slot(bridge, numbers, key) -> Slot:
    node = concept(bridge, numbers, key)
    alternatives = [(child, child.boost) for child in node.subqueries]
    for child in node.subqueries:
        child.boost = 1.0
    texts = [form.text for form in bridge.other_forms(numbers, key)] + [bridge.written(key)]
    latin = any(text.isascii() for text in texts)
    bridged = (tuple(key), bridge.written(key), bridge.other_forms(numbers, key))
    return Slot(alternatives, latin, any(not text.isascii() for text in texts), False, tuple(key), bridged)


class Concept(query.Or):
    """Any of a concept's forms; scored as the best form found (``matching.evaluate``), since
    a concept written several ways in one text is still one concept."""


def concept(bridge, numbers, key, latin=None):
    """Any form of the concept: the typed one, or another at BRIDGE_WEIGHT; with ``latin``
    True or False, only the other forms written in (or not in) Latin letters."""
    forms = bridge.other_forms(numbers, key)
    if latin is not None:
        forms = [form for form in forms if form.text.isascii() == latin]
    typed = bridge.written(key)
    return Concept([node_for(key, 1.0), *(node_for(f.key, 1.0 if f.text == typed else BRIDGE_WEIGHT) for f in forms)])


def find_spans(bridge, words):
    """(start, length, concept numbers) of the glossary forms among the words, longest first."""
    spans, position = [], 0
    while position < len(words):
        length, numbers = bridge.concept_at(words, position)
        if length:
            spans.append((position, length, numbers))
        position += length or 1
    return spans


def leaves_of(parsed):
    """(the words and phrases of a flat query, its group: And or Or), or (None, None)."""
    if is_leaf(parsed):
        return [parsed], query.And
    if isinstance(parsed, (query.And, query.Or)) and all(is_leaf(child) for child in parsed.subqueries):
        return list(parsed.subqueries), type(parsed)
    return None, None


def is_quoted(leaf, text):
    """A phrase the visitor put in double quotes (not one the analyzer made of a word)."""
    if not isinstance(leaf, query.Phrase) or '"' not in text:
        return False
    return any([term for term, *_ in terms(quoted, "query")] == list(leaf.words) for quoted in QUOTED.findall(text))


QUOTED = re.compile(r'"([^"]+)"')


def is_identifier_phrase(leaf):
    """A phrase of ASCII parts: an identifier (Standard_D2s_v3) or quoted English, as typed."""
    return isinstance(leaf, query.Phrase) and all(word.isascii() for word in leaf.words)


def is_leaf(node):
    return isinstance(node, (query.Term, query.Phrase)) and node.fieldname == "text"


def leaf_words(leaf):
    return [leaf.text] if isinstance(leaf, query.Term) else list(leaf.words)


def is_identifier(word):
    """An error code, address or file name: the same in every language, so always required."""
    return JOIN in word or (word.isascii() and not word.isalpha())


def with_variants(node, variants):
    """The query with each Japanese run that Sudachi may split several ways looked for in
    every split (``analysis.split_variants``)."""
    if not variants:
        return node
    if isinstance(node, (query.Term, query.Phrase)) and node.fieldname == "text":
        alternatives = resplit(leaf_words(node), variants)
        if len(alternatives) == 1:
            return node
        return query.Or([node] + [node_for(tuple(words), node.boost) for words in alternatives[1:]])
    if isinstance(node, query.CompoundQuery):
        return type(node)([with_variants(child, variants) for child in node.subqueries], boost=node.boost)
    return node


def resplit(words, variants) -> list:
    """``words``, then the same words with each run ``variants`` knows split another way."""
    words = list(words)
    alternatives = [words]
    for primary, others in variants.items():
        for start in range(len(words) - len(primary) + 1):
            if tuple(words[start : start + len(primary)]) == primary:
                alternatives += [words[:start] + list(other) + words[start + len(primary) :] for other in others]
    return alternatives


def node_for(key, boost):
    if len(key) == 1:
        return query.Term("text", key[0], boost=boost)
    return query.Phrase("text", list(key), boost=boost)


_current: dict = {"version": None, "bridge": EMPTY}


@process_state.resettable
def forget_current():
    _current["version"] = None


def current() -> Bridge:
    """The glossary in force (``kb.models.Glossary``, imported by ``kb.glossary``) as a Bridge,
    read again only when the content version changes. (The glossary's content kind imports
    this module to check forms; this module reads only the model, so neither imports the
    other back.)"""
    from kb.models import Glossary  # (models are not ready when kb.search is first imported)

    version = caching.content_version()
    if _current["version"] != version:
        entries = Glossary.objects.filter(is_current=True).values_list("entries", flat=True).first()
        _current["bridge"] = Bridge.from_entries(entries) if entries else EMPTY
        _current["version"] = version
    return _current["bridge"]
