// The inbox's keyboard (j/k move, x select, o or Enter open, a accept, / search), its selection,
// accept with a few seconds to undo, and forms that show the fields of what is chosen.
// Every page works without it: forms post as they are.
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
    } else if (event.key === "x") {
      selected()?.querySelector("input[name=lead]")?.click();
    } else if (event.key === "o" || event.key === "Enter") {
      selected()?.querySelector("a.open")?.click();
    } else if (event.key === "a") {
      selected()?.querySelector("button.accept")?.click();
    }
  });

  // Selection: a count, and a box that picks every lead on the page.
  const picks = () => Array.from(document.querySelectorAll("input[name=lead][form=bulk]"));
  const count = document.getElementById("selected-count");
  const counted = () => {
    const n = picks().filter((box) => box.checked).length;
    if (count) count.textContent = n ? `${n} ✓` : "";
  };
  document.getElementById("pick-all")?.addEventListener("change", (event) => {
    picks().forEach((box) => { box.checked = event.target.checked; });
    counted();
  });
  picks().forEach((box) => box.addEventListener("change", counted));

  // A form's fields for the chosen kind only (data-for lists the kinds a field serves).
  const only = (chooser, scope) => {
    const show = () => scope.querySelectorAll("[data-for]").forEach((field) => {
      const wanted = field.dataset.for.split(" ").includes(chooser.value);
      field.hidden = !wanted;
      field.querySelectorAll("input, select").forEach((input) => { input.disabled = !wanted; });
    });
    chooser.addEventListener("change", show);
    show();
  };
  const bulk = document.getElementById("bulk-action");
  if (bulk) only(bulk, bulk.form);
  const kind = document.getElementById("override-kind");
  if (kind) only(kind, kind.form);

  // Accept waits a few seconds with an undo; leaving the page sends it at once.
  const toast = document.getElementById("undo");
  let pending = null;
  const send = () => {
    if (!pending) return;
    const { form, timer } = pending;
    clearTimeout(timer);
    pending = null;
    form.submit();
  };
  document.querySelectorAll("form.accept-form").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!toast || form.dataset.sending) return;
      event.preventDefault();
      send();  // an earlier accept still waiting goes now
      form.dataset.sending = "1";
      toast.querySelector(".what").textContent = form.dataset.undo;
      toast.hidden = false;
      toast.querySelector("button").focus();
      pending = { form, timer: setTimeout(send, Number(toast.dataset.seconds) * 1000) };
    });
  });
  toast?.querySelector("button").addEventListener("click", () => {
    if (!pending) return;
    clearTimeout(pending.timer);
    delete pending.form.dataset.sending;
    pending.form.querySelector("button")?.focus();
    pending = null;
    toast.querySelector(".what").textContent = toast.dataset.undone;
    setTimeout(() => { if (!pending) toast.hidden = true; }, 2000);
  });
  window.addEventListener("pagehide", () => {
    if (!pending) return;
    navigator.sendBeacon(pending.form.action, new FormData(pending.form));
    pending = null;
  });
})();

// The language switch takes effect on choosing; its button stays for pages read without script.
document.getElementById("language")?.addEventListener("change", (event) => {
  event.target.form.submit();
});
