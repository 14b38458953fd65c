// GridHall statistics page: draws the charts with ECharts from the JSON data
// block #stats-data. The tables beside the charts hold the same figures,
// so the page is complete without this script (or for a screen reader).
(function () {
  'use strict';

  var block = document.getElementById('stats-data');
  if (!block || !window.echarts) {
    return;
  }
  var data = JSON.parse(block.textContent);
  var large = document.documentElement.classList.contains('large-text');
  var font = large ? 17 : 13;
  // Colours with at least 3:1 contrast against white, told apart also by
  // their order and labels, never by colour alone.
  var palette = ['#005a9c', '#c2410c', '#1e6b34', '#7c3aed', '#b3261e', '#0e7490', '#a16207', '#4a5560', '#be185d', '#3f6212', '#1d4ed8'];

  // A phone's chart is narrow: labels go inside the slices, and bars lie
  // on their side so that their names can be read.
  function narrow(el) {
    return el.clientWidth < 420;
  }

  function pie(rows, el) {
    var inside = narrow(el);
    return {
      color: palette,
      animation: false,
      textStyle: { fontSize: font },
      tooltip: { trigger: 'item', formatter: '{b}: {c} ({d}%)' },
      legend: { bottom: 0, textStyle: { fontSize: font } },
      series: [{
        type: 'pie',
        radius: inside ? ['28%', '72%'] : ['35%', '65%'],
        center: ['50%', '45%'],
        label: inside
          ? { position: 'inside', formatter: '{c}', color: '#fff', fontWeight: 'bold', fontSize: font }
          : { formatter: '{b}\n{c}', fontSize: font },
        labelLine: { show: !inside },
        data: rows.filter(function (r) { return r.value > 0; }),
      }],
    };
  }

  function bar(rows, el, horizontal) {
    var names = rows.map(function (r) { return r.name; });
    var values = rows.map(function (r) { return r.value; });
    var category = { type: 'category', data: names, axisLabel: { fontSize: font, interval: 0 } };
    var value = { type: 'value', axisLabel: { fontSize: font } };
    if (horizontal) {
      // The bars carry their numbers; the value axis would only crowd.
      category.inverse = true;
      category.axisLabel.width = narrow(el) ? 110 : 170;
      category.axisLabel.overflow = 'break';
      value.axisLabel.show = false;
      value.splitLine = { show: false };
    }
    return {
      color: palette,
      animation: false,
      textStyle: { fontSize: font },
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      grid: { left: 8, right: 48, top: 16, bottom: 8, containLabel: true },
      xAxis: horizontal ? value : category,
      yAxis: horizontal ? category : value,
      series: [{
        type: 'bar',
        data: values,
        label: { show: true, position: horizontal ? 'right' : 'top', fontSize: font },
        barMaxWidth: 48,
      }],
    };
  }

  var options = {
    gender: function (el) { return pie(data.gender, el); },
    registration: function (el) { return pie(data.registration, el); },
    ages: function (el) { return bar(data.ages, el, narrow(el)); },
    tags: function (el) { return bar(data.tags, el, true); },
  };

  var charts = [];
  document.querySelectorAll('[data-chart]').forEach(function (el) {
    var make = options[el.getAttribute('data-chart')];
    if (!make) {
      return;
    }
    var chart = window.echarts.init(el, null, { renderer: 'canvas' });
    chart.setOption(make(el));
    charts.push({ el: el, chart: chart, make: make });
  });

  // Redraw on resize (a phone turned sideways): the layout may change.
  var pending = 0;
  window.addEventListener('resize', function () {
    window.cancelAnimationFrame(pending);
    pending = window.requestAnimationFrame(function () {
      charts.forEach(function (c) {
        c.chart.resize();
        c.chart.setOption(c.make(c.el), true);
      });
    });
  });
})();
