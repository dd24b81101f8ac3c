// The image page's annotation editor. It is a client of the developer API like the SDK: it
// reads and saves the image's annotations at $P/annotations/{dataset}/{path} (with the version
// it read in If-Match, so it never overwrites someone else's later save), the dataset's classes
// at $P/datasets/{id} (new classes with a three-way merge: classes_base) and tags through
// $P/images/bulk-tag, with the session cookie and the page's X-CSRF-Token. It draws with the
// vendored Konva; every coordinate it keeps is in the original image's pixels, whatever the
// zoom (it draws the 1280 px preview stretched to the original's size). Class names reach the
// DOM only through textContent.
(() => {
  "use strict";
  const root = document.getElementById("editor");
  if (!root || typeof Konva === "undefined") return;
  const W = Number(root.dataset.width);
  const H = Number(root.dataset.height);
  if (!(W > 0 && H > 0)) return;

  const API = "/api/v1/developer";
  const mayEdit = root.dataset.mayEdit === "yes";
  const datasetUrl = `${API}/datasets/${encodeURIComponent(root.dataset.dataset)}`;
  const annotationsUrl = `${API}/annotations/${encodeURIComponent(root.dataset.dataset)}/${root.dataset.path}`;
  const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute("content") || "";
  const KNOWN = ["bbox", "polygon", "polyline", "keypoint"];
  const PALETTE = ["#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#46f0f0", "#f032e6"];
  const HEX = /^#[0-9a-fA-F]{6}$/;
  const MIN_SIDE = 1; // pixels of the original: a smaller box is a click, not a box

  const stageBox = root.querySelector(".stage");
  const statusLine = root.querySelector(".editor-status");
  const toolbar = root.querySelector(".toolbar");
  const classPanel = document.querySelector(".class-panel");
  const classList = document.querySelector(".class-list");
  const help = document.getElementById("editor-help");

  // ---- state -------------------------------------------------------------------------------
  let classes = [];
  let shapes = [];
  let version = null; // the ETag of what we last read or saved
  let current = 0; // index of the class new shapes get
  let selectedId = null;
  let selectedVertex = null;
  let tool = "select";
  let lastDrawTool = "box";
  let labelsShown = true;
  let history = [];
  let future = [];
  let savedState = "[]";
  let saving = false;
  let conflict = false;
  let drawing = null;
  let spaceHeld = false;
  let pan = null;
  let fitScale = 1;

  // ---- the API -----------------------------------------------------------------------------
  async function api(method, url, body, headers = {}) {
    const init = { method, credentials: "same-origin", headers: { Accept: "application/json", ...headers } };
    if (method !== "GET" && csrf) init.headers["X-CSRF-Token"] = csrf;
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(url, init);
    } catch (_) {
      throw Object.assign(new Error("the server could not be reached"), { status: 0 });
    }
    let payload = null;
    try {
      payload = await response.json();
    } catch (_) {
      payload = null;
    }
    if (!response.ok) {
      const error = payload && payload.error ? payload.error : {};
      const message = error.message || `the server answered ${response.status}`;
      throw Object.assign(new Error(message), { status: response.status, code: error.code });
    }
    return { payload, etag: response.headers.get("ETag") };
  }

  // ---- shapes: the wire format <-> what the editor edits -----------------------------------
  const newId = () => (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`);
  const round = (v) => Math.round(v * 100) / 100;
  const clampX = (v) => Math.min(W, Math.max(0, v));
  const clampY = (v) => Math.min(H, Math.max(0, v));
  const point = (p) => ({ x: round(clampX(p.x)), y: round(clampY(p.y)) });

  function fromWire(item) {
    const shape = { id: String(item.id || newId()), name: item.name, type: item.type, raw: item };
    try {
      if (item.type === "bbox") shape.box = { ...item.bounding_box };
      else if (item.type === "polygon") shape.points = item.polygon.paths[0].map((p) => ({ x: p.x, y: p.y }));
      else if (item.type === "polyline") shape.points = item.polyline.path.map((p) => ({ x: p.x, y: p.y }));
      else if (item.type === "keypoint") shape.point = { ...item.keypoint };
      else shape.opaque = true;
    } catch (_) {
      shape.opaque = true; // kept as it came, never drawn
    }
    return shape;
  }

  function toWire(shape) {
    if (shape.opaque) return shape.raw;
    const item = { ...(shape.raw || {}), id: shape.id, name: shape.name, type: shape.type };
    for (const key of ["bounding_box", "polygon", "polyline", "keypoint"]) delete item[key];
    if (shape.edited) delete item.oriented_box;
    if (shape.type === "bbox") {
      const b = shape.box;
      item.bounding_box = { x: round(b.x), y: round(b.y), w: round(b.w), h: round(b.h) };
    } else if (shape.type === "polygon") {
      const others = shape.raw && shape.raw.polygon ? shape.raw.polygon.paths.slice(1) : [];
      item.polygon = { paths: [shape.points.map(point), ...others] };
    } else if (shape.type === "polyline") {
      item.polyline = { path: shape.points.map(point) };
    } else {
      item.keypoint = point(shape.point);
    }
    return item;
  }

  const snapshot = () => JSON.stringify(shapes);
  const dirty = () => snapshot() !== savedState;
  const selected = () => shapes.find((s) => s.id === selectedId) || null;

  function change(edit) {
    const before = snapshot();
    edit();
    if (snapshot() === before) return;
    history.push(before);
    future = [];
    if (statusLine.dataset.kind === "note") statusLine.dataset.kind = "state";
    render();
  }

  function restore(from, to) {
    if (!from.length) return;
    to.push(snapshot());
    shapes = JSON.parse(from.pop());
    if (!selected()) selectedId = null;
    selectedVertex = null;
    render();
  }

  // ---- classes -----------------------------------------------------------------------------
  function colourOf(name) {
    const index = classes.findIndex((c) => c.name === name);
    const colour = index >= 0 ? classes[index].color : null;
    if (colour && HEX.test(colour)) return colour;
    return index >= 0 ? PALETTE[index % PALETTE.length] : "#ffcc00";
  }

  function withAlpha(hex, alpha) {
    const n = parseInt(hex.slice(1), 16);
    return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
  }

  function renderClasses() {
    if (!classPanel || !classList) return;
    classPanel.hidden = false;
    const counts = {};
    for (const s of shapes) counts[s.name] = (counts[s.name] || 0) + 1;
    const items = classes.map((c, index) => {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "class-choice";
      button.setAttribute("aria-pressed", String(index === current));
      button.dataset.index = String(index);
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.backgroundColor = colourOf(c.name);
      const key = document.createElement("kbd");
      key.textContent = index < 9 ? String(index + 1) : "";
      const name = document.createElement("span");
      name.className = "class-name";
      name.textContent = c.name;
      const kind = document.createElement("span");
      kind.className = "class-type muted small";
      kind.textContent = c.type || "";
      const count = document.createElement("span");
      count.className = "class-count muted small";
      count.textContent = counts[c.name] ? String(counts[c.name]) : "";
      button.append(swatch, key, name, kind, count);
      button.addEventListener("click", () => chooseClass(index));
      li.append(button);
      return li;
    });
    classList.replaceChildren(...items);
    if (!classes.length) {
      const li = document.createElement("li");
      li.className = "muted small";
      li.textContent = mayEdit ? "No classes yet: add one to start labelling." : "No classes.";
      classList.append(li);
    }
  }

  function chooseClass(index) {
    if (index < 0 || index >= classes.length) return;
    current = index;
    const shape = selected();
    if (shape && mayEdit && shape.name !== classes[index].name) {
      change(() => {
        shape.name = classes[index].name;
      });
    } else {
      render();
    }
  }

  async function loadClasses() {
    const { payload } = await api("GET", datasetUrl);
    classes = (payload.data && payload.data.classes) || [];
    current = Math.min(current, Math.max(classes.length - 1, 0));
  }

  async function createClass(form) {
    const name = form.elements.name.value.trim();
    const type = form.elements.type.value;
    if (!name) return;
    try {
      const { payload } = await api("GET", datasetUrl);
      const base = payload.data.classes || [];
      if (!base.some((c) => c.name === name)) {
        const answer = await api("PATCH", datasetUrl, { classes: [...base, { name, type }], classes_base: base });
        classes = answer.payload.data.classes || [];
      } else {
        classes = base;
      }
      form.reset();
      chooseClass(classes.findIndex((c) => c.name === name));
      say(`Class “${name}” is ready.`, "note");
    } catch (error) {
      say(`The class was not created: ${error.message}`, "error");
    }
  }

  // ---- the stage ---------------------------------------------------------------------------
  const fallback = [...stageBox.children];
  const holder = document.createElement("div");
  holder.className = "canvas";
  stageBox.append(holder);
  for (const node of fallback) node.hidden = true;
  const stage = new Konva.Stage({ container: holder, width: stageBox.clientWidth || 600, height: 400 });
  const imageLayer = new Konva.Layer({ listening: false });
  const shapeLayer = new Konva.Layer();
  const uiLayer = new Konva.Layer();
  stage.add(imageLayer, shapeLayer, uiLayer);
  const picture = new Konva.Image({ x: 0, y: 0, width: W, height: H });
  imageLayer.add(new Konva.Rect({ x: 0, y: 0, width: W, height: H, fill: "#eef0f3" }), picture);
  const transformer = new Konva.Transformer({
    rotateEnabled: false,
    keepRatio: false,
    flipEnabled: false,
    ignoreStroke: true,
    anchorSize: 9,
    boundBoxFunc: (oldBox, newBox) => (Math.abs(newBox.width) < 2 || Math.abs(newBox.height) < 2 ? oldBox : newBox),
  });
  uiLayer.add(transformer);
  const preview = new Image();
  preview.onload = () => {
    picture.image(preview);
    imageLayer.batchDraw();
    root.dataset.ready = "yes";
  };
  preview.src = `/images/${encodeURIComponent(root.dataset.image)}/preview`;

  const scale = () => stage.scaleX();
  const pointer = () => shapeLayer.getRelativePointerPosition();

  function size() {
    const width = stageBox.clientWidth || 600;
    const height = Math.max(240, Math.min(window.innerHeight * 0.75, (width * H) / W));
    stage.size({ width, height });
  }

  function fit() {
    size();
    fitScale = Math.min(stage.width() / W, stage.height() / H);
    stage.scale({ x: fitScale, y: fitScale });
    stage.position({ x: (stage.width() - W * fitScale) / 2, y: (stage.height() - H * fitScale) / 2 });
    viewChanged();
  }

  function viewChanged() {
    root.dataset.view = [scale(), stage.x(), stage.y()].join(",");
    sharpen();
    render();
  }

  // Zoomed in past the preview's own pixels: draw from the original instead, once (a format the
  // browser cannot decode, e.g. HEIC, keeps the preview).
  let sharpened = false;
  function sharpen() {
    if (sharpened || !preview.naturalWidth || scale() * W <= preview.naturalWidth * 1.25) return;
    sharpened = true;
    const original = new Image();
    original.onload = () => {
      picture.image(original);
      imageLayer.batchDraw();
      root.dataset.source = "original";
    };
    original.src = `/images/${encodeURIComponent(root.dataset.image)}/file`;
  }

  function zoomAt(screen, factor) {
    const old = scale();
    const next = Math.min(Math.max(old * factor, fitScale / 2), Math.max(fitScale * 64, 8));
    const world = { x: (screen.x - stage.x()) / old, y: (screen.y - stage.y()) / old };
    stage.scale({ x: next, y: next });
    stage.position({ x: screen.x - world.x * next, y: screen.y - world.y * next });
    viewChanged();
  }

  stage.on("wheel", (e) => {
    e.evt.preventDefault();
    zoomAt(stage.getPointerPosition(), e.evt.deltaY < 0 ? 1.15 : 1 / 1.15);
  });

  // ---- drawing the shapes ------------------------------------------------------------------
  function label(shape, x, y, colour) {
    const s = scale();
    const tag = new Konva.Label({ x, y, listening: false });
    tag.add(new Konva.Tag({ fill: colour, cornerRadius: 2 / s, pointerDirection: "down", pointerWidth: 0, pointerHeight: 0 }));
    tag.add(new Konva.Text({ text: shape.name, fontSize: 13 / s, padding: 3 / s, fill: "#111", fontFamily: "system-ui, sans-serif" }));
    tag.y(Math.max(0, y - tag.height()));
    return tag;
  }

  function render() {
    shapeLayer.destroyChildren();
    transformer.nodes([]);
    shapeLayer.listening(tool === "select");
    const s = scale();
    if (labelsShown) {
      for (const shape of shapes) {
        if (!shape.opaque) drawShape(shape, s);
      }
    }
    shapeLayer.batchDraw();
    uiLayer.batchDraw();
    renderClasses();
    showState();
  }

  function drawShape(shape, s) {
    const colour = colourOf(shape.name);
    const chosen = shape.id === selectedId;
    const editable = mayEdit && tool === "select";
    const stroke = { stroke: colour, strokeWidth: chosen ? 3 : 2, strokeScaleEnabled: false };
    let node;
    let at;
    if (shape.type === "bbox") {
      const b = shape.box;
      node = new Konva.Rect({ x: b.x, y: b.y, width: b.w, height: b.h, fill: withAlpha(colour, chosen ? 0.25 : 0.12), ...stroke, draggable: editable });
      node.on("dragend", () => change(() => moveBox(shape, node.x(), node.y())));
      node.on("transformend", () => change(() => resizeBox(shape, node)));
      at = { x: b.x, y: b.y };
    } else if (shape.type === "keypoint") {
      node = new Konva.Circle({ x: shape.point.x, y: shape.point.y, radius: 5 / s, fill: colour, ...stroke, stroke: "#fff", draggable: editable });
      node.on("dragend", () => change(() => {
        shape.point = point({ x: node.x(), y: node.y() });
      }));
      at = shape.point;
    } else {
      node = new Konva.Line({
        points: shape.points.flatMap((p) => [p.x, p.y]),
        closed: shape.type === "polygon",
        fill: shape.type === "polygon" ? withAlpha(colour, chosen ? 0.25 : 0.12) : undefined,
        hitStrokeWidth: 12,
        ...stroke,
        draggable: editable,
      });
      node.on("dragend", () => change(() => {
        const dx = node.x();
        const dy = node.y();
        shape.points = shape.points.map((p) => point({ x: p.x + dx, y: p.y + dy }));
        shape.edited = true;
      }));
      at = shape.points[0];
    }
    // Selecting redraws on click, not on pointerdown: redrawing destroys the node being dragged.
    // Only a click that changed the selection redraws (a double-click needs the same node twice).
    let newlySelected = false;
    node.on("pointerdown", (e) => {
      if (e.evt.button !== 0 || spaceHeld) return;
      e.cancelBubble = true;
      newlySelected = selectedId !== shape.id;
      if (newlySelected) {
        selectedId = shape.id;
        selectedVertex = null;
        const index = classes.findIndex((c) => c.name === shape.name);
        if (index >= 0) current = index;
      }
    });
    node.on("click tap", () => {
      if (newlySelected) render();
    });
    shapeLayer.add(node);
    shapeLayer.add(label(shape, at.x, at.y, colour));
    if (chosen && editable && shape.type === "bbox") transformer.nodes([node]);
    if (chosen && editable && shape.points) drawVertices(shape, node, colour, s);
  }

  function drawVertices(shape, line, colour, s) {
    shape.points.forEach((p, index) => {
      const handle = new Konva.Circle({
        x: p.x,
        y: p.y,
        radius: 5 / s,
        fill: index === selectedVertex ? colour : "#fff",
        stroke: colour,
        strokeWidth: 1.5,
        strokeScaleEnabled: false,
        draggable: true,
        name: "vertex",
      });
      handle.on("pointerdown", (e) => {
        e.cancelBubble = true;
        if (e.evt.altKey) {
          change(() => removeVertex(shape, index));
          return;
        }
        selectedVertex = index;
        shapeLayer.find(".vertex").forEach((other, at) => other.fill(at === index ? colour : "#fff"));
        shapeLayer.batchDraw();
      });
      handle.on("dragmove", () => {
        const flat = line.points().slice();
        flat[index * 2] = clampX(handle.x());
        flat[index * 2 + 1] = clampY(handle.y());
        line.points(flat);
      });
      handle.on("dragend", () => change(() => {
        shape.points[index] = point({ x: handle.x(), y: handle.y() });
        shape.edited = true;
      }));
      shapeLayer.add(handle);
    });
  }

  function moveBox(shape, x, y) {
    const b = shape.box;
    shape.box = { x: round(Math.min(Math.max(0, x), W - b.w)), y: round(Math.min(Math.max(0, y), H - b.h)), w: b.w, h: b.h };
    shape.edited = true;
  }

  function resizeBox(shape, node) {
    const x = clampX(node.x());
    const y = clampY(node.y());
    const right = clampX(node.x() + node.width() * node.scaleX());
    const bottom = clampY(node.y() + node.height() * node.scaleY());
    node.scale({ x: 1, y: 1 });
    if (right - x >= MIN_SIDE && bottom - y >= MIN_SIDE) {
      shape.box = { x: round(x), y: round(y), w: round(right - x), h: round(bottom - y) };
      shape.edited = true;
    }
  }

  // The edge of ``shape`` nearest to ``at``: [index of its first point, distance].
  function nearestEdge(shape, at) {
    const pts = shape.points;
    const segments = shape.type === "polygon" ? pts.length : pts.length - 1;
    let best = [0, Infinity];
    for (let i = 0; i < segments; i += 1) {
      const a = pts[i];
      const b = pts[(i + 1) % pts.length];
      const dx = b.x - a.x;
      const dy = b.y - a.y;
      const t = Math.max(0, Math.min(1, ((at.x - a.x) * dx + (at.y - a.y) * dy) / (dx * dx + dy * dy || 1)));
      const d = Math.hypot(a.x + t * dx - at.x, a.y + t * dy - at.y);
      if (d < best[1]) best = [i, d];
    }
    return best;
  }

  function insertVertex(shape, at) {
    const [edge] = nearestEdge(shape, at);
    shape.points.splice(edge + 1, 0, point(at));
    selectedVertex = edge + 1;
    shape.edited = true;
  }

  // A double-click on (or within 8 screen pixels of) a polygon's edge adds a vertex there. Read
  // from the DOM event: Konva's own needs both clicks on one node, and selecting redraws nodes.
  holder.addEventListener("dblclick", (evt) => {
    if (!mayEdit || tool !== "select" || !labelsShown) return;
    stage.setPointersPositions(evt);
    const at = pointer();
    let found = null;
    for (const shape of shapes) {
      if (!shape.points || shape.opaque) continue;
      const distance = nearestEdge(shape, at)[1] * scale();
      if (distance <= 8 && (!found || shape.id === selectedId || distance < found[1])) found = [shape, distance];
    }
    if (!found) return;
    selectedId = found[0].id;
    change(() => insertVertex(found[0], at));
  });

  function removeVertex(shape, index) {
    const least = shape.type === "polygon" ? 3 : 2;
    if (shape.points.length <= least) {
      say(`A ${shape.type} needs at least ${least} points: delete the shape instead.`, "error");
      return;
    }
    shape.points.splice(index, 1);
    selectedVertex = null;
    shape.edited = true;
  }

  // ---- drawing new shapes ------------------------------------------------------------------
  function currentClass() {
    if (!classes.length) {
      say("Add a class first: every shape needs one.", "error");
      return null;
    }
    return classes[current].name;
  }

  function drawPreview() {
    uiLayer.find(".draft").forEach((node) => node.destroy());
    if (!drawing) {
      uiLayer.batchDraw();
      return;
    }
    const colour = colourOf(drawing.name);
    const common = { name: "draft", stroke: colour, strokeWidth: 2, strokeScaleEnabled: false, dash: [6, 4], listening: false };
    if (drawing.kind === "box") {
      const b = boxOf(drawing.start, drawing.end);
      uiLayer.add(new Konva.Rect({ x: b.x, y: b.y, width: b.w, height: b.h, ...common }));
    } else {
      const pts = [...drawing.points, drawing.end].flatMap((p) => [p.x, p.y]);
      uiLayer.add(new Konva.Line({ points: pts, ...common }));
      const first = drawing.points[0];
      uiLayer.add(new Konva.Circle({ x: first.x, y: first.y, radius: 6 / scale(), ...common, dash: undefined, fill: "#fff" }));
    }
    uiLayer.batchDraw();
  }

  function boxOf(a, b) {
    const x = Math.min(a.x, b.x);
    const y = Math.min(a.y, b.y);
    return { x: round(x), y: round(y), w: round(Math.abs(a.x - b.x)), h: round(Math.abs(a.y - b.y)) };
  }

  function add(shape) {
    change(() => {
      shapes.push(shape);
    });
    selectedId = shape.id;
    selectedVertex = null;
    render();
  }

  function finishPolygon() {
    if (!drawing || drawing.kind !== "polygon") return;
    if (drawing.points.length < 3) {
      say("A polygon needs at least 3 points.", "error");
      return;
    }
    const shape = { id: newId(), name: drawing.name, type: "polygon", points: drawing.points.map(point) };
    drawing = null;
    drawPreview();
    add(shape);
    if (crossesItself(shape.points)) say("This polygon crosses itself: drag a vertex to untangle it.", "note");
  }

  // Whether two edges that do not share a vertex intersect (a polygon of n points has n edges).
  function crossesItself(pts) {
    const side = (a, b, c) => Math.sign((b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x));
    const n = pts.length;
    for (let i = 0; i < n; i += 1) {
      for (let j = i + 2; j < n; j += 1) {
        if (i === 0 && j === n - 1) continue; // adjacent through the closing edge
        const [a, b, c, d] = [pts[i], pts[(i + 1) % n], pts[j], pts[(j + 1) % n]];
        if (side(a, b, c) * side(a, b, d) < 0 && side(c, d, a) * side(c, d, b) < 0) return true;
      }
    }
    return false;
  }

  stage.on("pointerdown", (e) => {
    const evt = e.evt;
    if (e.target !== stage && evt.button === 0 && !spaceHeld) return; // a transformer's anchor
    if (evt.button === 1 || (evt.button === 0 && (spaceHeld || tool === "select"))) {
      pan = { x: evt.clientX, y: evt.clientY, sx: stage.x(), sy: stage.y() };
      if (tool === "select" && !spaceHeld && evt.button === 0 && selectedId !== null) {
        selectedId = null;
        selectedVertex = null;
        render();
      }
      return;
    }
    if (evt.button !== 0 || !mayEdit) return;
    const at = point(pointer());
    if (tool === "box") {
      const name = currentClass();
      if (name !== null) drawing = { kind: "box", name, start: at, end: at };
    } else if (tool === "point") {
      const name = currentClass();
      if (name !== null) add({ id: newId(), name, type: "keypoint", point: at });
    } else if (tool === "polygon") {
      if (!drawing) {
        const name = currentClass();
        if (name !== null) drawing = { kind: "polygon", name, points: [at], end: at };
      } else {
        const first = drawing.points[0];
        const near = Math.hypot(first.x - at.x, first.y - at.y) * scale() < 8;
        if (near && drawing.points.length >= 3) finishPolygon();
        else drawing.points.push(at);
      }
    }
    drawPreview();
  });

  stage.on("pointermove", () => {
    if (!drawing) return;
    drawing.end = point(pointer());
    drawPreview();
  });

  stage.on("pointerup", () => {
    if (!drawing || drawing.kind !== "box") return;
    const box = boxOf(drawing.start, point(pointer()));
    const name = drawing.name;
    drawing = null;
    drawPreview();
    if (box.w < MIN_SIDE || box.h < MIN_SIDE) {
      say("A box needs a width and a height: drag from one corner to the other.", "error");
      return;
    }
    add({ id: newId(), name, type: "bbox", box });
  });

  window.addEventListener("pointermove", (evt) => {
    if (!pan) return;
    stage.position({ x: pan.sx + evt.clientX - pan.x, y: pan.sy + evt.clientY - pan.y });
    root.dataset.view = [scale(), stage.x(), stage.y()].join(",");
    stage.batchDraw();
  });
  window.addEventListener("pointerup", () => {
    pan = null;
  });

  function setTool(name) {
    if (!mayEdit && name !== "select") return;
    tool = name;
    if (name !== "select") lastDrawTool = name;
    drawing = null;
    drawPreview();
    root.dataset.tool = name;
    for (const button of root.querySelectorAll("[data-tool]")) {
      button.setAttribute("aria-pressed", String(button.dataset.tool === name));
    }
    holder.classList.toggle("drawing", name !== "select");
    render();
  }

  // ---- saving ------------------------------------------------------------------------------
  function say(message, kind) {
    const text = document.createElement("span");
    text.textContent = message;
    statusLine.replaceChildren(text);
    statusLine.dataset.kind = kind;
    if (kind === "error") root.dataset.message = message;
  }

  function showState() {
    let state;
    if (!mayEdit) state = "read-only";
    else if (conflict) state = "conflict";
    else if (saving) state = "saving";
    else state = dirty() ? "unsaved" : "saved";
    root.dataset.state = state;
    const words = { "read-only": "Read only", saving: "Saving…", unsaved: "Unsaved changes", saved: "Saved" };
    const badge = toolbar && toolbar.querySelector("[data-action=save]");
    if (badge) badge.textContent = state === "unsaved" ? "Save*" : "Save";
    if (state in words && statusLine.dataset.kind !== "error" && statusLine.dataset.kind !== "note") {
      say(words[state], "state");
    }
  }

  async function save() {
    if (!mayEdit || saving) return false;
    if (conflict) return false;
    const state = snapshot();
    if (state === savedState) return true;
    saving = true;
    statusLine.dataset.kind = "state";
    showState();
    try {
      const headers = version ? { "If-Match": version } : {};
      const { etag } = await api("POST", annotationsUrl, { annotations: shapes.map(toWire) }, headers);
      version = etag;
      savedState = state;
      statusLine.dataset.kind = "state";
      delete root.dataset.message;
      return true;
    } catch (error) {
      if (error.status === 409 && error.code === "stale_version") showConflict(error.message);
      else say(`Not saved: ${error.message}`, "error");
      return false;
    } finally {
      saving = false;
      showState();
    }
  }

  function showConflict(message) {
    conflict = true;
    root.dataset.message = message;
    const text = document.createElement("span");
    text.textContent = `Not saved: ${message}`;
    const reload = document.createElement("button");
    reload.type = "button";
    reload.textContent = "Reload";
    reload.className = "reload";
    reload.addEventListener("click", () => loadAnnotations().catch((e) => say(e.message, "error")));
    const keep = document.createElement("button");
    keep.type = "button";
    keep.textContent = "Keep mine";
    keep.addEventListener("click", keepMine);
    statusLine.replaceChildren(text, reload, keep);
    statusLine.dataset.kind = "error";
  }

  async function keepMine() {
    const { etag } = await api("GET", annotationsUrl);
    version = etag;
    conflict = false;
    statusLine.dataset.kind = "state";
    await save();
  }

  async function loadAnnotations() {
    const { payload, etag } = await api("GET", annotationsUrl);
    shapes = (payload.annotations || []).map(fromWire);
    version = etag;
    savedState = snapshot();
    history = [];
    future = [];
    conflict = false;
    selectedId = null;
    selectedVertex = null;
    statusLine.dataset.kind = "state";
    delete root.dataset.message;
    render();
  }

  // ---- moving on ---------------------------------------------------------------------------
  async function go(rel) {
    const link = document.querySelector(`a[rel="${rel}"]`);
    if (!link) return;
    if (mayEdit && dirty() && !(await save())) return;
    window.location.assign(link.href);
  }

  window.addEventListener("beforeunload", (event) => {
    if (mayEdit && dirty()) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  // ---- the keyboard ------------------------------------------------------------------------
  function deleteSelection() {
    const shape = selected();
    if (!shape || !mayEdit) return;
    if (shape.points && selectedVertex !== null) {
      change(() => removeVertex(shape, selectedVertex));
      return;
    }
    change(() => {
      shapes = shapes.filter((s) => s !== shape);
    });
    selectedId = null;
    render();
  }

  function nudge(dx, dy) {
    const shape = selected();
    if (!shape) return;
    change(() => {
      if (shape.box) moveBox(shape, shape.box.x + dx, shape.box.y + dy);
      else if (shape.point) shape.point = point({ x: shape.point.x + dx, y: shape.point.y + dy });
      else shape.points = shape.points.map((p) => point({ x: p.x + dx, y: p.y + dy }));
      shape.edited = true;
    });
  }

  function toggleLabels() {
    labelsShown = !labelsShown;
    root.dataset.labels = labelsShown ? "shown" : "hidden";
    render();
  }

  function toggleHelp() {
    if (help.open) help.close();
    else help.showModal();
  }

  function handleKey(event) {
    const key = event.key;
    const ctrl = event.ctrlKey || event.metaKey;
    if (ctrl && key.toLowerCase() === "s") {
      save();
      return true;
    }
    if (ctrl && (key === "y" || (key.toLowerCase() === "z" && event.shiftKey))) {
      if (mayEdit) restore(future, history);
      return true;
    }
    if (ctrl && key.toLowerCase() === "z") {
      if (mayEdit) restore(history, future);
      return true;
    }
    if (ctrl || event.altKey) return false;
    if (key === "?") {
      toggleHelp();
      return true;
    }
    if (help.open) return false;
    const arrows = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    if (key in arrows) {
      if (selected() && mayEdit) {
        const step = event.shiftKey ? 10 : 1;
        nudge(arrows[key][0] * step, arrows[key][1] * step);
        return true;
      }
      if (key === "ArrowLeft" || key === "ArrowRight") {
        go(key === "ArrowLeft" ? "prev" : "next");
        return true;
      }
      return false;
    }
    if (/^[1-9]$/.test(key)) {
      chooseClass(Number(key) - 1);
      return true;
    }
    switch (key.toLowerCase()) {
      case "d":
        go("next");
        return true;
      case "a":
        go("prev");
        return true;
      case "h":
        toggleLabels();
        return true;
      case "0":
        fit();
        return true;
      case "c":
        if (classes.length) chooseClass((current + (event.shiftKey ? classes.length - 1 : 1)) % classes.length);
        return true;
      case "r":
        setTool("box");
        return true;
      case "p":
        setTool("polygon");
        return true;
      case "k":
        setTool("point");
        return true;
      case "v":
        setTool("select");
        return true;
      case "n":
        setTool(lastDrawTool);
        return true;
      case "escape":
        if (drawing) {
          drawing = null;
          drawPreview();
        } else if (selectedId !== null) {
          selectedId = null;
          selectedVertex = null;
          render();
        }
        return true;
      case "enter":
        if (drawing) {
          finishPolygon();
          return true;
        }
        return false;
      case "delete":
      case "backspace":
        if (drawing && drawing.kind === "polygon") {
          drawing.points.pop();
          if (!drawing.points.length) drawing = null;
          drawPreview();
        } else {
          deleteSelection();
        }
        return true;
      case " ":
        spaceHeld = true;
        holder.classList.add("panning");
        return true;
      default:
        return false;
    }
  }

  window.addEventListener(
    "keydown",
    (event) => {
      const target = event.target;
      if (target instanceof HTMLElement && target.closest("input, select, textarea, [contenteditable]")) return;
      if (handleKey(event)) event.preventDefault();
    },
    true,
  );
  window.addEventListener("keyup", (event) => {
    if (event.key === " ") {
      spaceHeld = false;
      holder.classList.remove("panning");
    }
  });

  // ---- tags --------------------------------------------------------------------------------
  function wireTags() {
    const list = document.querySelector(".tag-list");
    const form = document.querySelector(".new-tag");
    if (!list || !form) return;
    form.hidden = false;
    const addRemove = (li) => {
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "remove-tag";
      remove.textContent = "×";
      remove.setAttribute("aria-label", `remove tag ${li.dataset.tag}`);
      remove.addEventListener("click", async () => {
        try {
          await tag(li.dataset.tag, false);
          li.remove();
        } catch (error) {
          say(`The tag was not removed: ${error.message}`, "error");
        }
      });
      li.append(remove);
    };
    list.querySelectorAll("li").forEach(addRemove);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const value = form.elements.tag.value.trim();
      if (!value) return;
      try {
        await tag(value, true);
        if (![...list.children].some((li) => li.dataset.tag === value)) {
          const li = document.createElement("li");
          li.dataset.tag = value;
          const text = document.createElement("span");
          text.textContent = value;
          li.append(text);
          addRemove(li);
          list.append(li);
        }
        form.reset();
      } catch (error) {
        say(`The tag was not added: ${error.message}`, "error");
      }
    });
  }

  function tag(value, add) {
    const body = { dataset: root.dataset.dataset, image_ids: [root.dataset.image], tags: [value], add };
    return api("POST", `${API}/images/bulk-tag`, body);
  }

  // ---- start -------------------------------------------------------------------------------
  function wireToolbar() {
    if (!toolbar) return;
    toolbar.hidden = false;
    const actions = {
      undo: () => restore(history, future),
      redo: () => restore(future, history),
      delete: deleteSelection,
      save: () => save(),
      labels: toggleLabels,
      fit,
      help: toggleHelp,
    };
    toolbar.addEventListener("click", (event) => {
      const button = event.target instanceof Element ? event.target.closest("button") : null;
      if (!button) return;
      if (button.dataset.tool) setTool(button.dataset.tool);
      else if (actions[button.dataset.action]) actions[button.dataset.action]();
      button.blur();
    });
  }

  function prefetchNext() {
    const next = document.querySelector('a[rel="next"]');
    const id = next && new URL(next.href).pathname.split("/")[2];
    if (id) new Image().src = `/images/${encodeURIComponent(id)}/preview`;
  }

  async function start() {
    wireToolbar();
    if (mayEdit) wireTags();
    const form = document.querySelector("form.new-class");
    if (form) form.addEventListener("submit", (event) => {
      event.preventDefault();
      createClass(form);
    });
    window.addEventListener("resize", fit);
    setTool("select");
    fit();
    try {
      await Promise.all([loadClasses(), loadAnnotations()]);
    } catch (error) {
      say(`The labels could not be read: ${error.message}`, "error");
    }
    render();
    root.dataset.loaded = "yes";
    prefetchNext();
  }

  start();
})();
