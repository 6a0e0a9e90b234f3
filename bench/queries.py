"""The text both benchmarks draw from, and the queries they send.

``Material`` reads real articles (Markdown files, or title + body pairs taken from a
database) into sentences, headings, code lines and Zipf-ranked word lists. ``build_queries``
is search_bench.py's fixed query mix (hand-picked queries first, then words sampled from the
material); ``distinct_queries`` draws thousands of different queries in the same kinds and
shares, none alike, for load_bench.py's cache-miss category. Both are deterministic from the
random generator they are given.
"""

import math
import random
import re
import unicodedata
from bisect import bisect_left
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# -- source text --------------------------------------------------------------------------------

FRONT_MATTER = re.compile(r"\A\ufeff?---\s*\n(.*?)\n---\s*\n", re.S)
TITLE_LINE = re.compile(r"^title:\s*['\"]?(.*?)['\"]?\s*$", re.M)
HEADING_LINE = re.compile(r"^#{1,6}\s+(.*\S)\s*$")
IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
TAG = re.compile(r"<[^>]+>")
MARKUP = re.compile(r"\*\*|__|`|~~")
LIST_MARK = re.compile(r"^\s*(?:[-*+]|\d+\.)\s+")
JA_CHAR = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
JA_SENTENCE_END = re.compile(r"(?<=[。！？])")
EN_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
KATAKANA_WORD = re.compile(r"[ァ-ヴー]{3,}")
KANJI_WORD = re.compile(r"[一-龥々]{2,}")
JA_WORD = re.compile(r"[ァ-ヴー]{3,}|[一-龥々]{2,}")
EN_WORD = re.compile(r"\b[a-z]{4,}\b")
JA_PAIR = re.compile(r"(?:[ァ-ヴー]{3,}|[一-龥々]{2,})[のをがにでとは](?:[ァ-ヴー]{3,}|[一-龥々]{2,})")

# English words added to the few English source articles, so English text has a vocabulary
# of realistic size (and inflections for the stemmer to fold).
EN_EXTRA_TEXT = """
allocation allocations allocate allocated attach attached attaching detach detached availability
backup backups bandwidth boot booting booted bootstrap cache cached capacity certificate
certificates checkpoint cluster clusters command commands compute configuration configure
configured connect connected connecting connection connections connectivity console container
containers controller corrupted crash crashed crashes credential credentials dashboard
deallocate deallocated deallocation default delete deleted deleting deploy deployed deploying
deployment deployments diagnose diagnosed diagnostic diagnostics disk disks domain download
downloaded driver drivers encryption endpoint endpoints error errors event events exception
exceptions expire expired extension extensions failover failure failures fault faults firewall
firmware gateway generalize generalized guest handler handlers hang hanging heartbeat host hosts
hypervisor image images inbound incident incidents install installed installing installation
instance instances interface interfaces kernel latency license licensing listener load
balancer log logs maintenance managed memory metadata metric metrics migrate migrated migration
monitor monitoring mount mounted network networks node nodes operation operations outage
outbound package packages partition password patch patched patches patching performance
permission permissions platform policy policies port ports probe process processes provision
provisioned provisioning proxy quota reboot rebooted rebooting recover recovered recovery
redeploy redeployed region regions registry replica replication request requests reset
resize resized resource resources restart restarted restarting restore restored retry
retries role route routes routing rule rules scale scaling schedule scheduled secret secrets
security serial server servers service services session sessions snapshot snapshots
subnet subscription subscriptions swap template templates throttle throttled throttling
timeout timeouts token tokens troubleshoot troubleshooting unavailable update updated updates
updating upgrade upgraded upgrading validate validation vault volume volumes warning warnings
workload workloads
"""

# The parts of the made-up error codes (VMProvisioningTimedOut, ...) search_bench inserts.
ERROR_PARTS = (
    ["VM", "Disk", "Network", "Extension", "OS", "Allocation", "Storage", "Guest", "Agent", "Image", "Nic"],
    ["Provisioning", "Service", "Attach", "Detach", "Operation", "Capacity", "Handler", "Quota", "Lease", "Boot"],
    ["Error", "Failed", "TimedOut", "Conflict", "NotFound", "Internal", "Throttled"],
)


def read_sources(paths):
    """(title, headings, sentences, code lines, ascii sentences) per source file."""
    return [parse_source(path.read_text(encoding="utf-8", errors="replace")) for path in paths]


