"""Which Japanese analysis for the whoosh index: relevance, phrase precision and speed.

    .venv/bin/python bench/analyzers.py [--rounds 5] [--only NAME ...] [--verbose]

Every analyzer is the project's hybrid tokenizer (kb.search): ASCII runs are cut out first
and indexed whole plus CamelCase/punctuation parts, English words stemmed. Only the function
that analyses the Japanese between the ASCII runs differs:

  sudachi-A   kb.search.HybridTokenizer itself (SudachiPy split mode A, normalized_form)
  sudachi-C   SudachiPy split mode C, normalized_form
  janome      janome (IPADIC), base_form
  fugashi     fugashi + unidic-lite (MeCab, UniDic), lemma (UniDic's "-english" gloss cut)
  bigram      overlapping character bigrams over each run of word characters; a run of one
              character is indexed as that character

Punctuation and whitespace are dropped by each (Sudachi/UniDic 補助記号 and 空白, IPADIC 記号).
janome and fugashi are not project dependencies: `.venv/bin/pip install janome fugashi
unidic-lite` to include them; a missing one is skipped with a line saying so.

Corpus: content/articles/*/{ja,en}.md and the jpaztech posts (/work/shared/corpus/jpaztech-blog/
articles/**/*.md, or --corpus). Each analyzer gets its own index in a temporary directory with
the schema shape of kb.search (title/headings/body TEXT, the same field boosts,
multitoken_query="phrase") and is queried through kb.search.parse (AND, then OR when nothing is
found, as kb.search.search does).

Figures:
  hits@3     judgements (below) whose expected slug is among the first 3 hits (slug = the file's
             stem; a post that is both a project article and a corpus post counts either way).
             "same as Q": the first 3 hits equal those of the query Q (サーバ / サーバー).
  FP         over the queries with a Japanese word that some analyzer splits into several tokens
             (so it becomes a phrase): results of the AND query whose text does not contain
             every Japanese word of the query. Text and query are compared NFKC, lower-cased,
             without whitespace, punctuation and the long-vowel mark ー, so that "メモリダンプ"
             is found in "メモリ ダンプ" and サーバ in サーバー (a proxy: a lemmatising analyzer
             that finds できない for 出来ない is counted as a false positive here).
  FP if AND  the same count had the words been parsed as AND of their tokens (multitoken_query
             "default"): what the phrase setting saves.
  missed     over the same queries when all-Japanese and longer than one character: documents
             whose text contains the query (same comparison) but are not returned.
  tok MB/s   the whole hybrid analyzer over title + headings + body of every document (UTF-8
             MB / s), after the dictionary is loaded ("init" is that load).
  build      add_document for every document + commit, in a temporary directory.
             Throughput and build: --passes passes (default 2), analyzers interleaved, the
             fastest pass kept, so a burst of load on the machine hits all of them alike.
  p50/p95    parse + search(limit=10) + reading the 10 stored keys, no highlighting (the OR
             retry when AND finds nothing, as in kb.search); --rounds rounds after a warm-up,
             analyzers interleaved query by query.
"""

import argparse
import importlib.util
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "x")

from whoosh import index  # noqa: E402
from whoosh.analysis.filters import LowercaseFilter  # noqa: E402
from whoosh.fields import ID, TEXT, Schema  # noqa: E402
from whoosh.qparser import OrGroup  # noqa: E402

from kb import search as kbs  # noqa: E402  (no Django access at import time)

DEFAULT_CORPUS = Path("/work/shared/corpus/jpaztech-blog/articles")
CHUNK = kbs.SUDACHI_CHUNK

# -- the Japanese part of each analyzer ----------------------------------------------------------

_cache = {}


def chunks(segment):
    for start in range(0, len(segment), CHUNK):
        yield start, segment[start : start + CHUNK]


def sudachi_c_terms(segment):
    from sudachipy import tokenizer as sudachi_tokenizer

    mode = sudachi_tokenizer.Tokenizer.SplitMode.C
    for start, chunk in chunks(segment):
        for m in kbs.sudachi().tokenize(chunk, mode):
            if m.part_of_speech()[0] in kbs.SKIPPED_POS:
                continue
            yield m.normalized_form().lower(), start + m.begin(), start + m.end()


