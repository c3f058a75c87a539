// Live filtering and highlighting for the console's graph view. The page
// works without it: the filter form also applies on the server.
(function () {
  "use strict";
  var svg = document.getElementById("graph");
  var form = document.getElementById("graph-filter");
  if (!svg || !form) return;
  var nodes = Array.prototype.slice.call(svg.querySelectorAll(".node"));
  var edges = Array.prototype.slice.call(svg.querySelectorAll(".edge"));
  var status = document.getElementById("graph-status");

  function checked(kind) {
    var on = {};
    form.querySelectorAll('input[data-filter="' + kind + '"]').forEach(function (box) {
      on[box.value] = box.checked;
    });
    return on;
  }

  // apply hides the CIs of unchecked classes and the relations of unchecked
  // types or with a hidden end; the centre always stays.
  function apply() {
    var classes = checked("class"), types = checked("type"), shown = {}, n = 0, m = 0;
    nodes.forEach(function (el) {
      var on = el.classList.contains("center") || classes[el.dataset.class] !== false;
      el.classList.toggle("off", !on);
      el.setAttribute("aria-hidden", on ? "false" : "true");
      if (on) { shown[el.dataset.id] = true; n++; } else { el.setAttribute("tabindex", "-1"); }
      if (on) el.removeAttribute("tabindex");
    });
    edges.forEach(function (el) {
      var on = types[el.dataset.type] !== false && shown[el.dataset.from] && shown[el.dataset.to];
      el.classList.toggle("off", !on);
      if (on) m++;
    });
    if (status) status.textContent = n + " CIs and " + m + " relations shown (filtered in the page; Apply to walk the graph with the filter).";
  }

  function highlight(id, on) {
    edges.forEach(function (el) {
      if (el.dataset.from === id || el.dataset.to === id) el.classList.toggle("hl", on);
    });
  }

  form.addEventListener("change", function (ev) {
    if (ev.target.dataset && ev.target.dataset.filter) apply();
  });
  nodes.forEach(function (el) {
    ["mouseenter", "focus"].forEach(function (t) { el.addEventListener(t, function () { highlight(el.dataset.id, true); }); });
    ["mouseleave", "blur"].forEach(function (t) { el.addEventListener(t, function () { highlight(el.dataset.id, false); }); });
  });
})();
