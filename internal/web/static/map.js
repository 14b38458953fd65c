// GridHall map page: the territory's boundaries on a Leaflet map, a search
// over places and building addresses, the card of the chosen place, and
// boundary editing (Leaflet-Geoman) for those who manage the territory.
//
// Everything the page needs comes from the data-* attributes of #map-app
// (settings and translated strings: the CSP forbids inline script) and from
// the JSON API, fetched with the session cookie. Colours and line widths
// live in map.css, keyed by the class each boundary carries (map-grid, …).
(function () {
  'use strict';

  var app = document.getElementById('map-app');
  if (!app) {
    return;
  }
  var data = app.dataset;
  var statusEl = document.getElementById('map-status');
  var cardEl = document.getElementById('map-card');
  var searchForm = document.getElementById('map-search');
  var input = document.getElementById('map-q');
  var resultsEl = document.getElementById('map-results');

  var KINDS = ['district', 'street', 'community', 'grid', 'microgrid'];
  // Grids and micro-grids are the leaves people click; a selected leaf is
  // brought to the front so that its whole outline shows. The larger
  // places are also drawn a second time, as outlines only, in a pane above
  // the grids, so that a community's border is not hidden under its
  // grids' borders.
  var LEAVES = { grid: true, microgrid: true };
  var LABELLED = { community: true, grid: true, microgrid: true };
  var SEARCH_LIMIT = 8;
  var BUILDING_LIMIT = 5;
  var DEBOUNCE_MS = 300;

  // t returns the translated string data-t-<name>, with %d and %s
  // placeholders replaced by args in order.
  function t(name) {
    var args = Array.prototype.slice.call(arguments, 1);
    var s = data['t' + name.charAt(0).toUpperCase() + name.slice(1)] || '';
    return s.replace(/%[ds]/g, function () {
      return args.length ? String(args.shift()) : '';
    });
  }

  function setStatus(text, isError) {
    statusEl.textContent = text;
    statusEl.classList.toggle('is-error', !!isError);
  }

  if (!window.L) {
    setStatus(t('loadFailed', 'Leaflet'), true);
    return;
  }

  var english = data.lang === 'en';
  var canEdit = data.canEdit === 'true' && !!L.PM;
  var editScopes = (data.editScopes || '').split(' ');
  var readScopes = (data.scopes || '').split(' ');
  var numberFormat = new Intl.NumberFormat(data.lang, { maximumFractionDigits: 1 });
  var rootPx = parseFloat(window.getComputedStyle(document.documentElement).fontSize) || 16;

  var canvas = document.getElementById('map-canvas');
  // China as a whole until the boundaries arrive and the map fits them.
  var map = L.map(canvas, { maxZoom: 19, minZoom: 3, zoomSnap: 0.25, zoomDelta: 0.5, zoomControl: false }).setView(
    [35, 105],
    4
  );
  L.control.zoom({ zoomInTitle: t('zoomIn'), zoomOutTitle: t('zoomOut') }).addTo(map);
  map.createPane('outlines').classList.add('map-outlines');
  if (data.tileLayer) {
    L.tileLayer(data.tileLayer, { maxZoom: 19 }).addTo(map);
  }
  // Leaflet focuses the map when it is clicked, which would show the
  // keyboard focus ring to mouse and touch users; the ring is kept for
  // keyboard users only.
  ['pointerdown', 'mousedown', 'touchstart'].forEach(function (type) {
    canvas.addEventListener(
      type,
      function () {
        canvas.classList.add('pointer-focus');
      },
      { capture: true, passive: true }
    );
  });
  canvas.addEventListener('keydown', function () {
    canvas.classList.remove('pointer-focus');
  });
  // The panel beside or below the map grows and shrinks (a card opens, the
  // phone turns): Leaflet must learn its new size.
  if (window.ResizeObserver) {
    new ResizeObserver(function () {
      map.invalidateSize();
    }).observe(canvas);
  }

  var features = []; // the FeatureCollection's features, as loaded
  var byCode = {}; // code → feature
  var layers = {}; // code → Leaflet polygon
  var outlines = {}; // code → the outline drawn above the grids (larger places)
  var group = null; // the layer group of all boundaries
  var outlineGroup = null;
  var selected = ''; // the code whose card is open
  var editing = null; // { code, layer } while a boundary is edited
  var buildingMarker = null;
  var cardRequest = 0; // numbers card fetches, so a slow answer cannot overwrite a newer one
  var searchRequest = 0;
  var searchTimer = 0;

  function nameOf(p) {
    return (english && p.name_en) || p.name || p.code;
  }

  function kindName(kind) {
    return t('kind' + kind.charAt(0).toUpperCase() + kind.slice(1)) || kind;
  }

  function within(code, scopes) {
    return scopes.some(function (s) {
      return code.indexOf(s) === 0;
    });
  }

  function mayEdit(code) {
    return canEdit && within(code, editScopes);
  }

  // el builds an element with a class and text; text is never parsed as
  // HTML, so names from the database cannot inject markup.
  function el(tag, className, text) {
    var e = document.createElement(tag);
    if (className) {
      e.className = className;
    }
    if (text !== undefined && text !== null) {
      e.textContent = String(text);
    }
    return e;
  }

  function button(className, text, onClick) {
    var b = el('button', className, text);
    b.type = 'button';
    b.addEventListener('click', onClick);
    return b;
  }

  // api fetches JSON from the API with the session cookie. A failed
  // request rejects with an Error carrying the status and the parsed body,
  // whose error.message the server has already translated.
  function api(url, options) {
    options = options || {};
    options.credentials = 'same-origin';
    options.headers = Object.assign({ Accept: 'application/json' }, options.headers || {});
    return fetch(url, options).then(function (res) {
      return res.text().then(function (text) {
        var body = null;
        try {
          body = text ? JSON.parse(text) : null;
        } catch (e) {
          body = null;
        }
        if (!res.ok) {
          var err = new Error((body && body.error && body.error.message) || res.status + ' ' + res.statusText);
          err.status = res.status;
          err.body = body;
          throw err;
        }
        return body;
      });
    });
  }

  // ---------------------------------------------------------------- drawing

  function levelOf(f) {
    var i = KINDS.indexOf(f.properties.kind);
    return i < 0 ? KINDS.length : i;
  }

  function draw() {
    if (group) {
      group.remove();
      outlineGroup.remove();
    }
    layers = {};
    outlines = {};
    // Larger places first, so that the smaller ones lie on top and take
    // the clicks inside them.
    var ordered = features.slice().sort(function (a, b) {
      return levelOf(a) - levelOf(b) || (a.properties.code < b.properties.code ? -1 : 1);
    });
    group = L.geoJSON(
      { type: 'FeatureCollection', features: ordered },
      {
        style: function (f) {
          return { className: 'map-area map-' + f.properties.kind, weight: 2 };
        },
        onEachFeature: function (f, layer) {
          var p = f.properties;
          layers[p.code] = layer;
          if (LABELLED[p.kind]) {
            layer.bindTooltip(nameOf(p), {
              permanent: true,
              direction: 'center',
              className: 'map-label map-label-' + p.kind,
              interactive: false,
            });
          }
          layer.on('click', function (e) {
            L.DomEvent.stopPropagation(e);
            select(p.code, { zoom: false, focus: false });
          });
        },
      }
    ).addTo(map);
    outlineGroup = L.geoJSON(
      {
        type: 'FeatureCollection',
        features: ordered.filter(function (f) {
          return !LEAVES[f.properties.kind];
        }),
      },
      {
        pane: 'outlines',
        interactive: false,
        // The areas below are the same lines: Geoman snaps to those.
        snapIgnore: true,
        pmIgnore: true,
        style: function (f) {
          return { className: 'map-outline map-outline-' + f.properties.kind, weight: 3, fill: false };
        },
        onEachFeature: function (f, layer) {
          outlines[f.properties.code] = layer;
        },
      }
    ).addTo(map);
    // The code on each area's element names it for the browser tests and
    // for anyone inspecting the page.
    Object.keys(layers).forEach(function (code) {
      var path = layers[code].getElement();
      if (path) {
        path.setAttribute('data-code', code);
      }
    });
    if (selected && layers[selected]) {
      highlight(selected);
    }
    updateLabels();
  }

  // paths returns the SVG elements drawn for a place: its area and, for
  // the larger places, its outline.
  function paths(code) {
    return [layers[code], outlines[code]]
      .filter(Boolean)
      .map(function (l) {
        return l.getElement();
      })
      .filter(Boolean);
  }

  function markOnly(className, codes) {
    Array.prototype.forEach.call(canvas.querySelectorAll('path.' + className), function (p) {
      p.classList.remove(className);
    });
    codes.forEach(function (code) {
      paths(code).forEach(function (p) {
        p.classList.add(className);
      });
    });
  }

  // updateLabels shows a place's name where it fits inside the place on
  // screen: grids when zoomed in, their community when the grids are too
  // small to carry a name. It runs after every zoom or pan.
  function updateLabels() {
    var view = map.getBounds();
    var labelledParents = {};
    var pending = [];
    Object.keys(layers).forEach(function (code) {
      var layer = layers[code];
      var f = byCode[code];
      if (!layer.getTooltip()) {
        return;
      }
      if (editing && editing.code === code) {
        toggleLabel(layer, false);
        return;
      }
      if (f.properties.kind === 'community') {
        pending.push(code);
        return;
      }
      var show = fits(layer, f, view);
      toggleLabel(layer, show);
      if (show) {
        labelledParents[f.properties.parent] = true;
      }
    });
    pending.forEach(function (code) {
      var layer = layers[code];
      toggleLabel(layer, !labelledParents[code] && fits(layer, byCode[code], view));
    });
  }

  function fits(layer, f, view) {
    var b = layer.getBounds();
    if (!view.intersects(b)) {
      return false;
    }
    var nw = map.latLngToLayerPoint(b.getNorthWest());
    var se = map.latLngToLayerPoint(b.getSouthEast());
    var name = nameOf(f.properties);
    // A rough text width at the label's size (map.css, in rem, so large
    // text makes it larger): CJK characters are square, Latin ones about
    // half as wide.
    var size = rootPx * (f.properties.kind === 'community' ? 0.9375 : 0.8125);
    var width = 0;
    for (var i = 0; i < name.length; i++) {
      width += name.charCodeAt(i) > 0x2e80 ? size : size * 0.6;
    }
    return se.x - nw.x >= Math.max(3 * size, width + 2 * size) && se.y - nw.y >= 1.75 * size;
  }

  function toggleLabel(layer, show) {
    var open = layer.isTooltipOpen();
    if (show && !open) {
      layer.openTooltip();
    } else if (!show && open) {
      layer.closeTooltip();
    }
  }

  map.on('zoomend moveend', updateLabels);

  function highlight(code) {
    markOnly('is-selected', code ? [code] : []);
    var layer = layers[code];
    if (layer && LEAVES[byCode[code].properties.kind]) {
      layer.bringToFront();
    }
  }

  function markConflicts(codes) {
    markOnly('is-conflict', codes);
  }

  // load fetches the boundaries the account may see and draws them. The
  // first time it fits the map to the account's own area.
  function load(fit) {
    return api('/api/v1/territory', { headers: { Accept: 'application/geo+json, application/json' } }).then(
      function (fc) {
        features = (fc && fc.features) || [];
        byCode = {};
        features.forEach(function (f) {
          byCode[f.properties.code] = f;
        });
        draw();
        if (fit) {
          fitToScope();
        }
        showCount();
      }
    );
  }

  // fitToScope shows the account's own area. Where it has grids, the map
  // fits them: a district whose grids cover one street opens on that
  // street, not on empty fields.
  function fitToScope() {
    var own = features.filter(function (f) {
      return within(f.properties.code, readScopes);
    });
    var leaves = own.filter(function (f) {
      return LEAVES[f.properties.kind];
    });
    var bounds = L.latLngBounds([]);
    (leaves.length ? leaves : own.length ? own : features).forEach(function (f) {
      bounds.extend(layers[f.properties.code].getBounds());
    });
    if (bounds.isValid()) {
      map.fitBounds(bounds, { padding: [16, 16] });
    }
  }

  function showCount() {
    if (!features.length) {
      setStatus(t('empty'));
      return;
    }
    var n = { community: 0, grid: 0 };
    features.forEach(function (f) {
      if (f.properties.kind in n) {
        n[f.properties.kind]++;
      }
    });
    setStatus(t('count', n.community, n.grid));
  }

  // ---------------------------------------------------------------- card

  // select opens a place's card, highlights it and, when asked, zooms to it.
  // While a boundary is being edited the selection stays put.
  function select(code, opts) {
    if (editing || !byCode[code]) {
      return;
    }
    selected = code;
    highlight(code);
    if (opts.zoom) {
      map.fitBounds(layers[code].getBounds(), { padding: [24, 24], maxZoom: 18 });
    }
    openCard(code, opts.focus);
  }

  function openCard(code, focus) {
    var seq = ++cardRequest;
    var f = byCode[code];
    cardEl.replaceChildren(cardHead(f.properties, focus));
    cardEl.hidden = false;
    app.classList.add('has-card');
    // On a phone the card opens below the search box: bring it into view.
    reveal(cardEl, true);
    api('/api/v1/territory/nodes/' + encodeURIComponent(code))
      .then(function (card) {
        if (seq === cardRequest) {
          renderCard(card);
        }
      })
      .catch(function (err) {
        if (seq === cardRequest) {
          cardEl.appendChild(el('p', 'alert', t('cardFailed', err.message))).setAttribute('role', 'alert');
        }
      });
  }

  // reveal scrolls the panel (the page itself does not scroll) so that e
  // shows: at the top of the panel, or else just enough to see all of it.
  function reveal(e, top) {
    var panel = cardEl.parentElement;
    var p = panel.getBoundingClientRect();
    var r = e.getBoundingClientRect();
    if (top || r.top < p.top) {
      panel.scrollTop += r.top - p.top;
    } else if (r.bottom > p.bottom) {
      panel.scrollTop += Math.min(r.bottom - p.bottom, r.top - p.top);
    }
  }

  function closeCard() {
    if (editing) {
      return;
    }
    cardRequest++;
    selected = '';
    highlight('');
    cardEl.hidden = true;
    cardEl.replaceChildren();
    app.classList.remove('has-card');
    input.focus();
  }

  // cardHead is the card's heading, shown at once from the loaded feature
  // while the details are fetched.
  function cardHead(p, focus) {
    var head = el('div', 'map-card-head');
    var h = el('h2', '', nameOf(p));
    h.id = 'map-card-title';
    h.tabIndex = -1;
    head.appendChild(h);
    head.appendChild(button('button small map-close', t('close'), closeCard));
    var wrap = document.createDocumentFragment();
    wrap.appendChild(head);
    var kind = el('p', 'map-card-kind');
    kind.appendChild(el('span', 'kind-badge kind-' + p.kind, kindName(p.kind)));
    kind.appendChild(document.createTextNode(' '));
    kind.appendChild(el('code', 'map-card-code', p.code));
    wrap.appendChild(kind);
    if (focus) {
      window.setTimeout(function () {
        h.focus();
      }, 0);
    }
    return wrap;
  }

  function renderCard(c) {
    var p = { code: c.code, name: c.name, name_en: c.name_en, kind: c.kind };
    cardEl.replaceChildren(cardHead(p, false));

    var ancestors = (c.ancestors || [])
      .filter(function (a) {
        return a.code !== c.code;
      })
      .sort(function (a, b) {
        return a.code.length - b.code.length;
      });
    if (ancestors.length) {
      var nav = el('nav', 'crumbs');
      nav.setAttribute('aria-label', t('breadcrumb'));
      var ol = el('ol');
      ancestors.forEach(function (a) {
        var li = el('li');
        if (byCode[a.code]) {
          li.appendChild(
            button('link', nameOf(a), function () {
              select(a.code, { zoom: true, focus: true });
            })
          );
        } else {
          li.appendChild(el('span', '', nameOf(a)));
        }
        ol.appendChild(li);
      });
      nav.appendChild(ol);
      cardEl.appendChild(nav);
    }

    var facts = el('dl', 'facts compact map-facts');
    function fact(label, value) {
      var d = el('div');
      d.appendChild(el('dt', '', label));
      d.appendChild(el('dd', '', value));
      facts.appendChild(d);
    }
    fact(t('code'), c.code);
    fact(t('kind'), kindName(c.kind));
    fact(t('buildingsCount'), numberFormat.format(c.buildings || 0));
    fact(t('households'), numberFormat.format(Math.max(c.households || 0, c.building_households || 0)));
    if (c.population) {
      fact(t('population'), numberFormat.format(c.population));
    }
    if (c.households_per_worker) {
      fact(t('perWorker'), numberFormat.format(c.households_per_worker));
    }
    cardEl.appendChild(facts);

    cardEl.appendChild(el('h3', '', t('staff')));
    var staff = c.staff || [];
    if (staff.length) {
      var ul = el('ul', 'staff');
      staff.forEach(function (m) {
        var li = el('li');
        li.appendChild(el('span', 'staff-name', m.display_name || m.username));
        li.appendChild(el('span', 'staff-duty', m.duty === 'leader' ? t('dutyLeader') : t('dutyWorker')));
        ul.appendChild(li);
      });
      cardEl.appendChild(ul);
    } else {
      cardEl.appendChild(el('p', 'muted', t('noStaff')));
    }

    if (mayEdit(c.code)) {
      cardEl.appendChild(editControls(c.code));
    }
  }

  // ---------------------------------------------------------------- editing

  function editControls(code) {
    var box = el('div', 'map-edit');
    var alert = el('div', 'alert map-problems');
    alert.setAttribute('role', 'alert');
    alert.hidden = true;
    var hint = el('p', 'hint', t('editHint'));
    hint.hidden = true;
    var actions = el('div', 'actions');
    var start = button('button', t('edit'), function () {
      startEdit(code, box);
    });
    var save = button('button primary', t('save'), function () {
      saveEdit(box);
    });
    var cancel = button('button', t('cancel'), cancelEdit);
    save.hidden = cancel.hidden = true;
    save.classList.add('map-save');
    cancel.classList.add('map-cancel');
    start.classList.add('map-edit-start');
    actions.append(start, save, cancel);
    box.append(alert, hint, actions);
    box.parts = { alert: alert, hint: hint, start: start, save: save, cancel: cancel };
    return box;
  }

  function startEdit(code, box) {
    var layer = layers[code];
    if (!layer || editing) {
      return;
    }
    editing = { code: code, layer: layer, box: box };
    app.classList.add('is-editing');
    // One place at a time: the search and the other places wait until the
    // edit is saved or cancelled.
    input.disabled = true;
    // The corners must be far enough apart to take hold of one, and the
    // neighbours close enough to see where the border runs.
    map.fitBounds(layer.getBounds().pad(0.3), { maxZoom: 19 });
    layer.bringToFront();
    layer.closeTooltip();
    if (outlines[code]) {
      outlines[code].remove();
    }
    layer.pm.enable({ allowSelfIntersection: true, snappable: true, snapDistance: 12, draggable: false });
    box.parts.start.hidden = true;
    box.parts.save.hidden = box.parts.cancel.hidden = box.parts.hint.hidden = false;
    box.parts.save.focus();
    setStatus(t('editing', nameOf(byCode[code].properties)));
  }

  function stopEdit() {
    if (!editing) {
      return;
    }
    editing.layer.pm.disable();
    editing = null;
    app.classList.remove('is-editing');
    input.disabled = false;
    markConflicts([]);
  }

  function cancelEdit() {
    var code = editing && editing.code;
    stopEdit();
    // Redrawing from the loaded features puts the old boundary back.
    draw();
    showCount();
    if (code) {
      select(code, { zoom: false, focus: true });
    }
  }

  function saveEdit(box) {
    if (!editing || box.parts.save.disabled) {
      return;
    }
    var code = editing.code;
    var geometry = editing.layer.toGeoJSON(false).geometry;
    box.parts.save.disabled = true;
    box.parts.save.textContent = t('saving');
    api('/api/v1/territory/nodes/' + encodeURIComponent(code) + '/boundary', {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ geometry: geometry }),
    })
      .then(
        function () {
          stopEdit();
          return load(false).then(
            function () {
              select(code, { zoom: false, focus: true });
              setStatus(t('saved'));
            },
            function (err) {
              setStatus(t('loadFailed', err.message), true);
            }
          );
        },
        function (err) {
          box.parts.save.disabled = false;
          box.parts.save.textContent = t('save');
          showProblems(box, err);
        }
      );
  }

  // showProblems lists why the server refused a boundary, naming the
  // neighbour it collides with, and marks that neighbour on the map. The
  // edit stays open so that the boundary can be corrected.
  function showProblems(box, err) {
    var alert = box.parts.alert;
    alert.replaceChildren();
    var problems = (err.body && err.body.problems) || [];
    var others = [];
    if (problems.length) {
      alert.appendChild(el('p', '', t('rejected')));
      var ul = el('ul');
      problems.forEach(function (pr) {
        var li = el('li', '', pr.message || pr.reason);
        if (pr.other) {
          others.push(pr.other);
          var other = byCode[pr.other];
          var label = pr.other + (other ? ' ' + nameOf(other.properties) : '');
          li.appendChild(el('span', 'problem-other', ' ' + t('other', label)));
        }
        ul.appendChild(li);
      });
      alert.appendChild(ul);
    } else {
      alert.appendChild(el('p', '', t('saveFailed', err.message)));
    }
    alert.hidden = false;
    reveal(alert, false);
    markConflicts(others);
  }

  // ---------------------------------------------------------------- search

  function searchPlaces(q) {
    var lower = q.toLowerCase();
    var hits = features.filter(function (f) {
      var p = f.properties;
      return (
        p.code.indexOf(q) === 0 ||
        (p.name || '').toLowerCase().indexOf(lower) >= 0 ||
        (p.name_en || '').toLowerCase().indexOf(lower) >= 0
      );
    });
    hits.sort(function (a, b) {
      var exact = (b.properties.code === q) - (a.properties.code === q);
      return exact || levelOf(a) - levelOf(b) || (a.properties.code < b.properties.code ? -1 : 1);
    });
    return hits.slice(0, SEARCH_LIMIT);
  }

  var current = { q: '', places: [], buildings: [] };

  function runSearch() {
    var q = input.value.trim();
    window.clearTimeout(searchTimer);
    searchRequest++;
    current = { q: q, places: q ? searchPlaces(q) : [], buildings: [] };
    renderResults();
    if (q.length >= 2) {
      var seq = searchRequest;
      searchTimer = window.setTimeout(function () {
        api('/api/v1/buildings/search?limit=' + BUILDING_LIMIT + '&q=' + encodeURIComponent(q))
          .then(function (page) {
            if (seq === searchRequest) {
              current.buildings = (page && page.items) || [];
              renderResults();
            }
          })
          .catch(function () {
            // Address search is a convenience on top of the place search:
            // when it fails, the places found so far stay.
          });
      }, DEBOUNCE_MS);
    }
  }

  var countEl = el('p', 'map-results-count');
  countEl.setAttribute('role', 'status');

  function renderResults() {
    resultsEl.replaceChildren(countEl);
    if (!current.q) {
      countEl.textContent = '';
      return;
    }
    var total = current.places.length + current.buildings.length;
    countEl.textContent = total ? t('results', total) : t('noResults');
    if (current.places.length) {
      resultsEl.appendChild(el('h2', 'map-results-title', t('places')));
      var ul = el('ul', 'map-result-list');
      current.places.forEach(function (f) {
        var p = f.properties;
        ul.appendChild(
          resultItem(nameOf(p), kindName(p.kind) + ' · ' + p.code, function () {
            choosePlace(p.code);
          })
        );
      });
      resultsEl.appendChild(ul);
    }
    if (current.buildings.length) {
      resultsEl.appendChild(el('h2', 'map-results-title', t('buildings')));
      var bl = el('ul', 'map-result-list');
      current.buildings.forEach(function (b) {
        bl.appendChild(
          resultItem(b.name, b.address, function () {
            chooseBuilding(b);
          })
        );
      });
      resultsEl.appendChild(bl);
    }
  }

  function resultItem(title, meta, onChoose) {
    var li = el('li');
    var b = button('map-result', '', onChoose);
    b.appendChild(el('span', 'map-result-name', title));
    b.appendChild(el('span', 'map-result-meta', meta));
    li.appendChild(b);
    return li;
  }

  function clearResults() {
    window.clearTimeout(searchTimer);
    searchRequest++;
    current = { q: '', places: [], buildings: [] };
    renderResults();
  }

  function choosePlace(code) {
    clearResults();
    select(code, { zoom: true, focus: true });
  }

  function chooseBuilding(b) {
    clearResults();
    if (buildingMarker) {
      buildingMarker.remove();
    }
    buildingMarker = L.marker([b.lat, b.lng], { title: b.name, alt: b.name, keyboard: false })
      .bindTooltip(b.name, { permanent: true, direction: 'top', className: 'map-label map-label-building' })
      .addTo(map);
    map.setView([b.lat, b.lng], Math.max(map.getZoom(), 17));
    if (b.grid_code && byCode[b.grid_code]) {
      select(b.grid_code, { zoom: false, focus: true });
    }
  }

  input.addEventListener('input', runSearch);
  input.addEventListener('keydown', function (e) {
    if (e.key === 'Escape' && input.value) {
      input.value = '';
      clearResults();
    }
  });
  // Enter takes the first result; the form never reloads the page.
  searchForm.addEventListener('submit', function (e) {
    e.preventDefault();
    var first = resultsEl.querySelector('.map-result');
    if (first) {
      first.click();
    }
  });

  // ---------------------------------------------------------------- start

  setStatus(t('loading'));
  load(true).catch(function (err) {
    setStatus(t('loadFailed', err.message), true);
  });
})();