def janome_tokenizer():
    if "janome" not in _cache:
        from janome.tokenizer import Tokenizer as JanomeTokenizer

        _cache["janome"] = JanomeTokenizer()
    return _cache["janome"]


def janome_terms(segment):
    tokenizer = janome_tokenizer()
    for start, chunk in chunks(segment):
        cursor = 0
        for t in tokenizer.tokenize(chunk):
            surface = t.surface
            found = chunk.find(surface, cursor)
            begin = found if found >= 0 else cursor
            cursor = begin + len(surface)
            if t.part_of_speech.startswith("記号") or not surface.strip():
                continue
            form = t.base_form if t.base_form and t.base_form != "*" else surface
            yield form.lower(), start + begin, start + cursor


def fugashi_tagger():
    if "fugashi" not in _cache:
        import fugashi

        _cache["fugashi"] = fugashi.Tagger()  # finds unidic-lite
    return _cache["fugashi"]


def unidic_form(word):
    lemma = getattr(word.feature, "lemma", None)
    if not lemma or lemma == "*":
        return word.surface
    head, sep, gloss = lemma.rpartition("-")  # サーバー-server → サーバー
    return head if sep and head and gloss.isascii() else lemma


def fugashi_terms(segment):
    tagger = fugashi_tagger()
    for start, chunk in chunks(segment):
        cursor = 0
        for word in tagger(chunk):
            surface = word.surface
            found = chunk.find(surface, cursor)
            begin = found if found >= 0 else cursor
            cursor = begin + len(surface)
            if getattr(word.feature, "pos1", "") in kbs.SKIPPED_POS or not surface.strip():
                continue
            yield unidic_form(word).lower(), start + begin, start + cursor


WORD_RUN = re.compile(r"[^\W_]+")


def bigram_terms(segment):
    for run in WORD_RUN.finditer(segment):
        text, offset = run.group(0).lower(), run.start()
        if len(text) == 1:
            yield text, offset, offset + 1
            continue
        for i in range(len(text) - 1):
            yield text[i : i + 2], offset + i, offset + i + 2


JAPANESE = {
    "sudachi-A": kbs.japanese_terms,
    "sudachi-C": sudachi_c_terms,
    "janome": janome_terms,
    "fugashi": fugashi_terms,
    "bigram": bigram_terms,
}


# -- the hybrid tokenizer with a replaceable Japanese part (a copy of kb.search.terms) ----------


def variant_terms(text, mode, japanese):
    return kbs.terms(text, mode, japanese=japanese)


class VariantTokenizer(kbs.HybridTokenizer):
    """kb.search.HybridTokenizer with the Japanese function named by ``japanese``."""

    def __init__(self, japanese):
        self.japanese = japanese  # a key of JAPANESE: the schema is pickled into the index

    def terms(self, value, mode=""):
        return variant_terms(value, mode, JAPANESE[self.japanese])


ANALYZERS = [
    # name, required modules, tokenizer factory, description
    ("sudachi-A", ["sudachipy"], kbs.HybridTokenizer, "SudachiPy mode A normalized_form (kb.search, current)"),
    ("sudachi-C", ["sudachipy"], lambda: VariantTokenizer("sudachi-C"), "SudachiPy mode C normalized_form"),
    ("janome", ["janome"], lambda: VariantTokenizer("janome"), "janome 0.5 (IPADIC) base_form"),
    ("fugashi", ["fugashi", "unidic_lite"], lambda: VariantTokenizer("fugashi"), "fugashi + unidic-lite lemma"),
    ("bigram", [], lambda: VariantTokenizer("bigram"), "character bigrams (1-char runs as unigrams)"),
]


FIELDS = ("title", "headings", "body")


def schema(tokenizer, multitoken="phrase"):
    text = tokenizer | LowercaseFilter()
    boosts = {"title": 4.0, "headings": 2.0}  # as kb.search weighs title and heading matches
    return Schema(
        key=ID(unique=True, stored=True),
        slug=ID(stored=True),
        lang=ID(stored=True),
        title=TEXT(analyzer=text, stored=True, field_boost=boosts["title"], multitoken_query=multitoken),
        headings=TEXT(analyzer=text, field_boost=boosts["headings"], multitoken_query=multitoken),
        body=TEXT(analyzer=text, stored=True, chars=True, multitoken_query=multitoken),
    )