def parse_source(text, title=""):
    """One text's title, headings, paragraphs and code lines; ``text`` is Markdown, with or
    without front matter (whose title, if any, wins over ``title``)."""
    match = FRONT_MATTER.match(text)
    if match:
        found = TITLE_LINE.search(match.group(1))
        title = found.group(1).strip() if found else title
        text = text[match.end() :]
    headings, code, paragraphs, current, in_code = [], [], [], [], False
    for raw in text.splitlines():
        line = raw.rstrip()
        if line.lstrip().startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            stripped = line.strip()
            if 6 <= len(stripped) <= 120 and stripped.isascii():
                code.append(stripped)
            continue
        heading = HEADING_LINE.match(line)
        if heading:
            headings.append(clean_inline(heading.group(1)))
            continue
        if not line.strip() or line.lstrip().startswith(("|", "<!--", ">", "![")):
            if current:
                paragraphs.append(current)
                current = []
            continue
        current.append(clean_inline(LIST_MARK.sub("", line)).strip())
    if current:
        paragraphs.append(current)
    return {
        "title": clean_inline(title),
        "headings": [h for h in headings if h],
        "paragraphs": paragraphs,
        "code": code,
    }


def clean_inline(text):
    text = IMAGE.sub("", text)
    text = LINK.sub(r"\1", text)
    text = TAG.sub("", text)
    return MARKUP.sub("", text).strip()


def ja_sentences(paragraphs):
    out = []
    for paragraph in paragraphs:
        for sentence in JA_SENTENCE_END.split("".join(paragraph)):
            sentence = sentence.strip()
            if 8 <= len(sentence) <= 220 and JA_CHAR.search(sentence):
                out.append(sentence)
    return out


def en_sentences(paragraphs):
    out = []
    for paragraph in paragraphs:
        for sentence in EN_SENTENCE_END.split(" ".join(paragraph)):
            sentence = sentence.strip()
            if 20 <= len(sentence) <= 300 and sentence.isascii() and len(sentence.split()) >= 5:
                out.append(sentence)
    return out


class Zipf:
    """Draws from a list by rank with weight 1/(rank+1)."""

    def __init__(self, items, exponent=1.0):
        self.items = list(items)
        total, cumulative = 0.0, []
        for rank in range(len(self.items)):
            total += 1.0 / (rank + 1) ** exponent
            cumulative.append(total)
        self.cumulative, self.total = cumulative, total

    def draw(self, rng):
        return self.items[min(bisect_left(self.cumulative, rng.random() * self.total), len(self.items) - 1)]


