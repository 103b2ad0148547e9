/* The platform's charts: every element with data-chart="ID" is drawn from the JSON in <script id="ID">
   ({labels: [...], series: [{name, data}], unit: "万元"}), as bars, or as lines with data-type="line";
   data-y-max fixes the value axis' top (percentages: 100). The unit names the value axis; the legend
   (when there are several series) sits below the plot. On a narrow screen (a phone) the category labels
   turn and long ones are shortened (the tooltip shows them whole); every chart is redrawn to its box
   when the window changes size. One file for every page (no inline script, so the
   Content-Security-Policy allows scripts from this site only). */
(function () {
  if (!window.echarts) { return; }
  var COLORS = ["#b91c1c", "#1d4ed8", "#047857"];

  function options(el, spec) {
    var line = el.getAttribute("data-type") === "line";
    var several = spec.series.length > 1;
    var narrow = el.clientWidth < 560;
    var many = spec.labels.length > (narrow ? 3 : 6);
    var longest = spec.labels.reduce(function (n, l) { return Math.max(n, String(l).length); }, 0);
    var yAxis = {type: "value", name: spec.unit || "", nameGap: 10,
                 nameTextStyle: {align: "left", color: "#6b7280"}, axisLabel: {hideOverlap: true}};
    if (el.hasAttribute("data-y-max")) { yAxis.max = Number(el.getAttribute("data-y-max")); }
    return {
      color: COLORS,
      tooltip: {trigger: "axis", confine: true},
      legend: {show: several, type: "scroll", bottom: 0, left: "center", itemWidth: 14, itemHeight: 10},
      grid: {left: 8, right: narrow ? 8 : 16, top: 32, bottom: several ? 32 : 8, containLabel: true},
      xAxis: {type: "category", data: spec.labels,
              axisLabel: {interval: many && narrow ? "auto" : 0, hideOverlap: true,
                          rotate: many || (narrow && longest > 4 && spec.labels.length > 2) ? (narrow ? 45 : 30) : 0,
                          width: narrow ? 84 : 140, overflow: "truncate"}},
      yAxis: yAxis,
      series: spec.series.map(function (s) {
        return {type: line ? "line" : "bar", name: s.name, data: s.data.map(Number)};
      })
    };
  }

  var drawn = [];
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var spec = JSON.parse(document.getElementById(el.getAttribute("data-chart")).textContent);
    var chart = echarts.init(el, null, {renderer: "svg"});
    chart.setOption(options(el, spec));
    drawn.push({el: el, spec: spec, chart: chart});
  });
  var pending = null;
  window.addEventListener("resize", function () {
    clearTimeout(pending);
    pending = setTimeout(function () {
      drawn.forEach(function (d) { d.chart.resize(); d.chart.setOption(options(d.el, d.spec)); });
    }, 100);
  });
})();