# -- corpus -------------------------------------------------------------------------------------

TITLE_LINE = re.compile(r"^title:\s*(.*?)\s*$")
HEADING_LINE = re.compile(r"^#{1,6}\s+(.*\S)\s*$")


def read_doc(path, slug, lang, key):
    text = path.read_text(encoding="utf-8").replace("\r\n", "\n").lstrip("\ufeff")
    lines = text.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), 0)
    title, body = "", text
    if lines and lines[first].strip() == "---":
        end = next((i for i in range(first + 1, len(lines)) if lines[i].strip() == "---"), None)
        if end is not None:
            for line in lines[first + 1 : end]:
                m = TITLE_LINE.match(line)
                if m:
                    title = m.group(1).strip("'\"")
            body = "\n".join(lines[end + 1 :])
    headings = [m.group(1) for line in body.split("\n") if (m := HEADING_LINE.match(line))]
    if not title and headings:
        title = headings[0]
    return {"key": key, "slug": slug, "lang": lang, "title": title, "headings": "\n".join(headings), "body": body}


def load_corpus(corpus_dir):
    docs = []
    for article in sorted((ROOT / "content" / "articles").iterdir()):
        for lang in ("ja", "en"):
            path = article / f"{lang}.md"
            if path.exists():
                docs.append(read_doc(path, article.name, lang, f"{article.name}:{lang}"))
    for path in sorted(corpus_dir.rglob("*.md")):
        rel = path.relative_to(corpus_dir).with_suffix("")
        docs.append(read_doc(path, path.stem, "ja", f"corpus/{rel}"))
    return docs


SQUASH = re.compile(r"[\W_ー]+")


def squash(text):
    """For the literal-containment proxy: NFKC, lower case, no spaces/punctuation/ー."""
    return SQUASH.sub("", unicodedata.normalize("NFKC", text).lower())


def japanese_words(query):
    return [w for w in query.split() if not w.isascii()]


# -- judgements ---------------------------------------------------------------------------------

VM_STUCK = "vm-stuck-in-updating-when-nsg-rule-restricts-outbound-internet-connectivity"
LOAD_BALANCER = {
    "azurelb-tips",
    "loadbalancer-troubleshooting",
    "loadbalancer-troubleshooting2",
    "loadbalancer-troubleshooting3",
    "azure-lb-pre-warming-and-monitoring",
}
PRIVATE_KEY = {"cdn-common", "appgw-troubleshooting-cert", "do-not-provide-sensitive-data"}  # the 3 posts with 秘密鍵

