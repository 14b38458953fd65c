// GridHall workbench map: the cases of the current queue page as points on
// a Leaflet map, coloured by their warning light, each linking to its case.
// The list above the map says the same in text, so the map is an extra for
// those who see it, never the only way to a case.
//
// Settings and strings come from the data-* attributes of #case-map (the
// CSP forbids inline script); the points from the JSON API, fetched with the
// session cookie.
(function () {
  'use strict';

  var el = document.getElementById('case-map');
  if (!el || !window.L) {
    return;
  }
  var data = el.dataset;
  var status = document.getElementById('case-map-status');

  function say(text) {
    if (status) {
      status.textContent = text;
    }
  }

  var map = L.map(el, { zoomControl: true, attributionControl: false });
  if (data.tileLayer) {
    L.tileLayer(data.tileLayer, { maxZoom: 19 }).addTo(map);
  }
  map.setView([30.545, 114.308], 14);

  function get(url) {
    return fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } }).then(function (res) {
      if (!res.ok) {
        throw new Error(String(res.status));
      }
      return res.json();
    });
  }

  var grids = data.grids ? get(data.grids).catch(function () { return null; }) : Promise.resolve(null);
  Promise.all([grids, get(data.points)]).then(function (all) {
    var bounds = null;
    if (all[0]) {
      var outline = L.geoJSON(all[0], { className: 'case-map-grid', interactive: false }).addTo(map);
      bounds = outline.getBounds();
    }
    var points = all[1].features || [];
    var layer = L.geoJSON(all[1], {
      pointToLayer: function (f, latlng) {
        var light = f.properties.light || 'none';
        return L.circleMarker(latlng, { radius: 8, className: 'case-dot case-dot-' + light });
      },
      onEachFeature: function (f, marker) {
        var a = document.createElement('a');
        a.href = '/cases/' + f.properties.id;
        a.textContent = f.properties.number;
        marker.bindPopup(a);
      }
    }).addTo(map);
    if (points.length) {
      bounds = layer.getBounds();
    }
    if (bounds && bounds.isValid()) {
      map.fitBounds(bounds, { padding: [20, 20], maxZoom: 17 });
    }
    say((data.tCount || '%d').replace('%d', String(points.length)));
  }).catch(function () {
    say(data.tFailed || '');
  });
})();
