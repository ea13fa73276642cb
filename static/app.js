// Progressive enhancement only: every page works without this file.
// A server-rendered <dialog open data-modal> becomes a real modal (focus kept inside, Esc
// closes, the page behind is inert).
document.querySelectorAll("dialog[data-modal][open]").forEach(function (dialog) {
  var backdrop = dialog.closest(".dialog-backdrop");
  if (backdrop) { backdrop.classList.add("upgraded"); }
  // Removing the attribute (not close()) fires no "close" event for the listener below.
  dialog.removeAttribute("open");
  dialog.showModal();
  dialog.addEventListener("close", function () {
    if (backdrop) { backdrop.remove(); }
    // The address named the dialog (?added=...); once it is closed, the address names the
    // page alone, so a reload does not open it again.
    var page = dialog.querySelector("form[method=get]");
    if (page && window.history.replaceState) {
      window.history.replaceState(null, "", page.getAttribute("action"));
    }
  });
});