# (query, expected): a set of slugs, one of which must be in the first 3 hits, or ("same", Q).
# Expectations come from reading the texts (titles, and where the word is the subject), not from
# any analyzer's results.
JUDGEMENTS = [
    ("更新中", {VM_STUCK}),
    ("更新中のまま", {VM_STUCK}),  # the text says “更新中” のまま
    ("NSG 更新中", {VM_STUCK}),
    ("準備できていません", {"vmagent-notready"}),
    ("仮想マシンエージェント", {"vmagent-notready"}),  # corpus copy writes 仮想マシン エージェント
    ("エージェントの状態", {"vmagent-notready"}),  # inside 仮想マシンエージェントの状態
    ("プロビジョニングの失敗", {"vm-provisioning-failed"}),
    ("プロビジョニング 失敗", {"vm-provisioning-failed"}),
    ("拡張機能", {"windows-vm-extensions"}),
    ("サーバ", ("same", "サーバー")),
    ("ユーザ", ("same", "ユーザー")),
    ("メールサーバ", {"smtp-on-azurevm", "azure-smtp-server-considerations"}),  # text: メールサーバー
    ("コンピュータ名", {"how-to-rename-vm"}),  # text: コンピューター名
    ("ロードバランサ", LOAD_BALANCER),  # text: ロードバランサー
    ("ロードバランサー", LOAD_BALANCER),
    ("鍵", PRIVATE_KEY),  # one character, only ever inside 秘密鍵
    ("秘密鍵", PRIVATE_KEY),
    ("中", {VM_STUCK, "fw-tls-cert"}),  # one character: the titles with 中 (更新中, 中間 CA)
    ("ポート枯渇", {"snat-options-for-azure-vm"}),
    ("枯渇", {"snat-options-for-azure-vm", "Azure_Firewall-capacity-issue"}),
    ("送信接続", {"snat-options-for-azure-vm"}),
    ("送信アクセス", {"default-outbound-access-for-vms-will-be-retired"}),
    ("5RWW-K4G", {"notification_supplement_Tracking ID_5RWW-K4G"}),
    ("169.254.169.254", {"get-scheduled-events-from-imds"}),
    ("168.63.129.16", {"dns-168-63-129-16", "about-168-63-129-16"}),
    ("Application Gateway 502", {"application-gateway-502-error-info", "appgw-502error"}),
    ("VMExtensionProvisioningError", {VM_STUCK}),
    ("OOMKill", {"aks-oom-202312", "aks-memory-troubleshoot"}),
    ("7031 RdAgent", {"7031-rdagent-restart"}),
    ("Azure Firewall キャパシティ", {"Azure_Firewall-capacity-issue"}),
    ("伝送路 暗号化", {"connection-method-between-microsoft-and-on-prem"}),
    ("暗号化スイート", {"p2s-tls-announcement-july-2018"}),
    ("可用性セット", {"sla-singlevm-availability", "availability_options_with_ppg", "plwv-bt0"}),
    ("近接配置グループ", {"availability_options_with_ppg"}),
    ("ゾーン冗長", {"fw_notification_7kyk-r8g", "fw-snat"}),
    ("強制トンネリング", {"vpn-defaultsite-update-2022feb", "forcetunneling-azure-to-onpre-configuration"}),
    ("誤検知", {"handle-waf-false-positive", "handle-waf-false-postive", "WAF誤検知対応"}),
    ("記憶域スペース", {"extend-storage-space-on-azure-windows-vm", "extand-storage-space-on-azure-windows-vm"}),
    ("メモリダンプ", {"how_to_get_a_complete_memory_dump"}),  # text: メモリ ダンプ
    ("完全メモリダンプ", {"how_to_get_a_complete_memory_dump"}),
    ("ドライブ文字", {"drive-letter-changed-1", "drive-letter-changed-2"}),
    ("一時ディスク", {"drive-letter-changed-2"}),
    (
        "非管理ディスク",
        {
            "change-disk-types-of-unmanaged-disk",
            "change-disk-types-of-unmagaged-disk",
            "noboot-recovery-unmanaged-disk",
            "linux-noboot-recovery-managed-disk",
        },
    ),
    ("再デプロイ", {"vm-redeploy", "vm-operation"}),
    ("言語パック", {"win2019-jp-lpk", "win2016-jp-lpk-issue"}),
    ("高速ネットワーク", {"vm-size-accelerated-networking"}),
    ("ライセンス認証", {"kms-troubleshooting", "azure-vm-may-fail-to-activate-over-expressroute"}),
    ("時刻同期", {"linux-time-sync", "linux-rime-sync"}),
    (
        "プライベートエンドポイント",
        {"pe-troubleshooting", "pe-difference-se", "pe-introduction"},
    ),  # text: プライベート エンドポイント
    ("大文字小文字", {"resourcegroup-uppercase-lowercase"}),  # text: 大文字・小文字
    ("根本原因", {"20211013-rca-azure-vm"}),
    ("再起動を必要としないメンテナンス", {"get-scheduled-events-from-imds"}),
    (
        "ポイント対サイト",
        {
            "p2s-tls-announcement-july-2018",
            "p2s-vpn-proxy-settings",
            "important_information_p2s_cert",
            "p2s-vpn-error798",
        },
    ),
    ("中間証明書", {"appgw-troubleshooting-cert", "tls-certificate-update-2020", "ssl-intermediate-ca-change"}),
    ("スナップショット", {"vm-replica-3", "network-setting-of-disk-and-snapshot"}),
    ("provisioning failed", {"vm-provisioning-failed"}),
    ("agent status not ready", {"vmagent-notready"}),
    ("Updating NSG", {VM_STUCK}),
    ("extensions", {"windows-vm-extensions"}),
    ("root cause analysis", {"20211013-rca-azure-vm"}),
]


