"""Reading one source file into a SourceDocument: front matter, title, language, body.

Three formats come in: our own ``content/articles/<slug>/<lang>.md`` (strict), standalone
blog posts as a Hexo or Jekyll site keeps them, and plain text saved from a web page.
Real blogs have quirks; where a quirk has one sensible reading we take it and say so in a
warning, and where it has none the file is refused with its path and line.

Front matter is split here rather than by python-frontmatter because the quirks (a blank
line before the opening ``---``, an unquoted colon in a title) need the raw lines and their
numbers; the YAML itself is parsed by ``kb.content_files`` like every other content file.
"""

import datetime as dt
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.text import slugify

from kb import content_files, languages
from kb.models import Kind

FRONT_MATTER_FENCE = re.compile(r"^(---|\.\.\.)\s*$")
CONTENT_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,199}$")
HASH_PREFIX = re.compile(r"^[0-9a-f]{8,64}$")
DURATION = re.compile(r"^\s*(\d+)\s*([dwmy])\s*$")
DURATION_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}
# Labels of share widgets that end up at the top of a page saved as text.
SHARE_LABELS = {"freigeben über", "share via", "partager via", "compartir a través de", "共有"}
KNOWN_KEYS = {
    "title",
    "date",
    "updated",
    "kind",
    "tags",
    "lang",
    "translated_from",
    "source_hash",
    "significance",
    "tracking_id",
    "impact_start",
    "impact_end",
    "owner",
    "reviewed",
    "review_every",
    "categories",
    "author",
    "layout",
    "toc",
    "slug",
    "description",
}
FREE_TEXT_KEYS = {"title", "description", "author"}  # values that may be repaired by quoting
JAPANESE_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")
LATIN_CHAR = re.compile(r"[A-Za-z]")


class SourceError(Exception):
    """A file that cannot be read as an article; carries the line when there is one."""

    def __init__(self, message, line=None):
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass
class SourceDocument:
    path: Path
    slug: str
    lang: str
    title: str
    body: str
    kind: str = Kind.GUIDE
    tags: list = field(default_factory=list)
    published_at: dt.datetime | None = None
    translated_from: str = ""
    source_hash: str = ""
    significance: str = "major"
    tracking_id: str = ""
    impact_start: dt.datetime | None = None
    impact_end: dt.datetime | None = None
    owner: str = ""
    reviewed_on: dt.date | None = None
    review_every_days: int | None = None
    warnings: list = field(default_factory=list)
    rendered: object = None  # the rendering, once the importer has made it

    @property
    def body_hash(self):
        return body_hash(self.body)

    @property
    def is_translation(self):
        return bool(self.translated_from)


def body_hash(body: str) -> str:
    return hashlib.sha256(body.strip().encode("utf-8")).hexdigest()


