// Forms of class "api-form" call the developer API as any client does: fetch() with the
// session cookie and the page's CSRF token. The form's data-api is the address, its named
// fields the JSON body (data-int fields as integers); on success the page goes to data-then,
// or the form's <output> shows the answer.
(() => {
  const token = () => document.querySelector('meta[name="csrf-token"]')?.content ?? "";

  const body = (form) => {
    const out = {};
    for (const field of form.elements) {
      if (!field.name) continue;
      out[field.name] = field.hasAttribute("data-int") ? Number.parseInt(field.value, 10) : field.value;
    }
    return out;
  };

  const summary = (answer) =>
    ["train", "val", "test"].every((key) => key in answer)
      ? `${answer.processed} images: train ${answer.train} · val ${answer.val} · test ${answer.test}`
      : "Done";

  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.classList.contains("api-form")) return;
    event.preventDefault();
    const result = form.querySelector("output");
    const buttons = [...form.querySelectorAll("button")];
    buttons.forEach((button) => { button.disabled = true; });
    try {
      // getAttribute, not form.dataset: a form's named fields shadow its properties, and the
      // split form has a field named "dataset".
      const response = await fetch(form.getAttribute("data-api"), {
        method: form.getAttribute("data-method") || "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": token() },
        body: JSON.stringify(body(form)),
      });
      const answer = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(answer?.error?.message || `failed (HTTP ${response.status})`);
      const then = form.getAttribute("data-then");
      if (then) {
        window.location.assign(then);
        return;
      }
      if (result) {
        result.classList.remove("error");
        result.textContent = summary(answer);
      }
    } catch (error) {
      if (result) {
        result.classList.add("error");
        result.textContent = error.message;
      }
    } finally {
      buttons.forEach((button) => { button.disabled = false; });
    }
  });
})();