def all_queries():
    seen, out = set(), []
    for q, expected in JUDGEMENTS:
        for text in (q, expected[1]) if isinstance(expected, tuple) else (q,):
            if text not in seen:
                seen.add(text)
                out.append(text)
    return out


def phrase_queries(built):
    """Queries with a Japanese word that at least one analyzer splits into several tokens."""
    out = []
    for q in all_queries():
        words = japanese_words(q)
        if any(len(list(tok(w, mode="query"))) > 1 for _name, tok in built for w in words):
            out.append(q)
    return out


# -- measuring ----------------------------------------------------------------------------------


def available(modules):
    return [m for m in modules if importlib.util.find_spec(m) is None]


def dir_size(path):
    return sum(p.stat().st_size for p in Path(path).iterdir() if p.is_file())


def percentile(values, pct):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))]


def run_query(s, sch, text, limit=10):
    q = kbs.parse(text, sch, fields=FIELDS)
    found = s.search(q, limit=limit)
    keys = [hit["key"] for hit in found]
    relaxed = False
    if not keys:
        relaxed_q = kbs.parse(text, sch, group=OrGroup, fields=FIELDS)
        if relaxed_q != q:
            found = s.search(relaxed_q, limit=limit)
            keys = [hit["key"] for hit in found]
            relaxed = bool(keys)
    return keys, relaxed


def check_variant_copy(docs):
    """The copied terms() with kb.search's Japanese function gives exactly kb.search.terms()."""
    sample = docs[:10] + docs[10::25]
    for doc in sample:
        for mode in ("index", "query"):
            text = doc["title"] + "\n" + doc["body"][:4000]
            if list(variant_terms(text, mode, kbs.japanese_terms)) != list(kbs.terms(text, mode)):
                raise SystemExit(f"variant_terms differs from kb.search.terms on {doc['key']} ({mode})")
    return len(sample)


def tokenize_all(tokenizer, docs):
    """(seconds, UTF-8 bytes, tokens) for the analyzer over every field of every document."""
    nbytes, ntokens = 0, 0
    t0 = time.perf_counter()
    for doc in docs:
        for field in ("title", "headings", "body"):
            value = doc[field]
            nbytes += len(value.encode("utf-8"))
            for _token in tokenizer(value, positions=True, chars=True):
                ntokens += 1
    return time.perf_counter() - t0, nbytes, ntokens


def build(tokenizer, docs, directory):
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    t0 = time.perf_counter()
    ix = index.create_in(directory, schema(tokenizer))
    writer = ix.writer(limitmb=256)
    for doc in docs:
        writer.add_document(**{k: doc[k] for k in ("key", "slug", "lang", "title", "headings", "body")})
    writer.commit()
    return time.perf_counter() - t0, ix


def speed_pass(analyzer, docs, workdir):
    """One tokenization pass and one index build; the fastest pass of each is kept."""
    seconds, nbytes, ntokens = tokenize_all(analyzer["tokenizer"], docs)
    analyzer["mbps"] = max(analyzer.get("mbps", 0.0), nbytes / 1e6 / seconds)
    analyzer["tokens"] = ntokens
    if analyzer.get("ix") is not None:
        analyzer["ix"].close()
    seconds, analyzer["ix"] = build(analyzer["tokenizer"], docs, Path(workdir) / analyzer["name"])
    analyzer["build"] = min(analyzer.get("build", float("inf")), seconds)
    analyzer["size"] = dir_size(Path(workdir) / analyzer["name"])


