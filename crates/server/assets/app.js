// Keyboard use of the queue: j/k move, Enter opens, / searches. No framework; htmx does the rest.
(function () {
  "use strict";
  let cursor = -1;
  function rows() { return Array.from(document.querySelectorAll("#queue-rows tr.row")); }
  function mark(next) {
    const all = rows();
    if (all.length === 0) return;
    cursor = Math.max(0, Math.min(all.length - 1, next));
    all.forEach((r, i) => r.classList.toggle("cursor", i === cursor));
    all[cursor].scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("keydown", (e) => {
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName);
    if (e.key === "/" && !typing) { e.preventDefault(); const s = document.getElementById("search"); if (s) s.focus(); return; }
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "j") mark(cursor + 1);
    else if (e.key === "k") mark(cursor - 1);
    else if (e.key === "Enter" && cursor >= 0) { const r = rows()[cursor]; if (r) window.location = r.dataset.href; }
  });
  document.body.addEventListener("htmx:afterSwap", () => { cursor = -1; });
})();
// "Insert link" beside a ticket: put the article's Markdown link into the reply box (htmx
// records the link on the ticket).
document.addEventListener("click", (e) => {
  const button = e.target.closest(".insert-article");
  if (!button) return;
  const box = document.querySelector("#reply textarea");
  if (!box) return;
  const link = button.dataset.link;
  box.value = box.value ? box.value.replace(/\s*$/, "") + "\n\n" + link : link;
  box.focus();
});