def read_text(path: Path) -> str:
    """The file as text with LF line endings, or a SourceError saying why it is not text."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read file: {exc.strerror}") from exc
    if not raw.strip():
        raise SourceError("empty file")
    if b"\x00" in raw:
        raise SourceError("binary file (contains NUL bytes)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SourceError(f"not UTF-8 (invalid byte at offset {exc.start})", line) from exc
    return text.replace("\r\n", "\n").replace("\r", "\n")


def detect_language(text: str) -> str:
    japanese = len(JAPANESE_CHAR.findall(text))
    latin = len(LATIN_CHAR.findall(text))
    # Japanese prose carries many Latin product names; a modest share of kana/kanji decides.
    return "ja" if japanese and japanese * 4 >= latin else "en"


def slug_from_filename(path: Path) -> str:
    stem = unicodedata.normalize("NFKC", path.stem)
    return slugify(stem, allow_unicode=True)[:200] or "article"


# -- front matter -------------------------------------------------------------------------


def split_front_matter(text: str):
    """Return (front matter text or None, first line number of it, body, warnings)."""
    lines = text.split("\n")
    first = 0
    while first < len(lines) and not lines[first].strip():
        first += 1
    if first >= len(lines) or lines[first].strip() != "---":
        return None, 0, text, []
    warnings = [f"line {first + 1}: blank line(s) before the front matter ignored"] if first else []
    for end in range(first + 1, len(lines)):
        if FRONT_MATTER_FENCE.match(lines[end]):
            front = "\n".join(lines[first + 1 : end])
            body = "\n".join(lines[end + 1 :])
            return front, first + 2, body, warnings
    raise SourceError("front matter opened with '---' is never closed", first + 1)


def parse_yaml_mapping(front: str, first_line: int, path: Path = Path("front matter")):
    """Parse front matter YAML (``kb.content_files``: dates stay strings, no aliases),
    repairing unquoted colons in scalar values when that is the only problem. Returns
    (mapping, warnings)."""
    try:
        data = content_files.parse(front, path, first_line).data
    except content_files.ContentError as exc:
        repaired, quoted_lines = quote_unparseable_values(front)
        try:
            data = content_files.parse(repaired, path, first_line).data if quoted_lines else None
        except content_files.ContentError:
            data = None
        if data is None or not quoted_lines:
            problem = exc.problems[0]
            what = "front matter is " if isinstance(exc, content_files.NotYaml) else "front matter: "
            raise SourceError(what + problem.message, problem.line) from None
        warnings = [f"line {first_line + n}: value that is not valid YAML read as one string" for n in quoted_lines]
        return ensure_mapping(data, first_line), warnings
    return ensure_mapping(data, first_line), []


def ensure_mapping(data, first_line):
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SourceError("front matter must be a mapping of keys to values", first_line)
    return {str(key): value for key, value in data.items()}


def quote_unparseable_values(front: str):
    """`title: Azure: VM` and `title: [VPNGW] Basic SKU …` are invalid YAML; the one
    sensible reading of such a top-level value is the whole line as a string."""
    out, quoted = [], []
    for number, line in enumerate(front.split("\n")):
        match = re.match(r"^([A-Za-z_][\w-]*):\s+(.*\S)\s*$", line)
        if match and match.group(1) in FREE_TEXT_KEYS and needs_quotes(match.group(2)):
            value = match.group(2).replace("'", "''")
            out.append(f"{match.group(1)}: '{value}'")
            quoted.append(number)
        else:
            out.append(line)
    return "\n".join(out), quoted


def needs_quotes(value):
    if value[0] in "'\"":
        return False
    try:
        parsed = content_files.parse(f"k: {value}", Path("value")).data
    except content_files.ContentError:
        return True
    return ": " in value and not isinstance(parsed.get("k"), (list, dict))


def key_line(front: str | None, first_line: int, key: str):
    if front is None:
        return None
    for number, line in enumerate(front.split("\n")):
        if re.match(rf"^{re.escape(key)}\s*:", line):
            return first_line + number
    return first_line


# -- values ------------------------------------------------------------------------------


LOOSE_DATE = re.compile(
    r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2}|xx)(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*(Z|[+-]\d{2}:?\d{2})?$",
    re.IGNORECASE,
)


def to_datetime(value, what, warnings=None):
    """Front matter dates come as `2016/05/06 17:38:18`, `2024-1-25 9:30:00`, ISO strings…
    A day written `xx` (`2024-11-xx`) is read as the first of the month, with a warning."""
    zone = ZoneInfo(settings.KB_SOURCE_TIMEZONE)
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=zone)
    match = LOOSE_DATE.match(str(value).strip()) if isinstance(value, str) else None
    if not match:
        raise SourceError(f"{what}: cannot read {value!r} as a date")
    year, month, day, hour, minute, second, offset = match.groups()
    if day.lower() == "xx":
        if warnings is None:
            raise SourceError(f"{what}: {value!r} has no day")
        warnings.append(f"{what}: day of {value!r} unknown, read as the 1st")
        day = "1"
    try:
        moment = dt.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
    except ValueError:
        raise SourceError(f"{what}: cannot read {value!r} as a date") from None
    if offset:
        return moment.replace(
            tzinfo=dt.datetime.strptime(
                offset.replace(":", "").replace("Z", "+0000").replace("z", "+0000"), "%z"
            ).tzinfo
        )
    return moment.replace(tzinfo=zone)


def to_date(value, what):
    return to_datetime(value, what).date()


def to_days(value, what):
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    match = DURATION.match(str(value))
    if not match or int(match.group(1)) == 0:
        raise SourceError(f"{what}: {value!r} is not a duration like 180d, 8w, 6m or 1y")
    return int(match.group(1)) * DURATION_DAYS[match.group(2)]


def to_tags(value):
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(t, (str, int)) for t in value):
        raise SourceError("tags: must be a list of words")
    return sorted({str(tag).strip() for tag in value if str(tag).strip()})


def to_text(value):
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        raise SourceError(f"expected text, got {type(value).__name__}")
    return str(value).strip()


# -- plain text --------------------------------------------------------------------------


def plain_text_to_markdown(text: str, lang: str):
    """Title from the first meaningful line, paragraphs and bullets kept as Markdown."""
    lines = [line.replace("\u00a0", " ").rstrip() for line in text.split("\n")]
    warnings, title, start = [], "", 0
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.lower() in SHARE_LABELS:
            warnings.append(f"line {index + 1}: share-widget label {stripped!r} dropped")
            continue
        if lang not in languages.LATIN_SCRIPT and not JAPANESE_CHAR.search(stripped):
            warnings.append(f"line {index + 1}: line without a {lang} character before the title dropped")
            continue
        title, start = stripped, index + 1
        break
    body = "\n".join(markdown_line(line) for line in lines[start:])
    return title, body.strip("\n"), warnings


def markdown_line(line: str) -> str:
    stripped = line.strip()
    if not stripped:
        return ""
    if stripped.startswith("•"):
        return "- " + stripped.lstrip("•").strip()
    if re.match(r"^\s+\d+\.\s", line):
        return stripped
    if stripped[0] in "#>":
        return "\\" + stripped
    return line


# -- the whole file ----------------------------------------------------------------------


def parse_file(path: Path, *, slug: str, lang: str | None, strict: bool) -> SourceDocument:
    """Read one file. ``strict`` is for content/: front matter and a title are required."""
    text = read_text(path)
    front, first_line, body, warnings = split_front_matter(text)
    meta = {}
    if front is not None:
        meta, yaml_warnings = parse_yaml_mapping(front, first_line, path)
        warnings += yaml_warnings
    elif strict:
        raise SourceError("no front matter: content articles start with a '---' block", 1)

    lang = lang or pick_language(meta, body, front, first_line)
    title = to_text(meta.get("title"))
    if not title and front is None:
        title, body, more = untitled_body(path, body, lang)
        warnings += more
    if not title:
        raise SourceError("missing title", key_line(front, first_line, "title") or 1)

    doc = SourceDocument(path=path, slug=slug, lang=lang, title=title, body=body.strip("\n"))
    doc.warnings = warnings
    apply_metadata(doc, meta, front, first_line, strict)
    return doc


def pick_language(meta, body, front, first_line):
    declared = meta.get("lang")
    if declared is None:
        return detect_language(body)
    if declared not in languages.codes():
        raise SourceError(
            f"lang: {declared!r} is not one of {', '.join(languages.codes())}",
            key_line(front, first_line, "lang"),
        )
    return declared


def untitled_body(path, body, lang):
    heading = re.match(r"^\s*#\s+(.+?)\s*#*\s*$", body.lstrip("\n").split("\n", 1)[0])
    if heading:
        rest = body.lstrip("\n").split("\n", 1)
        remainder = rest[1] if len(rest) > 1 else ""
        return heading.group(1), remainder, ["no front matter: title taken from the # heading"]
    title, markdown, warnings = plain_text_to_markdown(body, lang)
    return title, markdown, ["no front matter: read as plain text", *warnings]


def apply_metadata(doc, meta, front, first_line, strict):
    def at(key):
        return key_line(front, first_line, key)

    def read(key, convert):
        if meta.get(key) in (None, ""):
            return None
        try:
            return convert(meta[key])
        except SourceError as exc:
            raise SourceError(exc.message if exc.message.startswith(key) else f"{key}: {exc.message}", at(key)) from exc

    kind = to_text(meta.get("kind")) or Kind.GUIDE
    if kind not in Kind.values:
        raise SourceError(f"kind: unknown kind {kind!r} (use {', '.join(Kind.values)})", at("kind"))
    doc.kind = kind
    doc.tags = read("tags", to_tags) or []
    lenient = None if strict else doc.warnings
    doc.published_at = read("date", lambda v: to_datetime(v, "date", lenient))
    doc.translated_from = read("translated_from", to_text) or ""
    doc.source_hash = (read("source_hash", to_text) or "").lower()
    doc.significance = read("significance", to_text) or "major"
    doc.tracking_id = read("tracking_id", to_text) or ""
    doc.impact_start = read("impact_start", lambda v: to_datetime(v, "impact_start"))
    doc.impact_end = read("impact_end", lambda v: to_datetime(v, "impact_end"))
    doc.owner = read("owner", to_text) or ""
    doc.reviewed_on = read("reviewed", lambda v: to_date(v, "reviewed"))
    doc.review_every_days = read("review_every", lambda v: to_days(v, "review_every"))
    check_consistency(doc, at)
    if strict:
        unknown = sorted(set(meta) - KNOWN_KEYS)
        doc.warnings += [f"line {at(key)}: unknown front matter key {key!r} ignored" for key in unknown]


def check_consistency(doc, at):
    if doc.translated_from and doc.translated_from not in languages.codes():
        raise SourceError(f"translated_from: {doc.translated_from!r} is not a language", at("translated_from"))
    if doc.translated_from == doc.lang:
        raise SourceError("translated_from: a text cannot be translated from its own language", at("translated_from"))
    if doc.source_hash and not HASH_PREFIX.match(doc.source_hash):
        raise SourceError("source_hash: expected 8 to 64 hex digits", at("source_hash"))
    if doc.significance not in ("major", "minor"):
        raise SourceError("significance: use major or minor", at("significance"))
    if doc.impact_start and doc.impact_end and doc.impact_end < doc.impact_start:
        raise SourceError("impact_end: earlier than impact_start", at("impact_end"))
