"""Tree texts rendered as Markdown (like articles), once per distinct text per process."""

from functools import lru_cache

from kb.rendering import render as render_markdown


@lru_cache(maxsize=2048)
def markdown(text):
    return render_markdown(text).html
