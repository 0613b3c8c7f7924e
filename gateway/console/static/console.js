// The console's behaviour: clocks that count down, an inbox that fills itself, the
// swimlane's zoom and pan, and the forms that follow the playbooks. Our own code, served
// by the gateway: nothing is loaded from anywhere else.
"use strict";

const zh = document.documentElement.lang.startsWith("zh");

function span(seconds) {
  const s = Math.abs(Math.round(seconds));
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60), sec = s % 60;
  const two = (n) => String(n).padStart(2, "0");
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${two(m)}m`;
  if (m) return `${m}m ${two(sec)}s`;
  return `${sec}s`;
}

// Time left on every clock; amber under a quarter of its span, red once breached.
function tick() {
  const now = Date.now();
  for (const clock of document.querySelectorAll(".clock[data-deadline]")) {
    const deadline = Date.parse(clock.dataset.deadline);
    const since = clock.dataset.since ? Date.parse(clock.dataset.since) : null;
    const left = (deadline - now) / 1000;
    // A missed clock shows the supervision's grace before it escalates.
    const missed = clock.hasAttribute("data-missed");
    let text = left >= 0 ? (zh ? `剩余 ${span(left)}` : `${span(left)} left`)
                         : (zh ? `超时 ${span(left)}` : `overdue ${span(left)}`);
    if (missed && left >= 0) {
      text = zh ? `已超时 · 宽限剩余 ${span(left)}` : `overdue · ${span(left)} of grace left`;
    }
    clock.querySelector(".left").textContent = text;
    clock.classList.toggle("breached", left < 0 || missed);
    clock.classList.toggle("amber", left >= 0 && since !== null &&
                           left * 1000 < (deadline - since) / 4);
  }
}

// 现场取证: each file chosen goes to the officer's agency as it is chosen, with its progress;
// what the agency answers (the file's reference, its digest) joins the completion's
// evidence, which the agency signs. Errors show in the reader's words.
function uploadChosen(input) {
  const card = input.closest("li.item") || input.closest("section") || document;
  const list = card.querySelector(".uploads");
  for (const file of input.files) upload(file);
  input.value = "";
  function upload(file) {
    const row = document.createElement("li");
    const bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    row.append(`${file.name} `, bar);
    list.append(row);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `${input.dataset.upload}?name=${encodeURIComponent(file.name)}`);
    xhr.setRequestHeader("X-CSRF-Token", input.dataset.csrf);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) bar.value = (100 * event.loaded) / event.total;
    };
    xhr.onload = () => {
      if (xhr.status !== 200 && xhr.status !== 201) {
        row.classList.add("error");
        let said = "";
        try { said = JSON.parse(xhr.responseText).error.message; } catch (e) { said = ""; }
        row.title = said;
        row.append(` ${xhr.status === 400 || xhr.status === 409 ? input.dataset.refused
                                                                 : input.dataset.failed}`);
        return;
      }
      const stored = JSON.parse(xhr.responseText);
      bar.value = 100;
      row.classList.add("done");
      row.dataset.ref = stored.ref;
      const refs = card.querySelector("textarea[name=evidence_refs]");
      if (refs && !refs.value.split("\n").includes(stored.ref)) {
        refs.value = refs.value ? `${refs.value}\n${stored.ref}` : stored.ref;
      }
    };
    xhr.onerror = () => {
      row.classList.add("error");
      row.append(` ${input.dataset.failed}`);
    };
    xhr.send(file);
  }
}

// A list that refreshes itself (the inbox), unless the reader is filling in a form: at
// once when the live line (server-sent events) says work arrived, and by polling as the
// fallback (every few seconds while the line is down, every half minute while it is up).
function refreshing(container) {
  const every = Number(container.dataset.refreshSeconds || 5) * 1000;
  let live = false, last = 0, pending = false;
  async function refresh() {
    // Nor while files were attached and the task is not yet completed: the refresh
    // would drop the references the completion is to name.
    const busy = container.querySelector("details[open]") ||
                 container.querySelector(".uploads li") ||
                 container.contains(document.activeElement);
    if (busy || document.hidden) {
      pending = true;  // what arrived is shown once the reader is done
      return;
    }
    pending = false;
    last = Date.now();
    const answer = await fetch(container.dataset.refresh, {credentials: "same-origin"});
    if (answer.redirected && new URL(answer.url).pathname === "/login") {
      window.location.reload();
      return;
    }
    if (answer.ok) {
      const html = await answer.text();
      // Each rendering gives its forms fresh request ids: compare what is shown.
      const shown = html.replace(/name="request_id" value="[^"]*"/g, "");
      if (shown !== container.dataset.shown) {
        container.dataset.shown = shown;
        container.innerHTML = html;
        tick();
      }
    }
  }
  setInterval(() => {
    if (pending || !live || Date.now() - last >= 30000) refresh();
  }, every);
  if (container.dataset.events && window.EventSource) {
    const line = new EventSource(container.dataset.events);
    line.onopen = () => { live = true; container.dataset.live = "yes"; };
    line.onerror = () => { live = false; container.dataset.live = "no"; };
    line.addEventListener("work", () => refresh());
  }
}

// The swimlane: zoom by widening the track, pan by scrolling (or dragging) it.
function swimlane(root) {
  const viewport = root.querySelector(".track-viewport");
  const track = root.querySelector(".track");
  const axis = root.querySelector(".axis");
  const start = Date.parse(root.dataset.start), end = Date.parse(root.dataset.end);
  let zoom = 1;
  const steps = [5, 15, 30, 60, 300, 900, 3600, 6 * 3600, 86400, 7 * 86400]
    .map((s) => s * 1000);
  function drawAxis() {
    const width = track.clientWidth, perMs = width / (end - start);
    const step = steps.find((s) => s * perMs >= 90) || steps[steps.length - 1];
    axis.replaceChildren();
    for (let at = Math.ceil(start / step) * step; at <= end; at += step) {
      const label = document.createElement("span");
      label.style.left = `${((at - start) / (end - start)) * 100}%`;
      // In the platform's zone, as every time on the page is.
      const zone = {timeZone: root.dataset.zone};
      label.textContent = step >= 86400000
        ? new Date(at).toLocaleDateString(document.documentElement.lang, zone)
        : new Date(at).toLocaleTimeString(document.documentElement.lang,
                                          {...zone, hour: "2-digit", minute: "2-digit",
                                           second: step < 60000 ? "2-digit" : undefined,
                                           hourCycle: "h23"});
      axis.appendChild(label);
    }
  }
  // Zooming keeps the latest activity where it is on screen when it is in view (what
  // the reader is looking at), else the middle of the view.
  const focus = Number(root.dataset.focus || 1);
  function setZoom(next) {
    const width = track.clientWidth, left = viewport.scrollLeft;
    const focusX = focus * width - left;
    const anchorX = focusX >= 0 && focusX <= viewport.clientWidth
      ? focusX : viewport.clientWidth / 2;
    const anchor = (left + anchorX) / width;
    // From the whole span down to about five seconds across the screen.
    const most = Math.max(1, (end - start) / 5000);
    zoom = Math.min(Math.max(next, 1), most);
    track.style.width = `${zoom * 100}%`;
    viewport.scrollLeft = anchor * track.clientWidth - anchorX;
    drawAxis();
  }
  root.querySelectorAll("[data-zoom]").forEach((button) => button.addEventListener(
    "click", () => setZoom(button.dataset.zoom === "in" ? zoom * 2
      : button.dataset.zoom === "out" ? zoom / 2 : 1)));
  viewport.addEventListener("wheel", (event) => {
    if (!event.ctrlKey) return;
    event.preventDefault();
    setZoom(event.deltaY < 0 ? zoom * 1.25 : zoom / 1.25);
  }, {passive: false});
  let dragFrom = null;
  viewport.addEventListener("pointerdown", (event) => {
    dragFrom = {x: event.clientX, left: viewport.scrollLeft};
  });
  window.addEventListener("pointerup", () => { dragFrom = null; });
  viewport.addEventListener("pointermove", (event) => {
    if (dragFrom) viewport.scrollLeft = dragFrom.left - (event.clientX - dragFrom.x);
  });
  window.addEventListener("resize", drawAxis);
  // First what happened so far; "fit" shows the clocks still running, however far.
  setZoom(focus > 0 ? 1 / focus : 1);
  viewport.scrollLeft = 0;
}

// Opening a case: stages and jurisdictions of the chosen type, and the lead the
// responsibility matrix will name.
function openCaseForm(form) {
  const matrix = JSON.parse(form.dataset.matrix), leads = JSON.parse(form.dataset.leads);
  const type = form.elements.type, stage = form.elements.stage;
  const jurisdiction = form.elements.jurisdiction;
  const preview = form.querySelector("[data-testid=lead-preview]");
  function only(select) {
    for (const option of select.options) {
      const fits = !option.dataset.types ||
                   option.dataset.types.split(" ").includes(type.value);
      option.hidden = !fits;
      option.disabled = !fits;
    }
    if (select.selectedOptions[0] && select.selectedOptions[0].disabled) {
      const first = [...select.options].find((o) => !o.disabled);
      select.value = first ? first.value : "";
    }
  }
  // The gateway worked out the lead of every choice by the matrix's own rule.
  function lead() {
    const chosen = (matrix[type.value] || {})[`${stage.value}|${jurisdiction.value}`];
    preview.textContent = chosen ? (leads[chosen] || chosen) : preview.dataset.unknown;
  }
  function update() { only(stage); only(jurisdiction); lead(); }
  [type, stage, jurisdiction].forEach((s) => s.addEventListener("change", update));
  update();
}

// Dispatching: only agencies with the capability the kind of task needs.
function dispatchForm(form) {
  const capable = JSON.parse(form.dataset.capable);
  const kind = form.elements.kind, assignee = form.elements.assignee;
  function update() {
    const allowed = capable[kind.value] || [];
    for (const option of assignee.options) {
      option.hidden = option.disabled = !allowed.includes(option.value);
    }
    const first = [...assignee.options].find((o) => !o.disabled);
    if (!assignee.selectedOptions[0] || assignee.selectedOptions[0].disabled) {
      assignee.value = first ? first.value : "";
    }
  }
  kind.addEventListener("change", update);
  update();
}

// The intake's category picker: the list follows the search box as it is typed (the
// gateway searches; without this script the search button does the same).
function catalogSearch(form) {
  const results = document.getElementById("catalog-results");
  const box = form.elements.q;
  let timer = null, asked = 0;
  box.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const query = box.value, mine = ++asked;
      const answer = await fetch(`${results.dataset.fragment}?q=${encodeURIComponent(query)}`,
                                 {credentials: "same-origin"});
      if (answer.redirected && new URL(answer.url).pathname === "/login") {
        window.location.reload();
        return;
      }
      if (!answer.ok || mine !== asked) return;  // a later search is on its way
      results.innerHTML = await answer.text();
      history.replaceState(null, "", query ? `?q=${encodeURIComponent(query)}` : "?");
    }, 200);
  });
}

// The open form's "possible duplicates": open cases of the type on the subject typed
// or beginning alike, asked of the gateway as it is typed.
function duplicateHint(form) {
  const shown = document.getElementById("duplicates");
  let timer = null, asked = 0;
  const look = () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const query = new URLSearchParams({type: form.elements.type.value,
                                         subject: form.elements.subject_key.value});
      const mine = ++asked;
      const answer = await fetch(`${shown.dataset.fragment}?${query}`,
                                 {credentials: "same-origin"});
      if (!answer.ok || answer.redirected || mine !== asked) return;
      shown.innerHTML = await answer.text();
    }, 250);
  };
  form.elements.subject_key.addEventListener("input", look);
  form.elements.type.addEventListener("change", look);
}

document.addEventListener("DOMContentLoaded", () => {
  tick();
  setInterval(tick, 1000);
  document.querySelectorAll("[data-refresh]").forEach(refreshing);
  document.querySelectorAll(".swimlane").forEach(swimlane);
  // The inbox's list is replaced as it refreshes: its file inputs are met as they change.
  document.addEventListener("change", (event) => {
    if (event.target.classList && event.target.classList.contains("evidence-input")) {
      uploadChosen(event.target);
    }
  });
  const open = document.getElementById("open-case");
  if (open) openCaseForm(open);
  if (open && document.getElementById("duplicates")) duplicateHint(open);
  const dispatch = document.getElementById("dispatch");
  if (dispatch) dispatchForm(dispatch);
  const search = document.getElementById("catalog-search");
  if (search) catalogSearch(search);
  document.querySelectorAll("[data-back]").forEach((link) => link.addEventListener(
    "click", (event) => { event.preventDefault(); history.back(); }));
});
