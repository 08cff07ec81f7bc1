// "Dans le réseau" (web/inside.ts): drawing with mouse, touch, pen or keyboard; at each change the
// canvas' RGBA pixels are prepared by the course's preprocessing (web/static/preprocess.js, built
// from lib/preprocess) and run through the served model by TensorFlow.js, here in the browser; until
// it is loaded, or with ?calcul=serveur, they go to POST /api/inside instead (photos always do, for
// the server's decoding). One computation at a time (changes made meanwhile go in the next one), and
// every layer is redrawn.
// window.insideStats keeps each update's stroke-to-update latency for the tests and the benchmark.
(function () {
  'use strict';
  var config = window.INSIDE;
  var SIDE = 280;
  var drawing = document.getElementById('drawing');
  var cursor = document.getElementById('cursor');
  var ctx = drawing.getContext('2d', { willReadFrequently: true });
  var cursorCtx = cursor.getContext('2d');
  var statusBox = document.getElementById('status');
  var verdict = document.getElementById('verdict');
  var penState = document.getElementById('pen-state');
  // busy: a request in flight or a change not sent yet (tests wait for it to fall before reading `last`).
  var stats = (window.insideStats = { updates: [], last: null, errors: 0, busy: false });

  function whiteCanvas() {
    ctx.fillStyle = 'white';
    ctx.fillRect(0, 0, SIDE, SIDE);
  }
  whiteCanvas();

  if (!config) {
    drawing.setAttribute('aria-disabled', 'true');
    Array.prototype.forEach.call(document.querySelectorAll('.draw-column button, .draw-column select, #file'), function (el) { el.disabled = true; });
    return;
  }

  var thickness = Number(document.getElementById('thickness').value);
  var percent = function (p) { return (p * 100).toLocaleString('fr-FR', { minimumFractionDigits: 1, maximumFractionDigits: 1 }) + ' %'; };

  // ---- drawing -------------------------------------------------------------------------------
  function dot(p) {
    ctx.fillStyle = 'black';
    ctx.beginPath();
    ctx.arc(p.x, p.y, thickness / 2, 0, 2 * Math.PI);
    ctx.fill();
  }
  function segment(a, b) {
    ctx.strokeStyle = 'black';
    ctx.lineWidth = thickness;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(a.x, a.y);
    ctx.lineTo(b.x, b.y);
    ctx.stroke();
  }
  function position(event) {
    var box = drawing.getBoundingClientRect();
    return { x: ((event.clientX - box.left) * SIDE) / box.width, y: ((event.clientY - box.top) * SIDE) / box.height };
  }

  var last = null;
  var stroking = false;
  drawing.addEventListener('pointerdown', function (event) {
    if (event.button !== 0 && event.pointerType === 'mouse') return;
    event.preventDefault();
    drawing.setPointerCapture(event.pointerId);
    stroking = true;
    last = position(event);
    dot(last);
    changed(event.timeStamp);
  });
  drawing.addEventListener('pointermove', function (event) {
    if (!last) return;
    var events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    if (events.length === 0) events = [event];
    for (var i = 0; i < events.length; i++) {
      var p = position(events[i]);
      segment(last, p);
      last = p;
    }
    changed(event.timeStamp);
  });
  function endStroke() {
    if (!last) return;
    last = null;
    stroking = false;
    announceWhenIdle();
  }
  drawing.addEventListener('pointerup', endStroke);
  drawing.addEventListener('pointercancel', endStroke);

  // ---- keyboard: a pen moved with the arrows, put down or lifted with Space ---------------------
  var pen = { x: SIDE / 2, y: SIDE / 2, down: false, shown: false };
  function drawCursor() {
    cursorCtx.clearRect(0, 0, SIDE, SIDE);
    if (!pen.shown) return;
    cursorCtx.strokeStyle = pen.down ? '#d62728' : '#0072B2';
    cursorCtx.lineWidth = 2;
    cursorCtx.beginPath();
    cursorCtx.arc(pen.x, pen.y, Math.max(4, thickness / 2), 0, 2 * Math.PI);
    cursorCtx.moveTo(pen.x - 6, pen.y);
    cursorCtx.lineTo(pen.x + 6, pen.y);
    cursorCtx.moveTo(pen.x, pen.y - 6);
    cursorCtx.lineTo(pen.x, pen.y + 6);
    cursorCtx.stroke();
  }
  function sayPen() {
    penState.textContent = (pen.down ? 'Crayon posé' : 'Crayon levé') + ' en (' + Math.round(pen.x) + ', ' + Math.round(pen.y) + '). Flèches : déplacer ; Espace : ' + (pen.down ? 'lever' : 'poser') + ' ; Suppr : effacer.';
  }
  drawing.addEventListener('focus', function () { pen.shown = true; drawCursor(); sayPen(); });
  drawing.addEventListener('blur', function () { pen.shown = false; if (pen.down) { pen.down = false; announceWhenIdle(); } drawCursor(); });
  drawing.addEventListener('keydown', function (event) {
    var step = event.shiftKey ? 2 : 10;
    var moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    var move = moves[event.key];
    if (move) {
      event.preventDefault();
      var from = { x: pen.x, y: pen.y };
      pen.x = Math.min(SIDE - 1, Math.max(0, pen.x + move[0]));
      pen.y = Math.min(SIDE - 1, Math.max(0, pen.y + move[1]));
      if (pen.down) { segment(from, pen); changed(event.timeStamp); }
      drawCursor();
      sayPen();
    } else if (event.key === ' ' || event.key === 'Enter') {
      event.preventDefault();
      pen.down = !pen.down;
      if (pen.down) { dot(pen); changed(event.timeStamp); } else { announceWhenIdle(); }
      drawCursor();
      sayPen();
    } else if (event.key === 'Delete' || event.key === 'Backspace') {
      event.preventDefault();
      clearDrawing(event.timeStamp);
    }
  });

  function clearDrawing(time) {
    whiteCanvas();
    announceSoon = true;
    changed(time);
  }
  document.getElementById('clear').addEventListener('click', function (event) { clearDrawing(event.timeStamp); });
  document.getElementById('thickness').addEventListener('change', function (event) { thickness = Number(event.target.value); drawCursor(); });
  Array.prototype.forEach.call(document.querySelectorAll('button.example'), function (button) {
    button.addEventListener('click', function (event) {
      var example = config.examples[Number(button.dataset.example)];
      whiteCanvas();
      example.shapes.forEach(function (shape) {
        var points = shape.points.map(function (p) { return { x: p[0] * SIDE, y: p[1] * SIDE }; });
        if (shape.fill) {
          ctx.fillStyle = 'black';
          ctx.beginPath();
          ctx.moveTo(points[0].x, points[0].y);
          for (var j = 1; j < points.length; j++) ctx.lineTo(points[j].x, points[j].y);
          ctx.closePath();
          ctx.fill();
          return;
        }
        dot(points[0]);
        for (var i = 1; i < points.length; i++) segment(points[i - 1], points[i]);
      });
      announceSoon = true;
      changed(event.timeStamp);
    });
  });

  // ---- photos: the same route as a drawing ---------------------------------------------------
  var drop = document.getElementById('drop');
  var fileInput = document.getElementById('file');
  function photo(file) {
    whiteCanvas();
    announceSoon = true;
    stats.busy = true;
    var form = new FormData();
    form.append('image', file, file.name);
    analyse(form, '/api/inside?format=binary', performance.now(), 'Photo « ' + file.name + ' » ; dessinez pour revenir au dessin.', 'photo').then(function () {
      stats.busy = inFlight || dirtySince !== null;
    });
  }
  fileInput.addEventListener('change', function () { if (fileInput.files[0]) photo(fileInput.files[0]); });
  document.getElementById('choose').addEventListener('click', function () { fileInput.click(); });
  drop.addEventListener('dragover', function (e) { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', function () { drop.classList.remove('over'); });
  drop.addEventListener('drop', function (e) { e.preventDefault(); drop.classList.remove('over'); if (e.dataTransfer.files[0]) photo(e.dataTransfer.files[0]); });

  // ---- updates: one request at a time, the latest drawing each time ------------------------------
  var inFlight = false;
  var dirtySince = null; // time of the oldest change not yet sent
  var announceSoon = false;
  // Screen readers hear the verdict once a stroke is over (now if its last update is already shown).
  function announceWhenIdle() {
    announceSoon = true;
    if (!inFlight && dirtySince === null && stats.last) { announcer.textContent = verdict.textContent; announceSoon = false; }
  }
  function changed(time) {
    if (dirtySince === null) dirtySince = typeof time === 'number' ? time : performance.now();
    stats.busy = true;
    if (!inFlight) sendDrawing();
  }
  function sendDrawing() {
    inFlight = true;
    var since = dirtySince;
    dirtySince = null;
    // The canvas' own pixels (RGBA): prepared as a decoded photo is, here or on the server.
    var pixels = ctx.getImageData(0, 0, SIDE, SIDE).data;
    if (local) {
      computeHere(pixels, since).then(function () {
        inFlight = false;
        if (dirtySince !== null) sendDrawing();
        else stats.busy = false;
      });
      return;
    }
    var body = new Blob([pixels], { type: 'application/octet-stream' });
    // The next drawing leaves as soon as this answer arrives, while this one is drawn and shown.
    var released = false;
    function release() {
      if (released) return;
      released = true;
      inFlight = false;
      if (dirtySince !== null) sendDrawing();
    }
    analyse(body, '/api/inside?format=binary&width=' + SIDE + '&height=' + SIDE, since, '', 'dessin', release).then(function () {
      release();
      stats.busy = inFlight || dirtySince !== null;
    });
  }

  function analyse(body, address, since, message, kind, received) {
    var sent = performance.now();
    return fetch(address, { method: 'POST', body: body })
      .then(function (response) {
        if (!response.ok) {
          return response.json().catch(function () { return {}; }).then(function (answer) {
            throw new Error(answer.error || 'réponse ' + response.status + ' du serveur.');
          });
        }
        return response.arrayBuffer().then(function (buffer) {
          if (received) received();
          var answer = readBinary(buffer);
          render(answer);
          statusBox.textContent = message;
          statusBox.className = '';
          return new Promise(function (resolve) {
            requestAnimationFrame(function () {
              var done = performance.now();
              stats.updates.push({ latency: done - since, roundTrip: done - sent, server: answer.timings, kind: kind, where: 'serveur' });
              if (stats.updates.length > 2000) stats.updates.shift();
              resolve();
            });
          });
        });
      })
      .catch(function (error) {
        stats.errors++;
        statusBox.textContent = 'Erreur : ' + error.message;
        statusBox.className = 'error';
      });
  }

  // The binary answer (web/inside.ts insideBinary): a JSON header, then the float32 arrays it points into.
  function readBinary(buffer) {
    var length = new DataView(buffer).getUint32(0, true);
    var header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, length)));
    var start = Math.ceil((4 + length) / 4) * 4;
    var view = function (where) { return new Float32Array(buffer, start + 4 * where.offset, where.length); };
    header.input = view(header.input);
    header.layers.forEach(function (layer) { layer.values = view(layer.values); });
    return header;
  }

  // ---- computing in the browser: the bundled preprocessing, then TensorFlow.js on the served model --
  var local = null; // { tf, probe, names } once loaded
  var engine = document.getElementById('engine');
  var wanted = new URLSearchParams(location.search).get('calcul');
  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var script = document.createElement('script');
      script.src = src;
      script.onload = resolve;
      script.onerror = function () { reject(new Error(src + ' introuvable')); };
      document.head.appendChild(script);
    });
  }
  // A few predictions on a backend, in ms per prediction (the first ones compile and are not counted).
  function timeBackend(tf, probe, backend) {
    return tf.setBackend(backend).then(function (ok) {
      if (!ok) return Infinity;
      var runs = [];
      var step = function (i) {
        var x = tf.zeros([1, 28, 28, 1]);
        var started = performance.now();
        var ys = probe.predict(x);
        return Promise.all(ys.map(function (y) { return y.data(); })).then(function () {
          tf.dispose([x].concat(ys));
          if (i >= 2) runs.push(performance.now() - started);
          return i < 6 ? step(i + 1) : runs.sort(function (a, b) { return a - b; })[2];
        });
      };
      return step(0);
    }).catch(function () { return Infinity; });
  }
  function startLocal() {
    if (wanted === 'serveur' || !config.browser || !window.analyseImagePreprocess) {
      engine.textContent = 'Calcul : sur le serveur.';
      return;
    }
    engine.textContent = 'Calcul : sur le serveur, le temps de charger TensorFlow.js…';
    loadScript(config.browser.tf)
      .then(function () { return window.tf.loadLayersModel(config.browser.model); })
      .then(function (model) {
        var tf = window.tf;
        var names = config.layers.map(function (layer) { return layer.name; });
        var probe = tf.model({ inputs: model.inputs, outputs: names.map(function (name) { return model.getLayer(name).output; }) });
        // The faster of the two backends on this machine (the cpu one for small models without a GPU).
        return timeBackend(tf, probe, 'webgl').then(function (webgl) {
          return timeBackend(tf, probe, 'cpu').then(function (cpu) {
            var backend = webgl < cpu ? 'webgl' : 'cpu';
            return tf.setBackend(backend).then(function () {
              local = { tf: tf, probe: probe, names: names, backend: backend };
              stats.backend = backend;
              engine.textContent = 'Calcul : dans votre navigateur (TensorFlow.js, ' + backend + ', ' + Math.min(webgl, cpu).toFixed(1) + ' ms par image).';
              changed(performance.now());
            });
          });
        });
      })
      .catch(function (error) {
        engine.textContent = 'Calcul : sur le serveur (TensorFlow.js ne se charge pas : ' + error.message + ').';
      });
  }
  function computeHere(pixels, since) {
    var tf = local.tf;
    var started = performance.now();
    var photo = window.analyseImagePreprocess.preprocessPixels({ width: SIDE, height: SIDE, channels: 4, data: new Uint8Array(pixels.buffer) });
    var prepared = performance.now();
    var x = tf.tensor4d(photo.input, [1, 28, 28, 1]);
    var ys = local.probe.predict(x);
    return Promise.all(ys.map(function (y) { return y.data(); })).then(function (arrays) {
      tf.dispose([x].concat(ys));
      var layers = arrays.map(function (values, i) {
        var min = Infinity, max = -Infinity;
        for (var j = 0; j < values.length; j++) { if (values[j] < min) min = values[j]; if (values[j] > max) max = values[j]; }
        return { name: local.names[i], kind: config.layers[i].kind, shape: ys[i].shape.slice(1), min: min, max: max, values: values };
      });
      var probabilities = Array.from(arrays[arrays.length - 1]);
      var best = probabilities.indexOf(Math.max.apply(null, probabilities));
      var answer = { input: photo.input, layers: layers, probabilities: probabilities, classIndex: best, label: config.labels[best], timings: { prepareMs: prepared - started, modelMs: performance.now() - prepared } };
      render(answer);
      statusBox.textContent = '';
      statusBox.className = '';
      return new Promise(function (resolve) {
        requestAnimationFrame(function () {
          var done = performance.now();
          stats.updates.push({ latency: done - since, roundTrip: done - started, server: answer.timings, kind: 'dessin', where: 'navigateur' });
          if (stats.updates.length > 2000) stats.updates.shift();
          resolve();
        });
      });
    }).catch(function (error) {
      stats.errors++;
      statusBox.textContent = 'Erreur : ' + error.message;
      statusBox.className = 'error';
    });
  }

  // ---- drawing the layers ----------------------------------------------------------------------
  var inputCanvas = document.getElementById('input');
  function drawInput(values) {
    var image = inputCanvas.getContext('2d').createImageData(28, 28);
    for (var i = 0; i < 784; i++) {
      var g = Math.round(values[i] * 255);
      image.data[4 * i] = image.data[4 * i + 1] = image.data[4 * i + 2] = g;
      image.data[4 * i + 3] = 255;
    }
    inputCanvas.getContext('2d').putImageData(image, 0, 0);
  }
  var GAP = 2;
  function drawMaps(canvas, layer, values) {
    var h = layer.shape[0], w = layer.shape[1], c = layer.shape[2];
    var columns = c <= 8 ? c : c <= 32 ? 8 : 16;
    var rows = Math.ceil(c / columns);
    var width = columns * (w + GAP) - GAP, height = rows * (h + GAP) - GAP;
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
      var zoom = Math.max(1, Math.min(4, Math.floor(600 / width)));
      canvas.style.width = width * zoom + 'px';
    }
    var low = Math.min(0, layer.min), high = layer.max;
    var scale = high > low ? 255 / (high - low) : 0;
    var context = canvas.getContext('2d');
    var image = context.createImageData(width, height);
    for (var k = 0; k < c; k++) {
      var left = (k % columns) * (w + GAP), top = Math.floor(k / columns) * (h + GAP);
      for (var y = 0; y < h; y++) {
        for (var x = 0; x < w; x++) {
          var g = (values[(y * w + x) * c + k] - low) * scale;
          var at = 4 * ((top + y) * width + left + x);
          image.data[at] = image.data[at + 1] = image.data[at + 2] = g;
          image.data[at + 3] = 255;
        }
      }
    }
    context.putImageData(image, 0, 0);
  }
  function drawNeurons(canvas, layer, values) {
    var n = layer.shape[0];
    var columns = Math.min(n, 32), rows = Math.ceil(n / columns);
    if (canvas.width !== columns || canvas.height !== rows) {
      canvas.width = columns;
      canvas.height = rows;
      canvas.style.width = columns * 12 + 'px';
    }
    var low = Math.min(0, layer.min), high = layer.max;
    var scale = high > low ? 255 / (high - low) : 0;
    var context = canvas.getContext('2d');
    var image = context.createImageData(columns, rows);
    for (var i = 0; i < columns * rows; i++) {
      var g = i < n ? (values[i] - low) * scale : 34;
      image.data[4 * i] = image.data[4 * i + 1] = image.data[4 * i + 2] = g;
      image.data[4 * i + 3] = 255;
    }
    context.putImageData(image, 0, 0);
  }
  var bars = document.getElementById('probabilities');
  var barItems = config.labels.map(function (label) {
    var item = document.createElement('li');
    item.innerHTML = '<span class="name"></span><span class="bar" aria-hidden="true"></span><span class="value"></span>';
    item.querySelector('.name').textContent = label;
    if (bars) bars.appendChild(item);
    return item;
  });
  var sections = document.querySelectorAll('#layers .layer');
  var announcer = document.createElement('p');
  announcer.className = 'visually-hidden';
  announcer.setAttribute('aria-live', 'polite');
  announcer.style.cssText = 'position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)';
  document.body.appendChild(announcer);

  function render(answer) {
    var input = answer.input;
    drawInput(input);
    var sums = [];
    answer.layers.forEach(function (layer, i) {
      var values = layer.values;
      var sum = 0;
      for (var j = 0; j < values.length; j++) sum += values[j];
      sums.push(sum);
      var canvas = sections[i] && sections[i].querySelector('canvas');
      if (!canvas) return;
      if (layer.shape.length === 3) drawMaps(canvas, layer, values);
      else drawNeurons(canvas, layer, values);
    });
    var best = answer.classIndex;
    answer.probabilities.forEach(function (p, i) {
      var item = barItems[i];
      if (!item) return;
      item.className = i === best ? 'best' : '';
      item.querySelector('.bar').style.width = Math.max(0.2, p * 100) + '%';
      item.querySelector('.value').textContent = percent(p);
    });
    var sentence = "Selon moi l'image est : " + answer.label + ' (' + percent(answer.probabilities[best]) + ')';
    verdict.textContent = sentence;
    // Not at every point of a stroke: once it is over (announceWhenIdle).
    if (announceSoon && !stroking && !pen.down) { announcer.textContent = sentence; announceSoon = false; }
    stats.last = { input: Array.from(input), probabilities: answer.probabilities, classIndex: best, label: answer.label, layerSums: sums };
  }

  // The model's answer for the empty drawing, so every layer shows something from the start (from the
  // server: TensorFlow.js takes a moment to load, then takes over).
  changed(performance.now());
  startLocal();
})();
