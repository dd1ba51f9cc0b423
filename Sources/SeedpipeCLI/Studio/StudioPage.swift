/// The studio's page: plain HTML, CSS and a script, no build step and nothing fetched from
/// elsewhere. It reads `/api/state`, follows `/events` (server-sent events), and sends
/// changes; the launch's token travels in the studio's `HttpOnly` cookie, never in the page.
/// Updates change the page in place: an element whose content is the same is kept (a take
/// that is playing goes on playing), and elements are only moved when their order changes.
///
/// Tools and tests rely on these attributes: each shot is `data-stage="NAME"`, each take in
/// it `data-take="N"` (`data-picked="true"` on the picked one); buttons are
/// `data-action="pick" | "reroll" | "finish" | "run" | "confirm"`; in a pipeline with profiles
/// a shot's finished version is a `figure data-finished="PROFILE"`; each stage's live state is the
/// text of `data-stage-state="NAME"`: queued, running, cached, done or failed; each run of
/// the run list (newest first) is a row `data-run="RUN_ID"`.
enum StudioPage {
    static let html = #"""
    <!doctype html>
    <html lang="en"><head><meta charset="utf-8"><title>seedpipe studio</title>
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <style>
    body{font:15px/1.45 system-ui,sans-serif;margin:1.5rem auto;max-width:1200px;padding:0 1rem;color:#1d1d22;background:#fafafa}
    header{display:flex;gap:1rem;align-items:center;flex-wrap:wrap}h1{margin:0;font-size:1.5rem}
    h2{margin-top:1.6rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
    button{font:inherit;padding:.25rem .7rem;border-radius:5px;border:1px solid #889;background:#fff;cursor:pointer}
    button[data-action=run],button[data-action=confirm]{background:#3d55d6;color:#fff;border-color:#3d55d6}
    #confirm{border:2px solid #3d55d6;background:#eef;padding:.6rem 1rem;border-radius:8px;margin:1rem 0}
    #message{color:#444;min-height:1.2em}.error{color:#b00020}
    table{border-collapse:collapse;width:100%}td,th{padding:.25rem .5rem;border-bottom:1px solid #e5e5e5;text-align:left;vertical-align:top}
    [data-stage-state]{font-weight:600}.state-running{color:#b35900}.state-done{color:#2a7a2a}.state-cached{color:#678}.state-failed{color:#b00020}
    .bar{height:6px;background:#eef;width:120px}.bar span{display:block;height:6px;background:#5b6ee1}
    section.shot{margin:1rem 0;padding:.5rem 0;border-bottom:1px dashed #ccd}.takes{display:flex;gap:1rem;flex-wrap:wrap}
    .summary{display:flex;gap:1rem;align-items:flex-start}.summary img{width:160px;border-radius:5px}
    tr.take td:first-child{padding-left:1.6rem}tr.group td{font-weight:600;background:#f1f1f6}
    figure{margin:0;padding:.4rem;border-radius:8px;border:2px solid transparent;background:#fff}
    figure[data-picked=true]{border-color:#3d55d6}figure video{width:320px;border-radius:5px;background:#000;display:block}
    figcaption{font-size:13px;color:#555}code{font-size:12px;color:#555}
    </style></head><body>
    <header><h1 id="title">seedpipe studio</h1><span id="plan"></span><button data-action="run">Run…</button></header>
    <div id="confirm" hidden><p id="confirm-text"></p><button data-action="confirm">Confirm</button> <button data-action="cancel">Cancel</button></div>
    <p id="message"></p>
    <h2>Film</h2><div id="film"></div>
    <h2>Shots</h2><div id="shots"></div>
    <h2>Stages</h2>
    <table id="graph"><thead><tr><th>stage</th><th>kind</th><th>after</th><th>plan</th><th>state</th><th>time</th><th>progress</th></tr></thead><tbody></tbody></table>
    <h2>Runs</h2>
    <table id="runs"><thead><tr><th>run</th><th>started</th><th>status</th><th>ran</th><th>cached</th><th>failed</th><th>generated</th><th>paid</th><th>time</th></tr></thead><tbody></tbody></table>
    <script>
    "use strict";
    const live = {};      // stage -> {state, started, seconds, fraction, status}
    let state = null, pending = null;
    const $ = (s, root = document) => root.querySelector(s);
    const el = (tag, attrs = {}, ...children) => {
      const e = document.createElement(tag);
      for (const [k, v] of Object.entries(attrs)) { if (v !== undefined && v !== null) e.setAttribute(k, v); }
      for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
      return e;
    };
    const money = v => (v === null || v === undefined) ? "" : "$" + Number(v).toFixed(2);
    function say(text, error = false) { const m = $("#message"); m.textContent = text; m.className = error ? "error" : ""; }

    async function load() {
      const reply = await fetch("/api/state");
      const body = await reply.json();
      if (!reply.ok) { say(body.error || "cannot read the pipeline", true); return; }
      state = body; render();
    }
    function stageState(stage) {
      if (live[stage.name]) return live[stage.name].state;
      return stage.status === "cached" ? "cached" : "queued";
    }
    // Puts `children` into `parent` in this order, moving only what is out of place (moving a
    // playing video out of the document would pause it).
    function place(parent, children) {
      const keep = new Set(children);
      for (const child of [...parent.children]) if (!keep.has(child)) child.remove();
      children.forEach((child, index) => {
        if (parent.children[index] !== child) parent.insertBefore(child, parent.children[index] || null);
      });
    }
    function setText(node, text) { if (node.textContent !== text) node.textContent = text; }
    function render() {
      setText($("#title"), "seedpipe studio · " + state.pipeline);
      setText($("#plan"), state.plan);
      renderStages();
      const shots = $("#shots");
      place(shots, state.shots.map(renderShot));
      if (!state.shots.length) shots.replaceChildren("This pipeline has no generation stages.");
      renderFilm();
      renderRuns();
    }
    // The runs of this pipeline, newest first, as `seedpipe log` lists them.
    function renderRuns() {
      place($("#runs tbody"), state.runs.map(r => el("tr", {"data-run": r.id, class: "state-" + (r.status === "succeeded" ? "done" : "failed")},
        el("td", {}, el("code", {}, r.id)), el("td", {}, r.started), el("td", {}, r.status + " (" + r.exitCode + ")" + (r.profile ? " " + r.profile : "") + (r.partial ? " " + r.partial : "")),
        el("td", {}, String(r.ran)), el("td", {}, String(r.cached)), el("td", {}, String(r.failed)), el("td", {}, String(r.generated)),
        el("td", {}, r.paid === null || r.paid === undefined ? "—" : "$" + r.paid.toFixed(2)), el("td", {}, r.seconds.toFixed(1) + " s"))));
    }
    // The stages in the pipeline's order; take nodes grouped under their shot.
    function renderStages() {
      const body = $("#graph tbody"), rows = [];
      const takesOf = {};
      for (const s of state.stages) if (s.take) (takesOf[s.take.shot] = takesOf[s.take.shot] || []).push(s);
      const names = new Set(state.stages.map(s => s.name)), grouped = new Set();
      const row = (s, cls) => {
        const current = stageState(s), info = live[s.name] || {};
        const bar = el("div", {class: "bar"}, el("span", {style: "width:" + Math.round(100 * (info.fraction || 0)) + "%"}));
        return el("tr", {class: cls || ""},
          el("td", {}, s.take ? "take " + s.take.number + " of " + s.take.count + (s.take.picked ? " (picked)" : "") : s.name,
             s.take ? el("div", {}, el("code", {}, s.name)) : ""),
          el("td", {}, el("code", {}, s.kind)), el("td", {}, s.dependencies.join(", ")),
          el("td", {title: s.reason || ""}, s.status),
          el("td", {"data-stage-state": s.name, class: "state-" + current}, current),
          el("td", {"data-stage-time": s.name}, elapsed(info)),
          el("td", {}, info.fraction !== undefined ? bar : (info.status || "")));
      };
      const group = shot => {
        if (grouped.has(shot)) return;
        grouped.add(shot);
        if (!names.has(shot)) rows.push(el("tr", {class: "group", "data-shot-group": shot}, el("td", {colspan: "7"}, shot)));
        for (const t of takesOf[shot] || []) rows.push(row(t, "take"));
      };
      for (const s of state.stages) {
        if (s.take) { group(s.take.shot); continue; }
        rows.push(row(s));
        if (takesOf[s.name]) group(s.name);
      }
      body.replaceChildren(...rows);
    }
    function elapsed(info) {
      if (info.state === "running" && info.started) return ((Date.now() - info.started) / 1000).toFixed(1) + " s";
      return info.seconds !== undefined ? info.seconds.toFixed(1) + " s" : "";
    }
    function seamsOf(shot) {
      const m = shot.shot.match(/-(\d+)$/); if (!m) return "";
      const k = Number(m[1]), parts = [];
      for (const seam of state.seams) {
        if (seam.to === k) parts.push("from the shot before " + (seam.psnr === null ? "?" : seam.psnr + " dB"));
        if (seam.from === k) parts.push("to the shot after " + (seam.psnr === null ? "?" : seam.psnr + " dB"));
      }
      return parts.length ? "seams: " + parts.join(", ") : "";
    }
    // One take: kept as it is (its video playing on) while its video is the same.
    function renderTake(section, t) {
      let figure = $('figure[data-take="' + t.take + '"]', section);
      if (!figure || figure.dataset.digest !== (t.digest || "")) {
        const media = t.digest
          ? el("video", {controls: "", preload: "metadata", src: "/media/" + t.digest + ".mp4", poster: t.poster ? "/poster/" + t.digest + ".jpg" : null})
          : el("div", {}, "(" + t.state + ")");
        figure = el("figure", {"data-take": t.take, "data-digest": t.digest || ""}, media, el("figcaption"), el("span", {class: "pick"}));
      }
      figure.dataset.picked = t.picked ? "true" : "false";
      setText($("figcaption", figure), "take " + t.take + " · seed " + (t.seed ?? "?") + " · " + t.state
        + (t.seconds ? " · " + t.seconds + " s" : "") + (t.cost !== undefined && t.cost !== null ? " · " + money(t.cost) : "")
        + (t.picked ? " · picked" : ""));
      const pick = $(".pick", figure);
      if (t.picked && pick.firstChild) pick.replaceChildren();
      if (!t.picked && !pick.firstChild) pick.append(el("button", {"data-action": "pick"}, "Pick take " + t.take));
      const finish = $(".finish", figure) || figure.appendChild(el("span", {class: "finish"}));
      const label = state.finishProfile ? "Finish in " + state.finishProfile : "";
      if (finish.textContent !== label) finish.replaceChildren(...(label ? [el("button", {"data-action": "finish"}, label)] : []));
      return figure;
    }
    // The shot as the finishing profile makes it (one take, the picked seed), beside its takes.
    function renderFinished(section, shot) {
      const box = $(".finished", section), f = shot.finished;
      if (!f) { box.replaceChildren(); return; }
      let figure = $("figure", box);
      if (!figure || figure.dataset.digest !== (f.digest || "") || figure.dataset.finished !== shot.finished_profile) {
        const media = f.digest
          ? el("video", {controls: "", preload: "metadata", src: "/media/" + f.digest + ".mp4", poster: f.poster ? "/poster/" + f.digest + ".jpg" : null})
          : el("div", {}, "(" + f.state + ")");
        figure = el("figure", {"data-finished": shot.finished_profile, "data-digest": f.digest || ""}, media, el("figcaption"));
        box.replaceChildren(figure);
      }
      setText($("figcaption", figure), shot.finished_profile + " · seed " + (f.seed ?? "?") + " · " + f.state
        + (f.seconds ? " · " + f.seconds + " s" : "") + (f.cost !== undefined && f.cost !== null ? " · " + money(f.cost) : ""));
    }
    // A shot: the picked take's poster, prompt, seams and cost first, then every take.
    function renderShot(shot) {
      let section = document.querySelector('#shots section[data-stage="' + CSS.escape(shot.shot) + '"]');
      if (!section) {
        section = el("section", {class: "shot", "data-stage": shot.shot}, el("h3", {}, shot.shot),
          el("div", {class: "summary"}, el("img", {alt: "", hidden: ""}), el("div", {}, el("p", {class: "prompt"}), el("p", {class: "seams"}), el("p", {class: "cost"}))),
          el("div", {class: "takes"}), el("div", {class: "finished"}),
          el("p", {}, el("button", {"data-action": "reroll"}, "Re-roll…"), " ",
             el("label", {}, el("input", {type: "checkbox", class: "keep-after"}), " keep the shots after")));
      }
      const picked = shot.takes.find(t => t.picked) || shot.takes[0] || {};
      const poster = $(".summary img", section), src = picked.poster ? "/poster/" + picked.digest + ".jpg" : "";
      if (poster.getAttribute("src") !== src) { if (src) poster.setAttribute("src", src); else poster.removeAttribute("src"); }
      poster.hidden = !src;
      setText($(".prompt", section), picked.prompt || "");
      setText($(".seams", section), seamsOf(shot));
      const spent = shot.takes.reduce((sum, t) => sum + (t.cost || 0), 0);
      setText($(".cost", section), "take " + (picked.take ?? "?") + " of " + shot.takes.length + (spent ? " · " + money(spent) + " for the shot" : ""));
      place($(".takes", section), shot.takes.map(t => renderTake(section, t)));
      renderFinished(section, shot);
      return section;
    }
    function renderFilm() {
      const film = $("#film"), children = [];
      const tracks = state.outputs.filter(o => o.file.endsWith(".vtt"));
      for (const o of state.outputs) {
        let node = film.querySelector('[data-output-url="' + CSS.escape(o.url) + '"]');
        if (!node && o.file.endsWith(".mp4")) {
          const v = el("video", {controls: "", preload: "metadata", src: o.url, "data-output": o.name, style: "max-width:100%;max-height:480px"});
          for (const t of tracks) v.append(el("track", {kind: "captions", src: t.url, label: t.name, default: ""}));
          node = el("figure", {"data-output-url": o.url}, v, el("figcaption", {}, o.name + " · " + o.file));
        } else if (!node && (o.file.endsWith(".jpg") || o.file.endsWith(".png"))) {
          node = el("figure", {"data-output-url": o.url}, el("img", {src: o.url, alt: o.name, style: "max-width:320px"}), el("figcaption", {}, o.name));
        }
        if (node) children.push(node);
      }
      for (const report of state.audio) {
        const fmt = (k, u) => report[k] === undefined || report[k] === null ? "–" : Number(report[k]).toFixed(1) + " " + u;
        children.push(el("p", {"data-audio": ""}, "audio: loudness " + fmt("integratedLoudness", "LUFS") + ", peak " + fmt("peak", "dBFS")
          + ", RMS " + fmt("rms", "dBFS") + ((report.problems || []).length ? " · " + report.problems.join("; ") : " · ok")));
      }
      children.push(el("p", {}, el("a", {href: "/out/run.json"}, "run.json"), " · ", el("a", {href: "/out/report.html"}, "report.html")));
      if (!state.outputs.length) children.unshift(el("p", {}, "No finished run yet."));
      place(film, children);
    }

    async function post(path, body) {
      const reply = await fetch(path, {method: "POST", headers: {"content-type": "application/json"}, body: JSON.stringify(body)});
      const answer = await reply.json();
      if (!reply.ok) throw new Error(answer.error || ("HTTP " + reply.status));
      return answer;
    }
    async function ask(path, body) {
      try {
        const preview = await post(path, Object.assign({preview: true}, body));
        pending = {path, body};
        $("#confirm-text").textContent = preview.text;
        $("#confirm").hidden = false;
      } catch (error) { say(error.message, true); }
    }
    document.addEventListener("click", async event => {
      const button = event.target.closest("[data-action]"); if (!button) return;
      const action = button.dataset.action;
      const shot = button.closest("[data-stage]"), take = button.closest("[data-take]");
      if (action === "run") return ask("/api/run", {});
      if (action === "pick") return ask("/api/pick", {stage: shot.dataset.stage, take: Number(take.dataset.take)});
      if (action === "finish") return ask("/api/finish", {stage: shot.dataset.stage, take: Number(take.dataset.take)});
      if (action === "reroll") return ask("/api/reroll", {stage: shot.dataset.stage, count: 1, keep_after: $(".keep-after", shot).checked});
      if (action === "cancel") { pending = null; $("#confirm").hidden = true; return; }
      if (action === "confirm" && pending) {
        const job = pending; pending = null; $("#confirm").hidden = true;
        try { say((await post(job.path, job.body)).text); await load(); } catch (error) { say(error.message, true); }
      }
    });

    function apply(ev) {
      const s = ev.stage;
      switch (ev.event) {
        case "run_started":
          for (const name of ev.stages || []) {
            live[name] = {state: "queued"};
            const cell = document.querySelector('[data-stage-state="' + CSS.escape(name) + '"]');
            if (cell) { cell.textContent = "queued"; cell.className = "state-queued"; }
          }
          return;
        case "started": live[s] = {state: "running", started: Date.now()}; break;
        case "progress": Object.assign(live[s] || (live[s] = {state: "running", started: Date.now()}), {fraction: ev.fraction ?? undefined, status: ev.status}); break;
        case "cache_hit": live[s] = {state: "cached"}; break;
        case "finished": live[s] = {state: "done", seconds: ev.seconds}; break;
        case "failed": live[s] = {state: "failed"}; say(s + ": " + ev.message, true); break;
        case "run_finished": if (!ev.ok && ev.message) say(ev.message, true); load(); return;
        default: return;
      }
      if (!state) return;
      const cell = document.querySelector('[data-stage-state="' + CSS.escape(s || "") + '"]');
      if (cell && live[s]) { cell.textContent = live[s].state; cell.className = "state-" + live[s].state; }
    }
    setInterval(() => {
      for (const [name, info] of Object.entries(live)) {
        if (info.state !== "running") continue;
        const cell = document.querySelector('[data-stage-time="' + CSS.escape(name) + '"]'); if (cell) cell.textContent = elapsed(info);
      }
    }, 500);
    load().then(() => {
      const events = new EventSource("/events");
      events.onmessage = message => { try { apply(JSON.parse(message.data)); } catch (error) {} };
    });
    </script></body></html>
    """#
}