def judge(analyzer, by_key, slug_of, fp_queries):
    """Relevance (hits@3), phrase false positives and substring misses on the built index."""
    tokenizer = analyzer["tokenizer"]
    sch = schema(tokenizer)
    sch_and = schema(tokenizer, multitoken="default")  # only to parse: what AND of tokens would give
    with analyzer["ix"].searcher() as s:
        analyzer["vocab"] = sum(1 for _ in s.reader().lexicon("body"))
        top, relaxed_used = {}, []
        for text in all_queries():
            keys, relaxed = run_query(s, sch, text, limit=3)
            top[text] = keys
            if relaxed:
                relaxed_used.append(text)
        passed, failures = 0, []
        for text, expected in JUDGEMENTS:
            got = top[text]
            if isinstance(expected, tuple):
                ok = bool(got) and set(got) == set(top[expected[1]])
            else:
                ok = any(slug_of[k] in expected for k in got)
            if ok:
                passed += 1
            else:
                failures.append((text, expected, got))
        analyzer.update(passed=passed, failures=failures, top=top, relaxed=relaxed_used)
        fp_total, fp_and_total, res_total, missed_total, detail = 0, 0, 0, 0, []
        for text in fp_queries:
            words = [squash(w) for w in japanese_words(text)]
            returned = {hit["key"] for hit in s.search(kbs.parse(text, sch, fields=FIELDS), limit=None)}
            returned_and = {hit["key"] for hit in s.search(kbs.parse(text, sch_and, fields=FIELDS), limit=None)}
            fps = [k for k in returned if not all(w in by_key[k] for w in words)]
            fps_and = [k for k in returned_and if not all(w in by_key[k] for w in words)]
            missed = []
            if text == " ".join(japanese_words(text)) and len(squash(text)) > 1:
                literal = {k for k, t in by_key.items() if all(w in t for w in words)}
                missed = sorted(literal - returned)
            fp_total += len(fps)
            fp_and_total += len(fps_and)
            res_total += len(returned)
            missed_total += len(missed)
            if fps or missed:
                detail.append((text, len(returned), len(fps), len(missed), sorted(fps)[:3], missed[:3]))
        analyzer.update(fp=fp_total, fp_and=fp_and_total, results=res_total, missed=missed_total, fp_detail=detail)


def latency_round(analyzers, queries, timings):
    """Each query once on each analyzer's index, analyzers interleaved query by query."""
    for text in queries:
        for analyzer in analyzers:
            t0 = time.perf_counter()
            run_query(analyzer["searcher"], analyzer["schema"], text)
            timings[analyzer["name"]].append(time.perf_counter() - t0)


