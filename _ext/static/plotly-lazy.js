/* ICL Companion: draw the page's plotly figures without delaying the page.
 * The build (_ext/plotly_offline.py) turns each figure's inline script into
 * <script type="text/x-plotly-figure">. This file (loaded async) fetches plotly.min.js from the same
 * _static folder only when a figure comes near the viewport, and draws each figure as it approaches, so a
 * page opens without plotly's 1.5 MB and DOMContentLoaded never waits for it. */
(function () {
  var here = document.currentScript && document.currentScript.src;
  if (!here) { return; }
  var src = here.replace(/plotly-lazy\.js(\?.*)?$/, "plotly.min.js");
  var queue = [];
  var state = "idle";   // idle -> loading -> ready

  function run(fig) {
    if (!fig.parentNode) { return; }
    var script = document.createElement("script");
    script.text = fig.text;
    fig.parentNode.replaceChild(script, fig);
  }

  function flush() {
    var fig = queue.shift();
    if (!fig) { return; }
    run(fig);
    setTimeout(flush, 0);          // keep the page responsive between figures
  }

  function want(fig) {
    queue.push(fig);
    if (state === "ready") { flush(); return; }
    if (state === "loading") { return; }
    state = "loading";
    var amd = window.define;        // plotly is a UMD bundle: with require.js present it would not set window.Plotly
    window.define = undefined;
    var script = document.createElement("script");
    script.src = src;
    script.onload = function () { window.define = amd; state = "ready"; flush(); };
    script.onerror = function () { window.define = amd; state = "idle"; };
    document.head.appendChild(script);
  }

  function start() {
    var figures = document.querySelectorAll('script[type="text/x-plotly-figure"]');
    if (!figures.length) { return; }
    if (!("IntersectionObserver" in window)) {
      Array.prototype.forEach.call(figures, want);
      return;
    }
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (!entry.isIntersecting) { return; }
        observer.unobserve(entry.target);
        var fig = entry.target.__plotlyFigure;
        if (fig) { want(fig); }
      });
    }, { rootMargin: "600px 0px" });
    Array.prototype.forEach.call(figures, function (fig) {
      var target = fig.parentNode;   // the output <div> that also holds the figure's own <div>
      target.__plotlyFigure = fig;
      observer.observe(target);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