class Material:
    """Everything the generator recombines, read once from the real articles."""

    def __init__(self, ja_corpus: Path | None, rng: random.Random, *, texts=None, en_extra=True):
        """From files (``texts`` None): the .md posts under ``ja_corpus`` as Japanese, then
        content/articles/*/ja.md and */en.md. From ``texts``: (lang, title, Markdown body)
        triples, such as the current revisions of a database, Japanese when lang is "ja".
        ``en_extra``: add the list of Azure/VM words to the English vocabulary (the generated
        corpus uses them; queries over real texts should not)."""
        if texts is None:
            ja_paths = sorted(ja_corpus.rglob("*.md")) if ja_corpus and ja_corpus.is_dir() else []
            self.ja_corpus_files = len(ja_paths)
            ja_paths += sorted((ROOT / "content" / "articles").glob("*/ja.md"))
            en_paths = sorted((ROOT / "content" / "articles").glob("*/en.md"))
            ja_sources = read_sources(ja_paths)
            en_sources = read_sources(en_paths)
        else:
            ja_sources = [parse_source(body, title) for lang, title, body in texts if lang == "ja"]
            en_sources = [parse_source(body, title) for lang, title, body in texts if lang != "ja"]
            self.ja_corpus_files = len(ja_sources)
        self.ja_topics = [s for s in (ja_sentences(src["paragraphs"]) for src in ja_sources) if len(s) >= 5]
        self.ja_all = [s for topic in self.ja_topics for s in topic]
        self.ja_titles = [src["title"] for src in ja_sources if src["title"]]
        self.ja_headings = [h for src in ja_sources for h in src["headings"] if JA_CHAR.search(h) and len(h) <= 60]
        self.code = sorted({line for src in ja_sources + en_sources for line in src["code"]})
        en = [s for src in en_sources for s in en_sentences(src["paragraphs"])]
        en += [s for src in ja_sources for s in en_sentences(src["paragraphs"])]  # English quoted in Japanese posts
        self.en_all = en
        self.en_titles = [src["title"] for src in en_sources if src["title"]]
        self.en_headings = [h for src in en_sources for h in src["headings"] if h.isascii() and len(h) <= 80]
        self.en_headings += [s.rstrip(".") for s in en if len(s) <= 70]
        kata = Counter(w for s in self.ja_all for w in KATAKANA_WORD.findall(s))
        kanji = Counter(w for s in self.ja_all for w in KANJI_WORD.findall(s))
        english = Counter(w for s in en for w in EN_WORD.findall(s))
        if en_extra:
            english.update(dict.fromkeys(EN_EXTRA_TEXT.split(), 1))
        self.kata = Zipf(w for w, _ in kata.most_common())
        self.kanji = Zipf(w for w, _ in kanji.most_common())
        self.english = Zipf(w for w, _ in english.most_common())
        self.tracking_ids = [self.tracking_id(rng) for _ in range(2000)]
        self.error_codes = [self.error_code(rng) for _ in range(600)]

    @staticmethod
    def tracking_id(rng):
        alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
        return (
            "".join(rng.choice(alphabet + "_") for _ in range(4))
            + "-"
            + "".join(rng.choice(alphabet) for _ in range(3))
        )

    @staticmethod
    def error_code(rng):
        if rng.random() < 0.5:
            return "0x8" + "".join(rng.choice("0123456789ABCDEF") for _ in range(7))
        return "".join(rng.choice(part) for part in ERROR_PARTS)

    def summary(self):
        return (
            f"{len(self.ja_all)} ja sentences from {len(self.ja_topics)} files, {len(self.en_all)} en sentences, "
            f"{len(self.kata.items)} katakana + {len(self.kanji.items)} kanji words, {len(self.english.items)} en words"
        )


# -- queries ------------------------------------------------------------------------------------

JA_WORD_QUERIES = [
    "更新中",
    "準備できていません",
    "プロビジョニング",
    "拡張機能",
    "サーバー",
    "サーバ",
    "仮想マシン",
    "再起動",
    "失敗",
    "中",
    "ネットワーク",
    "ディスク",
    "エージェント",
    "診断",
    "接続",
    "停止",
    "割り当て",
    "可用性",
    "スナップショット",
    "ブート",
    "ファイアウォール",
    "証明書",
    "メモリ",
    "タイムアウト",
    "復旧",
    "移行",
    "バックアップ",
    "障害",
    "応答",
    "パフォーマンス",
    "ライセンス認証",
    "サブスクリプション",
    "イメージ",
    "デプロイ",
    "ログ",
    "設定",
    "確認",
    "通信",
    "カーネル",
    "パッチ",
    "ドライバー",
    "ドライバ",
    "コンソール",
    "ポータル",
    "スケールセット",
    "リージョン",
]
JA_PHRASE_QUERIES = [
    "ネットワーク セキュリティ グループ",
    "仮想マシンが起動しない",
    "拡張機能のインストール",
    "エージェントが準備できていません",
    "更新中のまま",
    "プロビジョニングに失敗しました",
    "再起動してください",
    "シリアル コンソール",
    "ゲスト OS",
    "ブート診断",
    "送信方向の通信",
    "管理オペレーション",
    "お問い合わせください",
    "発生した場合",
]
EN_WORD_QUERIES = [
    "extension",
    "extensions",
    "provisioning",
    "provisioned",
    "restart",
    "restarted",
    "restarting",
    "failed",
    "failure",
    "fails",
    "agent",
    "agents",
    "network",
    "disk",
    "disks",
    "timeout",
    "update",
    "updating",
    "updated",
    "connectivity",
    "outbound",
    "inbound",
    "firewall",
    "certificate",
    "memory",
    "snapshot",
    "boot",
    "diagnostics",
    "serial console",
    "virtual machine",
    "guest agent",
    "not ready",
    "wire server",
    "custom script",
]
IDENTIFIER_QUERIES = [
    "VMExtensionProvisioningError",
    "ProvisioningError",
    "168.63.129.16",
    "Get-AzureRmVM",
    "/var/log/waagent.log",
    "waagent.log",
    "waagent",
    "0NC_-L9G",
    "32526",
    "port 32526",
    "WindowsAzureGuestAgent",
    "OSProvisioningTimedOut",
    "CustomScriptExtension",
    "Microsoft.Compute",
    "AllocationFailed",
    "0x80070005",
    "KB5005565",
    "cloud-init",
    "/etc/waagent.conf",
    "169.254.169.254",
    "Standard_D2s_v3",
    "ERROR_FILE_NOT_FOUND",
    "WaAppAgent.log",
    "RDAgentBootLoader",
    "TimedOut",
]
MIXED_QUERIES = [
    "VM エージェント",
    "Windows 再起動",
    "拡張機能 CustomScript",
    "168.63.129.16 通信",
    "waagent ログ",
    "NSG 送信",
    "Linux カーネル",
    "Azure ポータル",
    "RDP 接続",
    "SSH 接続",
    "PowerShell コマンド",
    "VMExtensionProvisioningError 拡張機能",
    "Wire Server 通信",
    "OS ディスク",
    "VM 停止",
    "Windows Update 失敗",
    "DNS 名前解決",
    "Azure VM 再起動",
]
NO_HIT_QUERIES = [
    "xyzzyplugh",
    "qwertzuiopasdf",
    "provisoning",
    "ほげほげふがふが",
    "0x8BADF00D",
    "ZQ9X-QQQ",
    "存在しない単語の組み合わせ",
    "frobnicated widgetry",
    "ギガントマキア",
    "extensionz",
]
CATEGORY_SHARE = [
    ("ja-word", 0.25),
    ("ja-phrase", 0.13),
    ("en-word", 0.2),
    ("identifier", 0.2),
    ("mixed", 0.14),
    ("no-hit", 0.08),
]


