// The only script of our own: the "copy for ticket" button and the search log beacons.
// Everything else is htmx; every page works without this file.

document.addEventListener("click", async (event) => {
  const button = event.target.closest("button.copy");
  if (!button) return;
  const source = document.querySelector(button.dataset.copyTarget);
  if (!source) return;
  try {
    await navigator.clipboard.writeText(source.value);
  } catch {
    source.select();
    document.execCommand("copy");
  }
  const label = button.textContent;
  button.textContent = button.dataset.copiedLabel || "Copied";
  setTimeout(() => { button.textContent = label; }, 2000);
});

// What people search and do not find (kb/search_log.py): which query, in which language,
// and whether a result was opened. Nothing about the visitor is sent.
function logSearch(list, event) {
  if (!list || !navigator.sendBeacon) return;
  const data = new FormData();
  data.append("event", event);
  data.append("q", list.dataset.searchQuery);
  data.append("lang", list.dataset.searchLang);
  navigator.sendBeacon("/api/search/log", data);
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("ol.results a");
  if (link) logSearch(link.closest("ol.results"), "opened");
});

// Live results: count the search once the visitor has paused on it, not every keystroke.
let pause;
document.addEventListener("htmx:afterSettle", (event) => {
  const results = event.detail && event.detail.target;
  if (!results || results.id !== "search-results") return;
  clearTimeout(pause);
  pause = setTimeout(() => {
    const list = results.querySelector("[data-search-query]");
    if (list) logSearch(list, "searched");
  }, 2000);
});
