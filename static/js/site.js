// The only script of our own: the "copy for ticket" button, the search log beacons, focus and
// announcements after a wizard step, folding on a phone, and one history entry per burst of
// live-search typing.
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

// The wizard swaps each step in place (htmx). Move focus to the new question's heading,
// bring it into view and announce it: otherwise focus falls to <body>, a phone stays
// scrolled where the tap was, and a screen reader hears nothing.
const NARROW = window.matchMedia("(max-width: 40rem)");

function foldHelpOnNarrowScreens(root) {
  // "How to check" is open for a wide screen; on a phone it would push the answers below the fold.
  if (!NARROW.matches) return;
  root.querySelectorAll(".wizard-step details.help[open]").forEach((details) => { details.open = false; });
}
foldHelpOnNarrowScreens(document);

// The search page's filters likewise: folded on a phone unless one is set, so the first
// result is on the first screen (they are open without JavaScript, and on a wide screen).
if (NARROW.matches) {
  document.querySelectorAll("details.filters[open]:not([data-filtered])").forEach((details) => { details.open = false; });
}

function announce(text) {
  const region = document.getElementById("announcer");
  if (!region) return;
  region.textContent = "";
  setTimeout(() => { region.textContent = text; }, 50);  // a change, even when the text repeats
}

function showStep(step) {
  const heading = step.querySelector("h1");
  if (!heading) return;
  heading.tabIndex = -1;
  heading.focus({ preventScroll: true });
  heading.scrollIntoView({ block: "start" });
  const progress = step.querySelector(".progress");
  announce((progress ? progress.textContent.trim() + ": " : "") + heading.textContent.trim());
}

document.addEventListener("htmx:afterSwap", (event) => {
  if (event.detail.target && event.detail.target.id === "wizard-step") foldHelpOnNarrowScreens(event.detail.target);
});
document.addEventListener("htmx:afterSettle", (event) => {
  if (event.detail.target && event.detail.target.id === "wizard-step") showStep(event.detail.target);
});
document.addEventListener("htmx:historyRestore", () => {
  const step = document.getElementById("wizard-step");
  if (step) showStep(step);
  // htmx restores the page as it was, but not what was typed into the box: put back the
  // query of the address, so the box and the results shown agree.
  const box = document.getElementById("search-q");  // the search page's (the home page's keeps its address)
  if (box) box.value = new URLSearchParams(window.location.search).get("q") || "";
});

// Live search: the first results of a burst of typing add one history entry and the later
// ones replace it, so Back leaves the search instead of stepping through every pause. A
// submit, a filter or a page link ends the burst and adds its own entry.
let typingEntry = false;
document.addEventListener("htmx:beforeHistoryUpdate", (event) => {
  const trigger = event.detail.requestConfig && event.detail.requestConfig.triggeringEvent;
  const typed = trigger && trigger.type === "input";
  const history = event.detail.history;
  const here = window.location.pathname + window.location.search;
  // The change event of leaving the box asks again for what is shown: no second entry.
  if ((typed && typingEntry) || history.path === here) history.type = "replace";
  typingEntry = typed;
});
document.addEventListener("focusout", (event) => {
  if (event.target.matches && event.target.matches("input[type=search]")) typingEntry = false;
});
window.addEventListener("popstate", () => { typingEntry = false; });