def build_queries(n, material, generator, rng):
    """A fixed mix of n queries: the hand-picked ones first, then words sampled from the corpus."""
    sampled = defaultdict(list)
    for rank in (3, 10, 30, 100, 300, 1000, 3000, 8000):
        for zipf in (material.kata, material.kanji):
            if rank < len(zipf.items):
                sampled["ja-word"].append(zipf.items[rank])
        if rank < len(material.english.items):
            sampled["en-word"].append(material.english.items[rank])
    for _ in range(60):
        found = JA_PAIR.findall(rng.choice(material.ja_all))
        if found:
            sampled["ja-phrase"].append(rng.choice(found))
    for _ in range(40):
        words = rng.choice(material.en_all).split()
        start = rng.randrange(max(1, len(words) - 1))
        sampled["en-word"].append(" ".join(w.strip(".,;:()\"'") for w in words[start : start + 2]))
    tracked = sorted(generator.used_tracking_ids)
    codes = sorted(generator.used_error_codes)
    sampled["identifier"] += rng.sample(tracked, min(10, len(tracked))) + rng.sample(codes, min(10, len(codes)))
    for _ in range(40):
        sampled["mixed"].append(
            f"{rng.choice(['VM', 'Azure', 'Windows', 'Linux', 'RDP', 'NSG', 'waagent'])} {material.kanji.draw(rng)}"
        )
    fixed = {
        "ja-word": JA_WORD_QUERIES,
        "ja-phrase": JA_PHRASE_QUERIES,
        "en-word": EN_WORD_QUERIES,
        "identifier": IDENTIFIER_QUERIES,
        "mixed": MIXED_QUERIES,
        "no-hit": NO_HIT_QUERIES,
    }
    queries = []
    for category, share in CATEGORY_SHARE:
        last = category == CATEGORY_SHARE[-1][0]
        quota = max(1, n - len(queries)) if last else max(1, round(n * share))
        pool, seen = [], set()
        for q in fixed[category] + sampled[category]:
            q = " ".join(q.split())
            if q and q not in seen:
                seen.add(q)
                pool.append(q)
        chosen = pool[:quota]
        while len(chosen) < quota:  # only for very large --queries: repeat the pool
            chosen.append(pool[len(chosen) % len(pool)])
        queries += [(category, q) for q in chosen]
    return queries[:n]


# -- many distinct queries ----------------------------------------------------------------------

