/* The platform's charts: every element with data-chart="ID" is drawn from the JSON in <script id="ID">
   ({labels: [...], series: [{name, data}]}), as bars, or as lines with data-type="line";
   data-y-max fixes the value axis' top (percentages: 100). One file for every page (no inline script,
   so the Content-Security-Policy allows scripts from this site only). */
(function () {
  if (!window.echarts) { return; }
  var COLORS = ["#b91c1c", "#1d4ed8", "#047857"];
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var spec = JSON.parse(document.getElementById(el.getAttribute("data-chart")).textContent);
    var line = el.getAttribute("data-type") === "line";
    var several = spec.series.length > 1;
    var yAxis = {type: "value"};
    if (el.hasAttribute("data-y-max")) { yAxis.max = Number(el.getAttribute("data-y-max")); }
    var chart = echarts.init(el, null, {renderer: "svg"});
    chart.setOption({
      color: COLORS,
      tooltip: {trigger: "axis"},
      legend: {show: several, top: 0},
      grid: {left: 8, right: 16, bottom: 8, top: several ? 36 : 24, containLabel: true},
      xAxis: {type: "category", data: spec.labels,
              axisLabel: {interval: 0, rotate: spec.labels.length > 5 ? 30 : 0}},
      yAxis: yAxis,
      series: spec.series.map(function (s) {
        return {type: line ? "line" : "bar", name: s.name, data: s.data.map(Number)};
      })
    });
    window.addEventListener("resize", function () { chart.resize(); });
  });
})();
