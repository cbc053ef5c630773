/* fraudpipe console: live updates by polling JSON every second; the pages work without it. */
(function () {
  "use strict";
  const POLL_MS = 1000;

  function poll(url, handle) {
    let stopped = false;
    async function tick() {
      if (stopped) return;
      try {
        const response = await fetch(url(), { headers: { Accept: "application/json" } });
        if (response.ok || response.status === 404) {
          stopped = handle(await response.json(), response.status) === false;
        }
      } catch (err) { /* server restarting: try again */ }
      if (!stopped) setTimeout(tick, POLL_MS);
    }
    setTimeout(tick, POLL_MS);
  }

  // --- executions list: refresh while any execution runs ---
  function liveList(box) {
    if (Number(box.dataset.running || 0) === 0) return;
    poll(() => box.dataset.live, (data) => {
      box.innerHTML = data.html;
      box.dataset.running = data.running;
      return data.running > 0;
    });
  }

  // --- one execution: graph colours, facts and new events ---
  function setStatus(svg, states, visits) {
    svg.querySelectorAll("g.state").forEach((g) => {
      const name = g.dataset.state;
      const status = states[name] || "notstarted";
      g.classList.forEach((c) => { if (c.startsWith("st-")) g.classList.remove(c); });
      g.classList.add("st-" + status);
      const badge = g.querySelector("text.visits");
      if (badge) badge.textContent = (visits[name] || 0) > 1 ? "\u00d7" + visits[name] : "";
    });
  }

  function liveExecution(box) {
    const svg = box.querySelector("svg.graph");
    if (box.dataset.status !== "RUNNING") return;
    poll(() => box.dataset.live + "?after=" + box.dataset.lastEvent, (data) => {
      if (!data.exists) return true;
      setStatus(svg, data.states, data.visits);
      const badge = document.getElementById("execution-status");
      badge.textContent = data.status.replace("_", " ");
      badge.className = "badge big badge-" + data.status.toLowerCase();
      document.getElementById("fact-duration").textContent = data.duration;
      document.getElementById("fact-events").textContent = data.events;
      if (data.rows_html) {
        document.querySelector("#events tbody").insertAdjacentHTML("beforeend", data.rows_html);
      }
      box.dataset.lastEvent = data.last_event_id;
      box.dataset.status = data.status;
      const open = document.querySelector(".state-detail");
      if (open) {
        // refresh the open details only when that state moved on (keeps what the reader expanded)
        const name = open.dataset.state;
        const mark = (data.states[name] || "notstarted") + "/" + (data.visits[name] || 0);
        if (open.dataset.mark !== mark) showState(box, name, false);
      }
      if (data.terminal) {
        // the final page has the output, the error and (if it failed) the Redrive button
        setTimeout(() => window.location.reload(), 300);
        return false;
      }
      return true;
    });
  }

  async function showState(box, name, push) {
    const pane = document.getElementById("detail");
    const response = await fetch(box.dataset.stateUrl + encodeURIComponent(name));
    pane.innerHTML = await response.text();
    box.querySelectorAll("g.state").forEach((g) => g.classList.toggle("selected", g.dataset.state === name));
    if (push) history.replaceState(null, "", "?state=" + encodeURIComponent(name) + "#detail");
  }

  function clickableStates(box) {
    document.addEventListener("click", (event) => {
      const link = event.target.closest("a.state-link, a.step-link");
      if (!link || event.metaKey || event.ctrlKey) return;
      event.preventDefault();
      showState(box, link.dataset.state, true);
    });
  }

  // --- start form: a problem's "line n" link puts the cursor on that line ---
  function gotoLines() {
    const area = document.getElementById("input");
    if (!area) return;
    document.querySelectorAll("li.input-error[data-line] a.goto-line").forEach((link) => {
      link.addEventListener("click", (event) => {
        event.preventDefault();
        const line = Number(link.parentElement.dataset.line);
        const lines = area.value.split("\n");
        const start = lines.slice(0, line - 1).join("\n").length + (line > 1 ? 1 : 0);
        area.focus();
        area.setSelectionRange(start, start + (lines[line - 1] || "").length);
        const lineHeight = area.scrollHeight / Math.max(lines.length, 1);
        area.scrollTop = Math.max(0, (line - 5) * lineHeight);
      });
    });
  }

  function reloadWhenPending() {
    if (document.getElementById("pending")) setTimeout(() => window.location.reload(), POLL_MS);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const list = document.getElementById("executions");
    if (list) liveList(list);
    const execution = document.getElementById("execution");
    if (execution) { clickableStates(execution); liveExecution(execution); }
    gotoLines();
    reloadWhenPending();
  });
})();