# Identifier-like tokens of real texts: addresses, hex codes, paths, dotted or dashed names,
# CamelCase words, KB numbers.
IDENTIFIER = re.compile(
    r"\b(?:\d{1,3}\.){3}\d{1,3}\b"
    r"|\b0x[0-9A-Fa-f]{4,8}\b"
    r"|(?:[A-Za-z]:)?(?:[/\\][\w.-]+){2,}"
    r"|\b[A-Za-z][A-Za-z0-9]*(?:[._-][A-Za-z0-9]+)+\b"
    r"|\b[A-Za-z]*[a-z][A-Z][A-Za-z0-9]*\b"
    r"|\b[A-Z]{2,}[0-9]{3,}\b"
)
URL = re.compile(r"(?:https?|ftp)://\S+")
ADDRESS = re.compile(r"(?:\d{1,3}\.){3}\d{1,3}")
ASCII_TERM = re.compile(r"\b[A-Z][A-Za-z]{1,14}\b")  # VM, Azure, Windows, NSG, PowerShell, ...
JA_CLAUSE_BREAK = re.compile(r"[、。！？「」『』（）()：:]")
LATIN_CONSONANTS, LATIN_VOWELS = "bcdfghjklmnprstvwxz", "aeiou"
KATAKANA = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン"
MAX_DISTINCT_LENGTH = 60


def fold(query):
    """What makes two queries the same for this list: NFKC, case and spacing folded."""
    return " ".join(unicodedata.normalize("NFKC", query).casefold().split())


def weighted_order(ranked_lists, rng):
    """Every item of the rank-ordered lists once, in a random order that favours the frequent:
    an item of rank r weighs 1/(r+1), and the order is weighted sampling without replacement
    (key u^(1/w), compared as logarithms so that rare items do not all tie at 0)."""
    keyed = []
    for items in ranked_lists:
        for rank, item in enumerate(items):
            keyed.append(((rank + 1) * math.log(1.0 - rng.random()), item))
    keyed.sort(key=lambda pair: -pair[0])
    return [item for _key, item in keyed]


def identifiers(material):
    """Identifier-like tokens of the material's texts, the most frequent first."""
    found = Counter()
    texts = (
        material.ja_all + material.en_all + material.code + material.ja_headings + material.en_headings
    ) + material.ja_titles
    for text in texts:
        for match in IDENTIFIER.finditer(URL.sub(" ", text)):
            token = match.group(0).strip("._-")
            if (
                5 <= len(token) <= MAX_DISTINCT_LENGTH
                and (any(c.isalpha() for c in token) or ADDRESS.fullmatch(token))
                and not token.lower().startswith(("http", "www."))
            ):
                found[token] += 1
    return [token for token, _count in found.most_common()]


def _ja_words(material, rng):
    yield from weighted_order([material.kata.items, material.kanji.items], rng)


def _ja_phrases(material, rng):
    """Two words of a sentence as typed (spaced), a word pair joined by a particle, or a
    clause as pasted from an error message or an article."""
    while True:
        sentence, r = rng.choice(material.ja_all), rng.random()
        if r < 0.4:
            found = JA_PAIR.findall(sentence)
            if found:
                yield rng.choice(found)
        elif r < 0.8:
            words = JA_WORD.findall(sentence)
            if len(words) >= 2:
                i = rng.randrange(len(words) - 1)
                yield f"{words[i]} {words[i + 1]}"
        else:
            clauses = [c.strip() for c in JA_CLAUSE_BREAK.split(sentence) if 6 <= len(c.strip()) <= 30]
            if clauses:
                yield rng.choice(clauses)


def _en_words(material, rng):
    """English words by frequency, alternating with two or three words of a sentence."""
    words = iter(weighted_order([material.english.items], rng))
    while True:
        if rng.random() < 0.5:
            word = next(words, None)
            if word is not None:
                yield word
                continue
        if not material.en_all:
            return
        tokens = [w.strip(".,;:()\"'!?") for w in rng.choice(material.en_all).split()]
        size = rng.choice([2, 2, 3])
        start = rng.randrange(max(1, len(tokens) - size + 1))
        chosen = tokens[start : start + size]
        if any(len(w) >= 4 for w in chosen):  # not "to an"
            yield " ".join(chosen)


def _identifiers(material, rng):
    yield from weighted_order([identifiers(material)], rng)


def _mixed(material, rng):
    """An English or product term beside a Japanese word, as people type them."""
    ascii_terms = Counter(t for s in material.ja_all for t in ASCII_TERM.findall(s))
    terms = Zipf([t for t, _ in ascii_terms.most_common()] or ["VM", "Azure", "Windows", "Linux"])
    while True:
        term = terms.draw(rng)
        word = (material.kata if rng.random() < 0.4 else material.kanji).draw(rng)
        yield f"{term} {word}" if rng.random() < 0.8 else f"{word} {term}"


