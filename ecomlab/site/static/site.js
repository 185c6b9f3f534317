/* EcomLab course site: menu toggle, contents folding on phones, offline search.
   The search index (window.ECOMLAB_SEARCH) is a plain script so it also works from file://. */
(function () {
  "use strict";
  var root = document.body.getAttribute("data-root") || "";
  var CJK = /[\u2e80-\u2fdf\u3000-\u303f\u3100-\u312f\u31c0-\u31ef\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]+/g;

  function withLang(el, text) {
    var last = 0, m;
    CJK.lastIndex = 0;
    while ((m = CJK.exec(text)) !== null) {
      if (m.index > last) el.appendChild(document.createTextNode(text.slice(last, m.index)));
      var span = document.createElement("span");
      span.lang = "zh-Hans";
      span.textContent = m[0];
      el.appendChild(span);
      last = m.index + m[0].length;
    }
    if (last < text.length) el.appendChild(document.createTextNode(text.slice(last)));
    return el;
  }

  var toggle = document.querySelector(".menu-toggle");
  if (toggle) {
    toggle.addEventListener("click", function () {
      var open = document.body.classList.toggle("nav-open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }
  if (window.matchMedia("(max-width: 900px)").matches) {
    document.querySelectorAll(".page-toc details").forEach(function (d) { d.open = false; });
  }

  var input = document.getElementById("site-search-input");
  var list = document.getElementById("site-search-results");
  if (!input || !list) return;
  var KIND = {lesson: "Lesson", heading: "Section", term: "Term 术语"};

  function search(q) {
    var words = q.toLowerCase().split(/\s+/).filter(Boolean);
    if (!words.length) return [];
    var hits = [];
    (window.ECOMLAB_SEARCH || []).forEach(function (e) {
      // a heading matches on its own words, not on its page's title (shown as context)
      var title = e.t.toLowerCase(), hay = title + " " + (e.k === "heading" ? "" : e.s.toLowerCase());
      if (!words.every(function (w) { return hay.indexOf(w) >= 0; })) return;
      var score = (title.indexOf(words[0]) === 0 ? 0 : 1) + (words.every(function (w) {
        return title.indexOf(w) >= 0; }) ? 0 : 2) + (e.k === "lesson" ? 0 : e.k === "term" ? 0.5 : 1);
      hits.push([score, e]);
    });
    hits.sort(function (a, b) { return a[0] - b[0]; });
    return hits.slice(0, 12).map(function (h) { return h[1]; });
  }

  function render() {
    var hits = search(input.value);
    list.textContent = "";
    if (!input.value.trim()) { list.hidden = true; return; }
    if (!hits.length) {
      var none = document.createElement("li");
      none.className = "search-none";
      withLang(none, "No match 无结果");
      list.appendChild(none);
    }
    hits.forEach(function (e) {
      var li = document.createElement("li"), a = document.createElement("a");
      a.href = root + e.u;
      var kind = document.createElement("small");
      withLang(kind, KIND[e.k] || e.k);
      a.appendChild(kind);
      withLang(a, " " + e.t);
      var sub = document.createElement("span");
      sub.className = "search-context";
      withLang(sub, e.s);
      a.appendChild(sub);
      li.appendChild(a);
      list.appendChild(li);
    });
    list.hidden = false;
  }
  input.addEventListener("input", render);
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter") {
      var first = list.querySelector("a");
      if (first) window.location.href = first.href;
    } else if (ev.key === "Escape") {
      input.value = ""; render();
    }
  });
})();
