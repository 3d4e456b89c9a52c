// Keyboard for the inbox (j/k move, o or Enter open, a accept, / search). Pages work without it.
(() => {
  const rows = () => Array.from(document.querySelectorAll("table.leads tbody tr[data-lead]"));
  const selected = () => document.querySelector("table.leads tr.selected");
  const select = (row) => {
    if (!row) return;
    selected()?.classList.remove("selected");
    row.classList.add("selected");
    row.scrollIntoView({ block: "nearest" });
  };
  document.addEventListener("keydown", (event) => {
    const typing = event.target.closest("input, select, textarea, [contenteditable]");
    if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Enter" && event.target.closest("a, button, summary")) return;
    const all = rows();
    const here = all.indexOf(selected());
    if (event.key === "/") {
      const search = document.getElementById("search");
      if (search) { event.preventDefault(); search.focus(); }
    } else if (!all.length) {
      return;
    } else if (event.key === "j") {
      select(all[Math.min(all.length - 1, here + 1)]);
    } else if (event.key === "k") {
      select(all[Math.max(0, here - 1)]);
    } else if (event.key === "o" || event.key === "Enter") {
      selected()?.querySelector("a.open")?.click();
    } else if (event.key === "a") {
      selected()?.querySelector("button.accept")?.click();
    }
  });
})();

// The language switch takes effect on choosing; its button stays for pages read without script.
document.getElementById("language")?.addEventListener("change", (event) => {
  event.target.form.submit();
});