def _no_hits(material, rng):
    """Made-up words, typos of real ones (which take the "did you mean" path), hex codes."""
    while True:
        r = rng.random()
        if r < 0.4:
            syllables = rng.randint(3, 5)
            yield "".join(rng.choice(LATIN_CONSONANTS) + rng.choice(LATIN_VOWELS) for _ in range(syllables)) + (
                rng.choice(LATIN_CONSONANTS)
            )
        elif r < 0.7:
            word = material.english.draw(rng)
            if len(word) >= 5:
                i = rng.randrange(1, len(word) - 1)
                yield (
                    word[:i] + word[i + 1] + word[i] + word[i + 2 :] if rng.random() < 0.5 else word[:i] + word[i + 1 :]
                )
        elif r < 0.9:
            yield "".join(rng.choice(KATAKANA) for _ in range(rng.randint(4, 6)))
        else:
            yield "0x" + "".join(rng.choice("0123456789ABCDEF") for _ in range(8))


JA_ASKING = [
    "のはなぜですか",
    "のですが、どうすればよいでしょうか",
    "原因を知りたいです",
    "場合はどこを確認すればよいですか",
]
EN_ASKING = ["why", "how do I fix it when", "what should I check if", "is it expected that"]
QUESTION_WORDS = (10, 25)  # as bench/search_bench.py's question row
MAX_QUESTION_LENGTH = 200
# The cache-miss list of load_bench.py: the mix's kinds, and questions as customers type them
# (issue 20), which cost the ranked reading the most.
MISS_SHARE = [(kind, share * 0.8) for kind, share in CATEGORY_SHARE[:-1]] + [("question", 0.2), CATEGORY_SHARE[-1]]


def _questions(material, rng):
    """A clause of a sentence turned into a customer's question: Japanese with a polite asking
    ending, English with a question opening, about 10 to 25 words (a Japanese one holds at
    least five kanji or katakana words besides its particles)."""
    while True:
        if material.en_all and rng.random() < 0.3:
            words = [w.strip(".,;:()\"'!?") for w in rng.choice(material.en_all).split()]
            size = rng.randint(QUESTION_WORDS[0] - 2, QUESTION_WORDS[1] - 4)
            if len(words) >= size:
                start = rng.randrange(len(words) - size + 1)
                yield f"{rng.choice(EN_ASKING)} {' '.join(words[start : start + size])}"
            continue
        clauses = [c.strip() for c in JA_CLAUSE_BREAK.split(rng.choice(material.ja_all)) if len(c.strip()) >= 8]
        if clauses:
            text = "、".join(clauses[:3])
            if len(JA_WORD.findall(text)) >= 5 and len(text) <= MAX_QUESTION_LENGTH - 20:
                yield text + rng.choice(JA_ASKING)


DISTINCT_SOURCES = {
    "ja-word": _ja_words,
    "ja-phrase": _ja_phrases,
    "en-word": _en_words,
    "identifier": _identifiers,
    "mixed": _mixed,
    "no-hit": _no_hits,
    "question": _questions,
}


def distinct_queries(n, material, rng, exclude=(), shares=CATEGORY_SHARE):
    """n different queries as (kind, query), no two alike once folded (``fold``) and none in
    ``exclude``, the kinds in ``shares`` (by default the mix's CATEGORY_SHARE), in a shuffled
    order: what many different visitors type. A kind that runs out of material leaves its share
    to the next. Every query is drawn from the material's texts (words by frequency, pairs and
    clauses of its sentences, its identifiers), except the no-hit kind."""
    seen = {fold(q) for q in exclude}
    queries, short = [], 0
    for number, (category, share) in enumerate(shares):
        longest = MAX_QUESTION_LENGTH if category == "question" else MAX_DISTINCT_LENGTH
        last = number == len(shares) - 1
        quota = n - len(queries) if last else round(n * share) + short
        found, tries = [], 0
        for candidate in DISTINCT_SOURCES[category](material, rng):
            tries += 1
            if len(found) >= quota or tries > 50 * quota + 1000:
                break
            query = " ".join(candidate.split())
            key = fold(query)
            if not query or len(query) > longest or key in seen:
                continue
            seen.add(key)
            found.append(query)
        short = quota - len(found)
        queries += [(category, q) for q in found]
    rng.shuffle(queries)
    return queries
