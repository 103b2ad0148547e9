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
    // Days of one year are shown without it (03-04): shorter, so they need not turn so far.
    var sameYear = spec.labels.length > 0 && spec.labels.every(function (l) {
      return /^\d{4}-\d{2}-\d{2}$/.test(l) && l.slice(0, 4) === String(spec.labels[0]).slice(0, 4);
    });
    if (sameYear) { longest = 5; }
    var turned = many || (narrow && longest > 4 && spec.labels.length > 2);
    // A label is as wide as its share of the axis (turned: a fixed length); longer ones end in "…".
    var width = turned ? (narrow ? 84 : 140)
                       : Math.max(48, Math.floor((el.clientWidth - 56) / Math.max(spec.labels.length, 1)) - 6);
    var yAxis = {type: "value", name: spec.unit || "", nameGap: 10,
                 nameTextStyle: {align: "left", color: "#6b7280"}, axisLabel: {hideOverlap: true}};
    if (el.hasAttribute("data-y-max")) { yAxis.max = Number(el.getAttribute("data-y-max")); }
    return {
      color: COLORS,
      tooltip: {trigger: "axis", confine: true},
      legend: {show: several, bottom: 0, left: "center", itemWidth: 14, itemHeight: 10, itemGap: 8},
      grid: {left: narrow ? 16 : 8, right: narrow ? 12 : 16, top: 32, bottom: several ? (narrow ? 56 : 32) : 8,
             containLabel: true},
      xAxis: {type: "category", data: spec.labels,
              axisLabel: {interval: many && narrow ? "auto" : 0, hideOverlap: true, rotate: turned ? (narrow ? 45 : 30) : 0,
                          width: width, overflow: "truncate", formatter: sameYear ? shortDate : undefined}},
      yAxis: yAxis,
      series: spec.series.map(function (s) {
        return {type: line ? "line" : "bar", name: s.name, data: s.data.map(Number)};
      })
    };
  }

  function shortDate(label) { return String(label).slice(5); }

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