def load_average():
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--rounds", type=int, default=5, help="timed query rounds (default 5)")
    parser.add_argument("--passes", type=int, default=2, help="tokenization + build passes, fastest kept (default 2)")
    parser.add_argument("--only", nargs="*", help="analyzer names to run (default: all)")
    parser.add_argument("--verbose", action="store_true", help="print every query's top 3 per analyzer")
    args = parser.parse_args()

    t_start = time.perf_counter()
    docs = load_corpus(args.corpus)
    total_mb = sum(len((d["title"] + d["headings"] + d["body"]).encode()) for d in docs) / 1e6
    n_ja = sum(d["lang"] == "ja" for d in docs)
    print(f"{platform.python_version()}, {os.cpu_count()} CPUs, load average {load_average()} (timings are wall clock)")
    print(f"corpus: {len(docs)} documents ({n_ja} ja, {len(docs) - n_ja} en), {total_mb:.2f} MB of title+headings+body")
    by_key = {d["key"]: squash(d["title"] + "\n" + d["headings"] + "\n" + d["body"]) for d in docs}
    slug_of = {d["key"]: d["slug"] for d in docs}
    missing_slugs = sorted({s for _q, e in JUDGEMENTS if isinstance(e, set) for s in e} - set(slug_of.values()))
    if missing_slugs:
        raise SystemExit(f"judgements name slugs not in the corpus: {missing_slugs}")
    print(f"check: copied hybrid tokenizer == kb.search.terms on {check_variant_copy(docs)} documents")

    selected = [a for a in ANALYZERS if not args.only or a[0] in args.only]
    built = []
    for name, modules, factory, description in selected:
        missing = available(modules)
        if missing:
            print(
                f"skipped {name}: {', '.join(missing)} not installed (.venv/bin/pip install {' '.join(m.replace('_', '-') for m in missing)})"
            )
            continue
        built.append((name, factory()))
        print(f"analyzer {name}: {description}")
    fp_queries = phrase_queries(built)
    n_single = sum(len(q) == 1 for q in all_queries())
    print(
        f"queries: {len(all_queries())} distinct ({n_single} of one character), "
        f"{len(JUDGEMENTS)} judgements; {len(fp_queries)} phrase queries for FP/missed"
    )
    print()

    analyzers = [{"name": name, "tokenizer": tokenizer} for name, tokenizer in built]
    with tempfile.TemporaryDirectory(prefix="kb-analyzers-") as workdir:
        for analyzer in analyzers:  # dictionary load
            t0 = time.perf_counter()
            list(analyzer["tokenizer"]("準備できていません サーバー", positions=True, chars=True))
            analyzer["init"] = time.perf_counter() - t0
        for n in range(args.passes):  # passes interleaved across analyzers; the fastest is kept
            for analyzer in analyzers:
                t0 = time.perf_counter()
                speed_pass(analyzer, docs, workdir)
                print(f"  pass {n + 1}/{args.passes} {analyzer['name']}: {time.perf_counter() - t0:.1f} s", flush=True)
        for analyzer in analyzers:
            judge(analyzer, by_key, slug_of, fp_queries)
            analyzer["schema"] = schema(analyzer["tokenizer"])
            analyzer["searcher"] = analyzer["ix"].searcher()
        queries = all_queries()
        timings = {a["name"]: [] for a in analyzers}
        latency_round(analyzers, queries, {a["name"]: [] for a in analyzers})  # warm-up
        for _ in range(args.rounds):
            latency_round(analyzers, queries, timings)
        for analyzer in analyzers:
            analyzer["p50"] = statistics.median(timings[analyzer["name"]]) * 1000
            analyzer["p95"] = percentile(timings[analyzer["name"]], 95) * 1000
            analyzer["searcher"].close()
            analyzer["ix"].close()
    results = analyzers
    print()

    header = f"{'analyzer':<11} {'hits@3':>7} {'FP/results':>11} {'FP if AND':>9} {'missed':>6} {'init s':>6} {'tok MB/s':>8} {'build s':>7} {'p50 ms':>6} {'p95 ms':>6} {'index MB':>8} {'terms':>7} {'tokens':>8}"
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r['name']:<11} {r['passed']:>3}/{len(JUDGEMENTS):<3} {r['fp']:>5}/{r['results']:<5} {r['fp_and']:>9} {r['missed']:>6} "
            f"{r['init']:>6.2f} {r['mbps']:>8.2f} {r['build']:>7.1f} {r['p50']:>6.2f} {r['p95']:>6.2f} "
            f"{r['size'] / 1e6:>8.1f} {r['vocab']:>7} {r['tokens']:>8}"
        )
    print()
    for r in results:
        print(f"== {r['name']}: {len(r['failures'])} failed judgement(s)" + (":" if r["failures"] else ""))
        for text, expected, got in r["failures"]:
            want = (
                f"same as {expected[1]} {[slug_of[k] for k in r['top'][expected[1]]]}"
                if isinstance(expected, tuple)
                else "|".join(sorted(expected))
            )
            print(f"   {text!r}: want {want}; got {[slug_of[k] for k in got] or 'nothing'}")
        if r["relaxed"]:
            print(f"   (found only by the relaxed OR query: {', '.join(r['relaxed'])})")
        if r["fp_detail"]:
            print("   phrase queries with FP or missed (query: results, FP, missed; examples):")
            for text, n, nfp, nmiss, fps, missed in r["fp_detail"]:
                ex = ""
                if fps:
                    ex += " FP e.g. " + ", ".join(slug_of[k] for k in fps)
                if missed:
                    ex += " missed e.g. " + ", ".join(slug_of[k] for k in missed)
                print(f"     {text}: {n}, {nfp}, {nmiss};{ex}")
    if args.verbose:
        print()
        for text in all_queries():
            print(text)
            for r in results:
                print(f"   {r['name']:<10} {[slug_of[k] for k in r['top'][text]]}")
    print()
    print(f"total {time.perf_counter() - t_start:.0f} s; {os.cpu_count()} CPUs, load average {load_average()}")


if __name__ == "__main__":
    main()
