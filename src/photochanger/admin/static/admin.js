// PhotoChanger admin UI: small progressive enhancements. No dependencies, no build step.
"use strict";

(function () {
  const csrf = document.body.dataset.csrf || "";

  // Times in the viewer's own time zone and language; the server writes UTC into <time datetime>.
  const lang = document.documentElement.lang || undefined;
  const timeFormat = window.Intl ? new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" }) : null;
  function localTime(el) {
    const when = new Date(el.getAttribute("datetime") || "");
    if (timeFormat && !isNaN(when)) el.textContent = timeFormat.format(when);
  }
  document.querySelectorAll("time[datetime]").forEach(localTime);

  // Plural labels next to live counters: the server's forms per CLDR category (data-forms).
  const plurals = window.Intl && Intl.PluralRules ? new Intl.PluralRules(lang) : null;
  function pluralLabel(el, n) {
    if (!el || !plurals) return;
    const forms = JSON.parse(el.dataset.forms || "{}");
    const text = forms[plurals.select(n)] || forms.other || forms.many;
    if (text) el.textContent = text;
  }

  // Copy buttons (ingest URLs).
  document.querySelectorAll("[data-copy]").forEach((button) => {
    button.addEventListener("click", async () => {
      const input = document.getElementById(button.dataset.copy);
      if (!input) return;
      const label = button.textContent;
      try {
        await navigator.clipboard.writeText(input.value);
      } catch (err) {
        input.select();
        document.execCommand("copy");
      }
      button.textContent = button.dataset.copied || label;
      setTimeout(() => { button.textContent = label; }, 1500);
    });
  });

  // Pickers that reload the page on change; the provider picker drops the operation (first one applies).
  document.querySelectorAll("[data-hide-with-js]").forEach((el) => { el.hidden = true; });
  const slotForm = document.getElementById("slot-form");
  let slotDirty = false;
  document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
    select.addEventListener("change", () => {
      const form = select.form;
      if (select.name === "provider") {
        const op = form.querySelector("select[name=operation]");
        if (op) op.disabled = true;
      }
      // The slot editor's picker carries what was typed in the form below, so a switch keeps it.
      if (form.id === "picker" && slotForm) {
        const keep = (name, value) => {
          const input = document.createElement("input");
          input.type = "hidden";
          input.name = name;
          input.value = value;
          form.appendChild(input);
        };
        keep("kept", "1");
        (form.dataset.keep || "").split(" ").filter(Boolean).forEach((name) => {
          const field = slotForm.elements.namedItem(name);
          if (!field) return;
          if (field.type === "checkbox") { if (field.checked) keep(name, "on"); } else keep(name, field.value);
        });
        slotDirty = false;
      }
      form.submit();
    });
  });

  // Leaving the slot editor with unsaved edits asks first.
  if (slotForm && !slotForm.querySelector("fieldset[disabled]")) {
    const mark = () => { slotDirty = true; };
    slotForm.addEventListener("input", mark);
    slotForm.addEventListener("change", mark);
    slotForm.addEventListener("submit", () => { slotDirty = false; });
    window.addEventListener("beforeunload", (event) => {
      if (!slotDirty) return;
      event.preventDefault();
      event.returnValue = "";
    });
  }

  // Confirmation before destructive forms.
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });

  // No double submits of slow forms (test runs, uploads).
  document.querySelectorAll("button[data-busy]").forEach((button) => {
    button.form.addEventListener("submit", () => {
      setTimeout(() => { button.disabled = true; button.classList.add("busy"); }, 0);
    });
  });

  // Expired access cookie but a live session: rotate it through the auth API, then reload.
  const refresh = document.getElementById("refresh");
  if (refresh) {
    const next = refresh.dataset.next || "/admin";
    const login = "/admin/login?next=" + encodeURIComponent(next);
    const last = Number(sessionStorage.getItem("pc-refresh") || 0);
    if (Date.now() - last < 10000) {
      window.location.replace(login);
    } else {
      sessionStorage.setItem("pc-refresh", String(Date.now()));
      fetch("/api/auth/refresh", {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf },
      }).then((response) => {
        window.location.replace(response.ok ? next : login);
      }, () => window.location.replace(login));
    }
  }

  function listen(url, onState) {
    if (!window.EventSource) return;
    const live = document.getElementById("live");
    const source = new EventSource(url);
    source.addEventListener("state", (event) => {
      if (live) live.hidden = false;
      onState(JSON.parse(event.data));
    });
    window.addEventListener("pagehide", () => source.close());
  }

  // Dashboard: last result and last-hour outcomes per slot.
  const dashboard = document.getElementById("dashboard");
  if (dashboard) {
    listen(dashboard.dataset.events, (cards) => {
      cards.forEach((card) => {
        const el = dashboard.querySelector(`[data-slot="${card.slot_id}"]`);
        if (!el) return;
        Object.entries(card.outcomes).forEach(([kind, n]) => {
          const b = el.querySelector(`[data-outcome="${kind}"]`);
          if (b) b.textContent = String(n);
          pluralLabel(el.querySelector(`[data-outcome-label="${kind}"]`), n);
        });
        const thumb = el.querySelector("[data-role=thumb]");
        const img = thumb.querySelector("img");
        if (card.last && card.last.available) {
          if (!img || img.dataset.job !== card.last.job_id) {
            const fresh = document.createElement("img");
            fresh.src = card.last.preview_url;
            fresh.alt = card.slot_id;
            fresh.dataset.job = card.last.job_id;
            thumb.replaceChildren(fresh);
          }
        } else if (card.last && img) {
          const span = document.createElement("span");
          span.className = "placeholder";
          span.textContent = dashboard.dataset.expired || "";
          thumb.replaceChildren(span);
        }
      });
    });
  }

  // Dashboard setup checklist: re-fetched until every step is done, so it ticks itself.
  const setup = document.getElementById("setup");
  if (setup && setup.dataset.refresh) {
    const url = setup.dataset.refresh;
    const timer = setInterval(async () => {
      try {
        const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
        if (!response.ok) return;
        const html = (await response.text()).trim();
        const current = document.getElementById("setup");
        if (!current) { clearInterval(timer); return; }
        if (!html) { current.remove(); clearInterval(timer); return; }
        const fresh = new DOMParser().parseFromString(html, "text/html").getElementById("setup");
        if (fresh) current.replaceWith(document.importNode(fresh, true));
      } catch (err) {
        // A missed poll is retried on the next tick.
      }
    }, 3000);
    window.addEventListener("pagehide", () => clearInterval(timer));
  }

  // Slot gallery: new results appear at the top; expired ones are marked.
  const gallery = document.getElementById("gallery");
  if (gallery) {
    const template = document.getElementById("tile-template");
    listen(gallery.dataset.events, (state) => {
      const known = new Map();
      gallery.querySelectorAll("[data-job]").forEach((tile) => known.set(tile.dataset.job, tile));
      let anchor = null;
      state.results.forEach((result) => {
        let tile = known.get(result.job_id);
        if (!tile && result.available) {
          tile = template.content.firstElementChild.cloneNode(true);
          tile.dataset.job = result.job_id;
          tile.querySelector("img").src = result.preview_url;
          tile.querySelector("[data-role=full]").href = result.result_url;
          tile.querySelector("[data-role=guest]").href = "/r/" + result.job_id;
          tile.querySelector("[data-role=qr]").href = "/public/results/" + result.job_id + "/qr.svg";
          const created = tile.querySelector("[data-role=created]");
          created.textContent = result.created;
          if (result.created_at) { created.setAttribute("datetime", result.created_at); localTime(created); }
          tile.querySelector("[data-role=download]").href = result.result_url;
          tile.querySelector("[data-role=test]").hidden = result.source !== "ui_test";
          const via = tile.querySelector("[data-role=via]");
          if (via && result.via) {
            via.textContent = via.dataset.label.replace("{provider}", result.via);
            via.hidden = false;
          }
          tile.classList.add("new");
          gallery.insertBefore(tile, anchor ? anchor.nextSibling : gallery.firstChild);
        } else if (tile && !result.available && !tile.classList.contains("expired")) {
          tile.classList.add("expired");
          tile.querySelector("[data-role=expired]").hidden = false;
          tile.querySelectorAll("[data-role=download], [data-role=links]").forEach((el) => el.remove());
          const full = tile.querySelector("[data-role=full]");
          if (full) full.replaceWith(...full.childNodes);
        }
        if (tile) anchor = tile;
      });
      const empty = document.getElementById("gallery-empty");
      if (empty) empty.hidden = gallery.children.length > 0;
    });
  }
})();
