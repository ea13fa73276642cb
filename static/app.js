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
  });
});
