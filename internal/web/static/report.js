// The report form's conveniences: addresses suggested while the reporter
// types, and a pin on a map where one is configured. The form works without
// this script (the server suggests addresses after the form is sent), and it
// is a file of its own because the Content-Security-Policy forbids inline
// script.
(function () {
  'use strict';

  var input = document.querySelector('input[data-suggest]');
  var list = input && document.getElementById(input.getAttribute('list'));
  var found = []; // the last suggestions, with their points
  var map = null;

  function suggest() {
    var q = input.value.trim();
    if (q.length < 2) {
      return;
    }
    fetch(input.getAttribute('data-suggest') + '?q=' + encodeURIComponent(q), {
      credentials: 'same-origin',
      headers: { Accept: 'application/json' },
    })
      .then(function (res) {
        return res.ok ? res.json() : [];
      })
      .then(function (items) {
        if (input.value.trim() !== q) {
          return; // the reporter typed on meanwhile
        }
        found = items;
        var options = items.map(function (it) {
          var o = document.createElement('option');
          o.value = it.address;
          o.label = it.name;
          return o;
        });
        list.replaceChildren.apply(list, options);
      })
      .catch(function () {
        // Suggestions are a convenience: the form still works.
      });
  }

  if (input && list) {
    var timer = null;
    input.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(suggest, 250);
      // A chosen suggestion brings the map to its building.
      var chosen = found.filter(function (it) {
        return it.address === input.value;
      })[0];
      if (chosen && map) {
        map.setView([chosen.lat, chosen.lng], 18);
      }
    });
  }

  var field = document.querySelector('[data-pin]');
  var el = document.getElementById('report-map');
  if (!field || !el || !window.L) {
    return;
  }
  var lng = document.querySelector('[data-pin-lng]');
  var lat = document.querySelector('[data-pin-lat]');
  field.hidden = false;
  map = window.L.map(el);
  window.L.tileLayer(el.getAttribute('data-tiles'), { maxZoom: 19 }).addTo(map);
  var b = (el.getAttribute('data-bounds') || '').split(',').map(Number);
  if (b.length === 4 && b.every(isFinite)) {
    map.fitBounds([
      [b[1], b[0]],
      [b[3], b[2]],
    ]);
  } else {
    map.setView([0, 0], 2);
  }
  var marker = null;
  function place(latlng) {
    if (marker) {
      marker.setLatLng(latlng);
    } else {
      marker = window.L.marker(latlng).addTo(map);
    }
    lng.value = latlng.lng.toFixed(6);
    lat.value = latlng.lat.toFixed(6);
  }
  if (lng.value && lat.value) {
    place(window.L.latLng(Number(lat.value), Number(lng.value)));
    map.setView(marker.getLatLng(), 18);
  }
  map.on('click', function (e) {
    place(e.latlng);
  });
  field.querySelector('[data-pin-clear]').addEventListener('click', function () {
    if (marker) {
      map.removeLayer(marker);
      marker = null;
    }
    lng.value = '';
    lat.value = '';
  });
})();
