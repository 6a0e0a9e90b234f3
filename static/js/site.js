// The only script of our own: the "copy for ticket" button. Everything else is htmx.
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
