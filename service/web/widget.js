/* Beacon chat widget: one script, no framework, no build step.
 *
 *   <script src="https://beacon.example/widget.js" data-endpoint="https://beacon.example"
 *           data-key="..." data-target="#chat" data-lang="zh" defer></script>
 *
 * data-endpoint: Beacon's base URL (default: where this script came from); data-key: an API key
 * (sent as a Bearer token); data-target: a CSS selector to render into (default: a floating
 * launcher); data-lang: en|zh to pin the UI language (default: follow the customer).
 * Answers stream over POST /ask (fetch + ReadableStream, since EventSource cannot POST); a lost
 * connection resumes with Last-Event-ID on GET /ask/turns/{id}/stream, never a second POST.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var data = (script && script.dataset) || {};
  var endpoint = (data.endpoint || (script && new URL(script.src, location.href).origin) || "")
    .replace(/\/+$/, "");
  var STORE = "beacon:";
  var MAX_TURNS = 50;
  var MAX_RESUMES = 5;

  var TEXT = {
    en: {
      title: "Customer service", placeholder: "Ask a question…", send: "Send",
      question: "Your question", typing: "Beacon is typing…", sources: "Sources",
      handoff: "A person from our team will take over. Your ticket: ", queued: "You are number {n} in the queue…",
      error: "Sorry, something went wrong.", retry: "Retry", up: "Helpful", down: "Not helpful",
      comment: "What was wrong? (optional)", sendFeedback: "Send feedback", thanks: "Thanks for your feedback.",
      clarify: "Which of these do you mean?", resuming: "Connection lost, resuming…",
      newChat: "New conversation", open: "Chat with us", close: "Close chat", you: "You", bot: "Beacon"
    },
    zh: {
      title: "在线客服", placeholder: "请输入您的问题…", send: "发送",
      question: "您的问题", typing: "客服正在输入…", sources: "参考来源",
      handoff: "将由人工客服为您继续处理。工单号：", queued: "您前面还有 {n} 位客户，请稍候…",
      error: "抱歉，出了点问题。", retry: "重试", up: "有帮助", down: "没有帮助",
      comment: "哪里不对？（选填）", sendFeedback: "提交反馈", thanks: "感谢您的反馈。",
      clarify: "您想问的是哪一个？", resuming: "连接中断，正在恢复…",
      newChat: "新对话", open: "联系客服", close: "关闭", you: "您", bot: "客服"
    }
  };

  var state = { lang: pickLang(data.lang || navigator.language || "en"), pinned: !!data.lang,
                conversation: null, turns: [], busy: false };
  var ui = {};

  function pickLang(text) { return /^zh|[\u3400-\u9fff]/i.test(text) ? "zh" : "en"; }
  function t(key) { return TEXT[state.lang][key]; }
  function randomId(prefix) {
    var bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return prefix + Array.prototype.map.call(bytes, function (b) {
      return (b + 256).toString(16).slice(1);
    }).join("");
  }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;  // text only: model output never becomes markup
    return node;
  }
  function headers(extra) {
    var h = extra || {};
    if (data.key) h.authorization = "Bearer " + data.key;
    return h;
  }

  /* ---- persistence: the conversation id and its turns survive a reload ---- */
  function save() {
    if (!state.conversation) return;
    var turns = state.turns.slice(-MAX_TURNS).map(function (turn) {
      var copy = Object.assign({}, turn);
      delete copy.node;
      delete copy.frame;
      delete copy.painted;
      return copy;
    });
    try {
      localStorage.setItem(STORE + "conversation", state.conversation);
      localStorage.setItem(STORE + "turns:" + state.conversation, JSON.stringify(turns));
    } catch (e) { /* storage full or blocked: the chat still works, it just won't restore */ }
  }

  async function restore() {
    var id = localStorage.getItem(STORE + "conversation");
    if (!id) return;
    state.conversation = id;
    var local = [];
    try { local = JSON.parse(localStorage.getItem(STORE + "turns:" + id) || "[]"); } catch (e) { local = []; }
    var remote = await fetchHistory(id);
    state.turns = remote ? merge(remote, local) : local;
    if (state.turns.length && !state.pinned) state.lang = pickLang(state.turns[state.turns.length - 1].q || "");
    render();
    var last = state.turns[state.turns.length - 1];
    if (last && !isFinished(last)) {  // a reload mid-answer: take up the stream where it was
      if (!last.lastEventId) last.a = "";
      resume(last);
    }
  }

  async function fetchHistory(id) {
    try {
      var response = await fetch(endpoint + "/conversations/" + encodeURIComponent(id),
                                 { headers: headers({ accept: "application/json" }) });
      if (!response.ok) return null;
      var body = await response.json();
      return (body.turns || []).map(function (turn) {
        return { id: randomId("t-"), q: turn.question || "", a: turn.answer || "", done: true,
                 trace: turn.trace_id || null, citations: (turn.citations || []).map(asCitation) };
      });
    } catch (e) { return null; }
  }

  function asCitation(c) { return typeof c === "string" ? { id: c, title: c, source: "" } : c; }

  function merge(remote, local) {
    // The server's list is the conversation (another tab or device may have added to it); this
    // browser's copy of a turn is fuller (titles, ratings, the unredacted question), so it wins
    // where both have it, and turns only this browser has (unfinished, failed) are kept.
    var mine = {};
    local.forEach(function (turn) { if (turn.trace) mine[turn.trace] = turn; });
    var known = {};
    var turns = remote.map(function (turn) {
      known[turn.trace] = true;
      return mine[turn.trace] || turn;
    });
    return turns.concat(local.filter(function (turn) { return !turn.trace || !known[turn.trace]; }));
  }

  function isFinished(turn) { return !!(turn.done || turn.error); }

  /* ---- the DOM ---- */
  function build() {
    var root = el("section", "beacon");
    var header = el("header", "beacon-header");
    ui.title = el("h2", "beacon-title");
    ui.reset = el("button", "beacon-new");
    ui.reset.type = "button";
    ui.reset.addEventListener("click", newConversation);
    header.append(ui.title, ui.reset);
    ui.log = el("div", "beacon-log");
    ui.log.setAttribute("role", "log");
    ui.log.setAttribute("aria-live", "polite");
    ui.log.setAttribute("aria-relevant", "additions text");
    ui.status = el("p", "beacon-status");
    ui.status.setAttribute("role", "status");
    ui.form = el("form", "beacon-form");
    ui.label = el("label", "beacon-sr");
    ui.input = el("textarea", "beacon-input");
    ui.input.id = randomId("beacon-q-");
    ui.input.rows = 2;
    ui.input.maxLength = 2000;
    ui.label.htmlFor = ui.input.id;
    ui.send = el("button", "beacon-send");
    ui.send.type = "submit";
    ui.form.append(ui.label, ui.input, ui.send);
    ui.form.addEventListener("submit", function (event) { event.preventDefault(); submit(); });
    ui.input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); submit(); }
    });
    root.append(header, ui.log, ui.status, ui.form);
    ui.root = root;
    return root;
  }

  function mount() {
    var host = data.target && document.querySelector(data.target);
    if (host) { host.append(build()); return; }
    var launcher = el("button", "beacon-launcher");
    launcher.type = "button";
    launcher.setAttribute("aria-expanded", "false");
    var panel = build();
    panel.classList.add("beacon-floating");
    panel.hidden = true;
    launcher.addEventListener("click", function () {
      panel.hidden = !panel.hidden;
      launcher.setAttribute("aria-expanded", String(!panel.hidden));
      launcher.textContent = panel.hidden ? t("open") : t("close");
      if (!panel.hidden) ui.input.focus();
    });
    ui.launcher = launcher;
    document.body.append(panel, launcher);
  }

  function labels() {
    ui.root.lang = state.lang === "zh" ? "zh-CN" : "en";
    ui.root.setAttribute("aria-label", t("title"));
    ui.title.textContent = t("title");
    ui.reset.textContent = t("newChat");
    ui.label.textContent = t("question");
    ui.input.placeholder = t("placeholder");
    ui.send.textContent = t("send");
    if (ui.launcher) ui.launcher.textContent = ui.root.hidden ? t("open") : t("close");
  }

  function render() {
    labels();
    ui.log.replaceChildren();
    state.turns.forEach(function (turn) { ui.log.append(renderTurn(turn)); });
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  function renderTurn(turn) {
    var box = el("article", "beacon-turn");
    box.dataset.turn = turn.id;
    var asked = el("p", "beacon-msg beacon-user");
    asked.append(el("span", "beacon-sr", t("you") + ": "), document.createTextNode(turn.q));
    var answer = el("div", "beacon-msg beacon-bot");
    answer.setAttribute("aria-busy", String(!isFinished(turn)));
    answer.append(el("span", "beacon-sr", t("bot") + ": "), el("span", "beacon-answer", turn.a || ""));
    box.append(asked, answer);
    turn.node = answer;
    if (turn.citations && turn.citations.length) answer.append(renderCitations(turn.citations));
    if (turn.handoff) answer.append(el("p", "beacon-handoff", t("handoff") + turn.handoff));
    if (turn.clarify) answer.append(renderClarify(turn.clarify, !turn.a));
    if (turn.error) answer.append(renderError(turn));
    if (turn.done && turn.trace) answer.append(renderFeedback(turn));
    return box;
  }

  function renderCitations(citations) {
    var block = el("div", "beacon-citations");
    block.append(el("p", "beacon-cite-title", t("sources")));
    var list = el("ul");
    citations.forEach(function (c) {
      var item = el("li", "beacon-citation");
      item.append(el("span", "beacon-cite-name", c.title), el("span", "beacon-cite-source", c.source));
      list.append(item);
    });
    block.append(list);
    return block;
  }

  function renderClarify(clarify, withQuestion) {
    // The streamed answer already asks the question; the block then only adds the buttons.
    var block = el("div", "beacon-clarify");
    if (withQuestion) block.append(el("p", null, clarify.question || t("clarify")));
    (clarify.suggestions || []).forEach(function (s) {
      var button = el("button", "beacon-suggestion", s.title);
      button.type = "button";
      button.addEventListener("click", function () { ask(s.title); });
      block.append(button);
    });
    return block;
  }

  function renderError(turn) {
    var block = el("div", "beacon-error");
    block.setAttribute("role", "alert");
    block.append(el("span", null, turn.error + " "));
    var retry = el("button", "beacon-retry", t("retry"));
    retry.type = "button";
    retry.addEventListener("click", function () {
      state.turns = state.turns.filter(function (x) { return x !== turn; });
      ask(turn.q);
    });
    block.append(retry);
    return block;
  }

  function renderFeedback(turn) {
    var block = el("div", "beacon-feedback");
    if (turn.rating) { block.append(el("p", "beacon-thanks", t("thanks"))); return block; }
    ["up", "down"].forEach(function (rating) {
      var button = el("button", "beacon-thumb beacon-" + rating, rating === "up" ? "👍" : "👎");
      button.type = "button";
      button.setAttribute("aria-label", t(rating));
      button.addEventListener("click", function () {
        if (rating === "up") return sendFeedback(turn, "up", "");
        block.replaceChildren(commentForm(turn));
        block.querySelector("textarea").focus();
      });
      block.append(button);
    });
    return block;
  }

  function commentForm(turn) {
    var form = el("form", "beacon-comment");
    var label = el("label", "beacon-sr", t("comment"));
    var box = el("textarea");
    box.id = randomId("beacon-c-");
    box.maxLength = 1000;
    box.placeholder = t("comment");
    label.htmlFor = box.id;
    var submitButton = el("button", "beacon-send-feedback", t("sendFeedback"));
    submitButton.type = "submit";
    form.append(label, box, submitButton);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      sendFeedback(turn, "down", box.value);
    });
    return form;
  }

  async function sendFeedback(turn, rating, comment) {
    turn.rating = rating;
    save();
    render();
    try {
      await fetch(endpoint + "/feedback", {
        method: "POST",
        headers: headers({ "content-type": "application/json" }),
        body: JSON.stringify({ trace_id: turn.trace, rating: rating, comment: comment || null,
                               conversation_id: state.conversation })
      });
    } catch (e) { /* feedback is best effort; the answer is what matters */ }
  }

  /* ---- asking and streaming ---- */
  function submit() {
    var question = ui.input.value.trim();
    if (!question || state.busy) return;
    ui.input.value = "";
    ask(question);
  }

  function ask(question) {
    if (state.busy) return;
    if (!state.pinned) state.lang = pickLang(question);
    if (!state.conversation) state.conversation = randomId("c-");
    var turn = { id: randomId("t-"), q: question, a: "", citations: [], lastEventId: null };
    state.turns.push(turn);
    save();
    render();
    run(turn, false);
  }

  function resume(turn) { run(turn, true); }

  async function run(turn, resuming) {
    state.busy = true;
    ui.send.disabled = true;
    status(resuming ? t("resuming") : t("typing"));
    performance.mark("beacon:asked:" + turn.id);
    var attempts = 0;
    for (;;) {
      try {
        var response = resuming ? await reopen(turn) : await open(turn);
        if (!response.ok) { fail(turn, await errorMessage(response)); break; }
        await consume(response, turn);
      } catch (e) { /* the connection broke: fall through and resume */ }
      if (isFinished(turn)) break;
      if (++attempts > MAX_RESUMES) { fail(turn, t("error")); break; }
      resuming = true;
      status(t("resuming"));
      await new Promise(function (done) { setTimeout(done, 250 * attempts); });
    }
    state.busy = false;
    ui.send.disabled = false;
    status("");
    save();
    render();
  }

  function open(turn) {
    return fetch(endpoint + "/ask", {
      method: "POST",
      headers: headers({ "content-type": "application/json", accept: "text/event-stream",
                         "idempotency-key": turn.id }),
      body: JSON.stringify({ question: turn.q, conversation_id: state.conversation })
    });
  }

  function reopen(turn) {
    var h = { accept: "text/event-stream" };
    if (turn.lastEventId) h["last-event-id"] = turn.lastEventId;
    return fetch(endpoint + "/ask/turns/" + encodeURIComponent(turn.id) + "/stream", { headers: headers(h) });
  }

  async function errorMessage(response) {
    try {
      var body = await response.json();
      return (body.error && body.error.message) || t("error");
    } catch (e) { return t("error"); }
  }

  async function consume(response, turn) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    for (;;) {
      var chunk = await reader.read();
      if (chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true });
      var end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        handleFrame(buffer.slice(0, end), turn);
        buffer = buffer.slice(end + 2);
      }
    }
  }

  function handleFrame(frame, turn) {
    var name = "message", id = null, lines = [];
    frame.split("\n").forEach(function (line) {
      if (!line || line.charAt(0) === ":") return;
      var colon = line.indexOf(":");
      var field = colon < 0 ? line : line.slice(0, colon);
      var value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") name = value;
      else if (field === "id") id = value;
      else if (field === "data") lines.push(value);
    });
    if (!lines.length) return;
    if (id) turn.lastEventId = id;
    handleEvent(name, JSON.parse(lines.join("\n")), turn);
  }

  function handleEvent(name, payload, turn) {
    turn.trace = payload.trace_id || turn.trace;
    if (name === "token") return appendToken(turn, payload.text);
    if (name === "meta" && payload.lang && !state.pinned) state.lang = payload.lang;
    else if (name === "evidence") turn.citations = payload.citations || [];
    else if (name === "handoff") turn.handoff = payload.ticket_id;
    else if (name === "queued") return status(t("queued").replace("{n}", payload.position));
    else if (name === "clarify") turn.clarify = payload;
    else if (name === "done") turn.done = true;
    else if (name === "error") turn.error = payload.message || t("error");
    save();
    var fresh = renderTurn(turn);
    var old = ui.log.querySelector('[data-turn="' + turn.id + '"]');
    if (old) old.replaceWith(fresh); else ui.log.append(fresh);
    labels();
  }

  function appendToken(turn, text) {
    if (!turn.a) status("");
    turn.a += text;
    if (turn.a.length % 200 < text.length) save();  // a reload mid-answer keeps most of it
    if (!turn.frame) turn.frame = requestAnimationFrame(function () { paint(turn); });
  }

  function paint(turn) {
    // Once per frame, however many tokens came in it: no layout work per token.
    turn.frame = 0;
    turn.node.querySelector(".beacon-answer").textContent = turn.a;
    ui.log.scrollTop = ui.log.scrollHeight;
    if (!turn.painted) {
      turn.painted = true;
      performance.mark("beacon:painted:" + turn.id);
    }
  }

  function fail(turn, message) { turn.error = message; }

  function status(text) {
    ui.status.textContent = text;
    ui.status.classList.toggle("beacon-typing", text === t("typing"));
  }

  function newConversation() {
    if (state.busy) return;
    if (state.conversation) localStorage.removeItem(STORE + "turns:" + state.conversation);
    localStorage.removeItem(STORE + "conversation");
    state.conversation = null;
    state.turns = [];
    render();
    ui.input.focus();
  }

  function start() {
    var link = document.querySelector('link[href$="/widget.css"]');
    if (!link) {
      link = el("link");
      link.rel = "stylesheet";
      link.href = endpoint + "/widget.css";
      document.head.append(link);
    }
    mount();
    render();
    restore();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
