/* prepcast · prototipo navegable del PREP.
 * Lee json/main.json (el único archivo mutable) y los archivos de datos que nombra.
 * Todo texto que viene de los datos se inserta con textContent, nunca como HTML.
 * Rutas (hash): #/E · #/E/<ambito>/<id> · …/seccion/<s> · …/seccion/<s>/casilla/<clave>
 *               #/E/entidad/<id> (proceso nacional: nación → entidad → distrito federal)
 *               #/E/acta/<clave> (fuera de catálogo) · #/bases · #/difusores
 * Firma: después de mostrar la vista, se comprueba json/main.json (Ed25519, llave de corte de un
 * llavero firmado por la llave raíz del instituto, que este código trae), el manifiesto contra su
 * digesto en main.json y cada archivo de datos cargado contra su SHA-256 en el manifiesto.
 */
"use strict";
(function () {
  var TIPOS = { B: "Básica", C: "Contigua", E: "Extraordinaria", S: "Especial",
    M: "Voto en el extranjero", A: "Voto anticipado", P: "Prisión preventiva" };
  var AMBITO = { distrito: "Distrito", municipio: "Municipio", entidad: "Entidad" };
  var CONTAB = { 0: "No contabilizada", 1: "Contabilizada", 2: "Fuera de catálogo" };
  var NUM = new Intl.NumberFormat("es-MX");
  var ESQUEMA = "prepcast.site/2"; /* versión de los datos que este código sabe leer */
  var RAIZ = "{{llave_raiz}}"; /* llave pública raíz del instituto (Ed25519, 32 bytes en base64) */
  var EJERCICIOS = { prueba: "PRUEBA — datos ficticios", simulacro: "SIMULACRO — datos ficticios" };
  var state = { main: null, proceso: null, cache: new Map(), bytes: new Map(), renderId: 0, lastHash: null, fallo: false,
    eleccion: null, entidades: null,
    firma: null };

  /* ---------- utilidades ---------- */
  function el(tag, attrs) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) return;
        if (k === "text") node.textContent = String(v);
        else if (k === "class") node.className = v;
        else node.setAttribute(k, v === true ? "" : String(v));
      });
    }
    for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  }
  function append(node, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { append(node, c); }); return; }
    node.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
  function num(n) { return typeof n === "number" ? NUM.format(n) : String(n); }
  /* Porcentaje truncado (no redondeado) a cuatro decimales, con aritmética entera exacta. */
  function pct(n, d) {
    if (!d) return "0.0000";
    var q = Math.floor((n * 1000000) / d);
    while (q * d > n * 1000000) q -= 1;
    while ((q + 1) * d <= n * 1000000) q += 1;
    var s = String(q);
    while (s.length < 5) s = "0" + s;
    return s.slice(0, -4) + "." + s.slice(-4);
  }
  function pctText(n, d) { return pct(n, d) + " %"; }
  /* 2024-06-02T21:05:33-06:00 -> 02/06/2024 21:05:33 (UTC-6), sin convertir de zona. */
  function hora(iso) {
    var m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}:\d{2}(?::\d{2})?)(?:\.\d+)?(Z|[+-]\d{2}:\d{2})?$/.exec(iso || "");
    if (!m) return iso ? iso : "Sin dato";
    var zona = "";
    if (m[5] === "Z") zona = " (UTC)";
    else if (m[5]) {
      var h = parseInt(m[5].slice(1, 3), 10), mm = m[5].slice(4, 6);
      zona = " (UTC" + m[5][0] + h + (mm !== "00" ? ":" + mm : "") + ")";
    }
    return m[3] + "/" + m[2] + "/" + m[1] + " " + m[4] + zona;
  }
  function safeUrl(u) { return /^https?:\/\//i.test(u || "") ? u : null; }
  function errorFirma(path) {
    var err = new Error(path + ": no coincide con la firma del instituto");
    err.firma = true;
    return err;
  }
  /* Un archivo de datos: se guardan sus bytes para comprobarlos contra el manifiesto. */
  function getJSON(path) {
    var f = state.firma;
    if (f && (f.todo || f.malos.has(path))) return Promise.reject(errorFirma(path));
    if (!state.cache.has(path)) {
      var p = fetch(path, { credentials: "same-origin" }).then(function (r) {
        if (!r.ok) throw new Error(path + ": HTTP " + r.status);
        return r.arrayBuffer();
      }).then(function (buf) {
        state.bytes.set(path, buf);
        if (state.firma && state.firma.estado === "ok") setTimeout(revisarArchivos, 0);
        return JSON.parse(new TextDecoder().decode(buf));
      });
      p.catch(function () { state.cache.delete(path); state.bytes.delete(path); });
      state.cache.set(path, p);
    }
    return state.cache.get(path);
  }
  /* Después del próximo cuadro pintado (lo que no debe retrasar la vista). */
  function despuesDePintar(fn) {
    requestAnimationFrame(function () { setTimeout(fn, 0); });
  }
  function pollSeconds() {
    var q = /[?&]poll=(\d+)/.exec(window.location.search);
    var s = q ? parseInt(q[1], 10) : parseInt(document.body.getAttribute("data-poll-seconds"), 10);
    return Math.max(1, s || 60);
  }
  function fetchMain() {
    return fetch("json/main.json?t=" + Date.now(), { cache: "no-store" }).then(function (r) {
      if (!r.ok) throw new Error("json/main.json: HTTP " + r.status);
      return r.json();
    });
  }

  /* ---------- firma del instituto (WebCrypto) ---------- */
  function deBase64(s) {
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function hexDe(buf) {
    var u = new Uint8Array(buf), s = "";
    for (var i = 0; i < u.length; i++) s += (u[i] < 16 ? "0" : "") + u[i].toString(16);
    return s;
  }
  function sha256(buf) { return crypto.subtle.digest("SHA-256", buf).then(hexDe); }
  /* JSON canónico, como prepcast.package.canonical_json: claves ordenadas, sin espacios, UTF-8,
   * solo enteros y cadenas. */
  function canonico(v) {
    if (Array.isArray(v)) return "[" + v.map(canonico).join(",") + "]";
    if (v !== null && typeof v === "object") {
      return "{" + Object.keys(v).sort().map(function (k) { return JSON.stringify(k) + ":" + canonico(v[k]); }).join(",") + "}";
    }
    if (typeof v === "number" && !Number.isInteger(v)) throw new Error("número no entero");
    return JSON.stringify(v);
  }
  function falla(motivo) { var e = new Error(motivo); e.noCoincide = true; return e; }
  /* ¿Alguna firma de doc.signatures, de la llave keyid, vale sobre canonico(doc.signed)? */
  function firmaVale(doc, keyid, crudo) {
    var firmas = Array.isArray(doc.signatures) ? doc.signatures.filter(function (f) { return f && f.keyid === keyid; }) : [];
    if (!firmas.length || !doc.signed || typeof doc.signed !== "object") return Promise.resolve(false);
    var datos = new TextEncoder().encode(canonico(doc.signed));
    return crypto.subtle.importKey("raw", crudo, { name: "Ed25519" }, false, ["verify"]).then(function (llave) {
      return Promise.all(firmas.map(function (f) {
        var sig;
        try { sig = deBase64(f.sig); } catch (_e) { return false; }
        return crypto.subtle.verify({ name: "Ed25519" }, llave, sig, datos);
      }));
    }).then(function (r) { return r.indexOf(true) >= 0; });
  }
  /* Para comprobar que este código y el de Python juzgan igual las mismas firmas (pruebas). */
  window.prepcastFirma = { canonico: canonico, vale: function (texto, keyid, llaveB64) {
    return firmaVale(JSON.parse(texto), keyid, deBase64(llaveB64));
  } };
  function traer(path) {
    return fetch(path, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error(path + ": HTTP " + r.status);
      return r.arrayBuffer();
    });
  }
  function leer(buf) { return JSON.parse(new TextDecoder().decode(buf)); }
  /* Comprueba un main.json: llavero (llave raíz), main.json (llave de corte), manifiesto (digesto).
   * Resuelve con {archivos, huella}; rechaza con noCoincide, o con otro error si no se pudo comprobar. */
  function comprobarMain(m) {
    if (!window.crypto || !crypto.subtle) return Promise.reject(new Error("sin WebCrypto"));
    if (!RAIZ || RAIZ.charAt(0) === "{") return Promise.reject(new Error("sin llave raíz"));
    var s = m.signed || {}, raiz = deBase64(RAIZ), raizId, man, llavero;
    if (typeof s.manifest !== "string" || !/^manifests\/[A-Za-z0-9_.-]+\.json$/.test(s.manifest)) return Promise.reject(falla("json/main.json no nombra un manifiesto"));
    return Promise.all([traer(s.manifest), sha256(raiz)]).then(function (r) {
      var buf = r[0];
      raizId = r[1].slice(0, 16);
      return sha256(buf).then(function (h) {
        if (h !== s.manifest_sha256) throw falla(s.manifest + " no coincide con su digesto en json/main.json");
        man = leer(buf);
        if (man.cut !== s.cut || man.proceso !== s.proceso || (man.ejercicio || "jornada") !== (s.ejercicio || "jornada")) {
          throw falla(s.manifest + " es de otro corte");
        }
        var ent = man.files && man.files[man.keyring];
        if (!ent) throw falla("el manifiesto no lista el llavero");
        return traer(man.keyring).then(function (kb) {
          return sha256(kb).then(function (kh) {
            if (kh !== ent.sha256) throw falla(man.keyring + " no coincide con el manifiesto");
            llavero = leer(kb);
          });
        });
      });
    }).then(function () {
      return firmaVale(llavero, raizId, raiz);
    }).then(function (ok) {
      if (!ok) throw falla("el llavero no está firmado por la llave raíz del instituto");
      var llave = (llavero.signed.keys || []).filter(function (k) { return k.keyid === man.keyid && k.status !== "revoked"; })[0];
      if (!llave) throw falla("json/main.json está firmado por una llave desconocida o revocada");
      return firmaVale(m, man.keyid, deBase64(llave.public));
    }).then(function (ok) {
      if (!ok) throw falla("la firma de json/main.json no es válida");
      return { archivos: man.files, huella: s.manifest_sha256 };
    });
  }
  function mostrarFirma() {
    var f = state.firma, pie = document.getElementById("firma"), alerta = document.getElementById("alerta-firma");
    var mal = f.todo || f.malos.size > 0;
    alerta.hidden = !mal;
    alerta.textContent = mal ? "Atención: estos datos no coinciden con la firma del instituto. No se muestran los archivos que no coinciden." : "";
    pie.className = "firma" + (mal ? " firma-mal" : f.estado === "ok" ? " firma-ok" : "");
    if (mal) pie.textContent = "Atención: estos datos no coinciden con la firma del instituto";
    else if (f.estado === "ok") {
      pie.textContent = "Firma del instituto verificada · corte " + f.corte + " · huella " + f.huella.slice(0, 16).replace(/(.{4})(?=.)/g, "$1 ");
    } else if (f.estado === "imposible") pie.textContent = "No se pudo comprobar la firma del instituto: " + f.motivo + ".";
    else pie.textContent = "Comprobando la firma del instituto…";
    document.body.setAttribute("data-firma", mal ? "no-coincide" : f.estado);
  }
  /* Cada archivo de datos cargado, contra su SHA-256 en el manifiesto del corte. */
  function revisarArchivos() {
    var f = state.firma;
    if (f.estado !== "ok") return Promise.resolve();
    var corte = f.corte, nuevos = [];
    state.bytes.forEach(function (buf, path) { if (!f.revisados.has(path)) nuevos.push([path, buf]); });
    if (!nuevos.length) return Promise.resolve();
    nuevos.forEach(function (x) { f.revisados.add(x[0]); });
    return Promise.all(nuevos.map(function (x) {
      var ent = f.archivos[x[0]];
      if (!ent || ent.size !== x[1].byteLength) return Promise.resolve([x[0], false]);
      return sha256(x[1]).then(function (h) { return [x[0], h === ent.sha256]; });
    })).then(function (rs) {
      if (state.firma !== f || f.corte !== corte) return;
      var malos = rs.filter(function (r) { return !r[1]; });
      malos.forEach(function (r) { f.malos.add(r[0]); state.cache.delete(r[0]); state.bytes.delete(r[0]); });
      window.__prepcastFirma.verificada = performance.now();
      mostrarFirma();
      if (malos.length) return render(true);
    });
  }
  /* Después de mostrar la vista: la firma de este corte y los archivos ya cargados. */
  function firmaNueva(corte) {
    return { estado: "pendiente", corte: corte, archivos: null, huella: "", revisados: new Set(), malos: new Set(), todo: false };
  }
  function verificarCorte(m) {
    var f = state.firma;
    if (state.main !== m || f.estado !== "pendiente") return Promise.resolve(null);
    mostrarFirma();
    return comprobarMain(m).then(function (r) {
      if (state.firma !== f) return null;
      f.estado = "ok";
      f.archivos = r.archivos;
      f.huella = r.huella;
      return revisarArchivos().then(mostrarFirma);
    }, function (err) {
      if (state.firma !== f) return null;
      if (err && err.noCoincide) {
        f.estado = "no-coincide";
        f.todo = true;
        f.motivo = err.message;
        mostrarFirma();
        return render(true);
      }
      f.estado = "imposible";
      f.motivo = err && err.name === "NotSupportedError" ? "este navegador no permite comprobar firmas Ed25519"
        : err && err.message === "sin WebCrypto" ? "este navegador no ofrece criptografía en esta página (se requiere HTTPS)"
        : err && err.message === "sin llave raíz" ? "este sitio no trae la llave pública del instituto"
        : "no se pudieron descargar el manifiesto o el llavero del corte";
      if (window.console && console.warn) console.warn("firma: " + String(err));
      mostrarFirma();
      return null;
    });
  }

  /* ---------- datos del proceso ---------- */
  function eleccion(id) {
    var es = state.proceso.elecciones;
    for (var i = 0; i < es.length; i++) if (es[i].id === id) return es[i];
    return null;
  }
  function entidadPath(id) {
    var es = state.main.signed.data.elecciones;
    for (var i = 0; i < es.length; i++) if (es[i].id === id) return es[i].entidad;
    return null;
  }
  function partido(id) {
    var ps = state.proceso.partidos;
    for (var i = 0; i < ps.length; i++) if (ps[i].id === id) return ps[i];
    return null;
  }
  function columnaNombre(col) {
    if (col.tipo === "partido") { var p = partido(col.id); return p ? p.nombre : (col.nombre || col.id); }
    if (col.tipo === "no_registradas") return "Candidaturas no registradas";
    if (col.tipo === "nulos") return "Votos nulos";
    if (col.partidos && col.partidos.length > 1) return "Combinación " + col.partidos.join("-") + (col.nombre ? " (" + col.nombre + ")" : "");
    return col.nombre || col.id;
  }
  function textColor(hex) {
    var m = /^#?([0-9a-f]{6})$/i.exec(hex || "");
    if (!m) return "#000000";
    var lum = [0, 2, 4].map(function (i) {
      var c = parseInt(m[1].slice(i, i + 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    var L = 0.2126 * lum[0] + 0.7152 * lum[1] + 0.0722 * lum[2];
    return (L + 0.05) / 0.05 >= 1.05 / (L + 0.05) ? "#000000" : "#ffffff";
  }
  /* Emblema de texto: el nombre corto del partido sobre su color. */
  function emblema(pid) {
    var p = partido(pid);
    var span = el("span", { class: "emblema", text: pid, "aria-hidden": "true" });
    var color = p && /^#[0-9a-f]{6}$/i.test(p.color) ? p.color : "#666666";
    span.style.backgroundColor = color;
    span.style.color = textColor(color);
    return span;
  }
  function emblemas(col) {
    var ids = col.partidos && col.partidos.length ? col.partidos : [col.id];
    if (col.tipo === "nulos" || col.tipo === "no_registradas") return el("span", { class: "emblemas" });
    return el("span", { class: "emblemas" }, ids.map(emblema));
  }

  /* ---------- piezas de las vistas ---------- */
  function cifra(campo, etiqueta, valor, extra) {
    return el("div", { class: "cifra", "data-campo": campo },
      el("dt", { text: etiqueta }),
      el("dd", null, el("span", { class: "valor", text: valor }), extra ? el("span", { class: "extra", text: extra }) : null));
  }
  function cifras(t, ultimo) {
    var votosPart = ultimo ? t.total_votos : t.total_votos_sin_especiales;
    return el("dl", { class: "cifras" },
      cifra("esperadas", "Actas esperadas", num(t.esperadas)),
      cifra("capturadas", "Actas capturadas", num(t.capturadas), pctText(t.capturadas, t.esperadas)),
      cifra("contabilizadas", "Actas contabilizadas", num(t.contabilizadas), pctText(t.contabilizadas, t.esperadas)),
      cifra("participacion", "Participación ciudadana", pctText(votosPart, t.lista_nominal_contabilizadas)),
      cifra("lista_nominal_contabilizadas", "Lista nominal de actas contabilizadas", num(t.lista_nominal_contabilizadas)),
      cifra("total_votos", "Total de votos", num(t.total_votos)));
  }
  function tabla(caption, headers, rows, cls) {
    var thead = el("thead", null, el("tr", null, headers.map(function (h, i) {
      return el("th", { scope: "col", class: i > 0 && h.num ? "num" : null, text: h.text || h });
    })));
    var tbody = el("tbody", null, rows);
    return el("div", { class: "tabla" + (cls ? " " + cls : "") }, el("table", null, el("caption", { text: caption }), thead, tbody));
  }
  function fila(attrs, cells) {
    return el("tr", attrs, cells.map(function (c, i) {
      if (i === 0) return el("th", { scope: "row" }, c);
      return el("td", { class: typeof c === "string" && /^[\d,.\s%]+$/.test(c) ? "num" : null }, c);
    }));
  }
  function tablaVotos(e, totales, tipos, caption) {
    var rows = [];
    e.columnas.forEach(function (col, i) {
      if (tipos.indexOf(col.tipo) < 0) return;
      rows.push(fila({ "data-columna": col.id }, [
        el("span", { class: "partido" }, emblemas(col), el("span", { text: columnaNombre(col) })),
        num(totales.votos[i]), pctText(totales.votos[i], totales.total_votos)]));
    });
    if (!rows.length) return null;
    var barras = grafica(e.columnas.map(function (col, i) {
      return { nombre: columnaNombre(col), votos: totales.votos[i], colores: coloresColumnas(e, [col.id]), tipo: col.tipo };
    }).filter(function (it) { return tipos.indexOf(it.tipo) >= 0; }), totales.total_votos, caption.charAt(0).toLowerCase() + caption.slice(1));
    return [barras, tabla(caption, [{ text: "Opción" }, { text: "Votos", num: true }, { text: "Porcentaje", num: true }], rows, "votos")];
  }
  function votos(e, totales) {
    return [
      tablaVotos(e, totales, ["partido", "independiente"], "Votos por partido político y candidatura independiente"),
      tablaVotos(e, totales, ["coalicion", "comun"], "Votos por combinación de coalición o candidatura común"),
      tablaVotos(e, totales, ["no_registradas", "nulos"], "Candidaturas no registradas y votos nulos")];
  }
  function colsById(e) {
    var m = {};
    e.columnas.forEach(function (c) { m[c.id] = c; });
    return m;
  }
  function candEmblemas(e, columnas) {
    var by = colsById(e), seen = {}, ids = [];
    columnas.forEach(function (cid) {
      var col = by[cid] || { id: cid, partidos: [] };
      (col.partidos && col.partidos.length ? col.partidos : [cid]).forEach(function (p) {
        if (!seen[p]) { seen[p] = true; ids.push(p); }
      });
    });
    return el("span", { class: "emblemas" }, ids.map(emblema));
  }
  function tablaCandidaturas(e, cands, total, conSuplente) {
    if (!cands.length) return null;
    var rows = cands.map(function (c) {
      return fila({ "data-candidatura": c.columnas.join("+") }, [
        el("span", { class: "partido" }, candEmblemas(e, c.columnas), el("span", { class: "nombre", text: c.nombre }),
          conSuplente && c.suplente ? el("span", { class: "suplente", text: "Suplente: " + c.suplente }) : null),
        num(c.votos), pctText(c.votos, total)]);
    });
    var barras = grafica(cands.map(function (c) { return { nombre: c.nombre, votos: c.votos, colores: coloresColumnas(e, c.columnas) }; }), total, "votos por candidatura");
    return [barras, tabla("Votos por candidatura", [{ text: "Candidatura" }, { text: "Votos", num: true }, { text: "Porcentaje", num: true }], rows, "candidaturas")];
  }
  function migas(items) {
    return el("nav", { class: "migas", "aria-label": "Ruta de navegación" }, el("ol", null, items.map(function (it, i) {
      var last = i === items.length - 1;
      return el("li", null, last ? el("span", { "aria-current": "page", text: it[0] }) : el("a", { href: it[1], text: it[0] }));
    })));
  }
  function casillaNombre(tipo, numero, ext) {
    return (TIPOS[tipo] || tipo) + " " + numero + (ext ? " Ext. contigua " + ext : "");
  }
  function ambitoTitulo(e, amb) {
    var id = state.proceso.nacional ? amb.id % 100 : amb.id;
    return AMBITO[e.ambito] + " " + id + " · " + amb.nombre;
  }
  /* Sección: su número; en un proceso nacional, la clave es entidad·10000 + número. */
  function secTexto(s) {
    return state.proceso.nacional ? String(s % 10000) + " (" + entidadNombre(Math.floor(s / 10000)) + ")" : String(s);
  }
  function entidadNombre(id) { return (state.entidades && state.entidades[id]) || String(id); }
  /* Migas desde la elección; en un proceso nacional, con la entidad del distrito. */
  function raiz(e, amb) {
    var out = [[e.nombre, "#/" + e.id]];
    if (state.proceso.nacional && amb) {
      var ent = Math.floor(amb.id / 100);
      out.push([entidadNombre(ent), "#/" + e.id + "/entidad/" + ent]);
    }
    return out;
  }
  function ambitoRef(e, id) {
    for (var i = 0; i < e.ambitos.length; i++) if (e.ambitos[i].id === id) return e.ambitos[i];
    return null;
  }
  function entidadAmbito(ent, id) {
    for (var i = 0; i < ent.ambitos.length; i++) if (ent.ambitos[i].id === id) return ent.ambitos[i];
    return null;
  }
  function noEncontrado(que) {
    return [el("h1", { text: "No encontrado" }), el("p", { text: que + " no existe en este corte." }),
      el("p", null, el("a", { href: "#/", text: "Ir al inicio" }))];
  }

  /* ---------- vistas ---------- */
  function lider(a) {
    return a.lider ? el("span", { class: "partido" }, candEmblemas(state.eleccion, a.lider.columnas), el("span", { class: "nombre", text: a.lider.nombre })) : "Sin votos";
  }
  /* Proceso nacional: las entidades, cada una con sus distritos federales. */
  function vistaNacion(e, ent) {
    var base = "#/" + e.id;
    var rows = ent.entidades.map(function (x) {
      var t = x.totales;
      return fila({ "data-entidad": x.id }, [
        el("a", { href: base + "/entidad/" + x.id, text: x.nombre }),
        num(t.contabilizadas) + " de " + num(t.esperadas), pctText(t.contabilizadas, t.esperadas),
        lider(x), x.lider ? num(x.lider.votos) : "0"]);
    });
    return [
      migas([[e.nombre, base]]),
      el("h1", { text: e.nombre + " · " + state.proceso.entidad }),
      el("section", { "aria-label": "Avance de actas" }, cifras(ent.totales, ent.ultimo_corte)),
      el("figure", { class: "historial", "data-historial": e.id }),
      tablaCandidaturas(e, ent.candidaturas, ent.totales.total_votos, false),
      votos(e, ent.totales),
      tabla("Candidatura que encabeza por entidad",
        [{ text: "Entidad" }, { text: "Actas contabilizadas" }, { text: "Porcentaje", num: true }, { text: "Encabeza" }, { text: "Votos", num: true }],
        rows, "entidades")];
  }
  function vistaEntidadFederativa(e, ent, id) {
    var x = ent.entidades.filter(function (y) { return y.id === id; })[0];
    if (!x) return noEncontrado("La entidad " + id);
    var base = "#/" + e.id;
    var rows = ent.ambitos.filter(function (a) { return Math.floor(a.id / 100) === id; }).map(function (a) {
      var ref = ambitoRef(e, a.id), t = a.totales;
      return fila({ "data-ambito": a.id }, [
        el("a", { href: base + "/" + e.ambito + "/" + a.id, text: ambitoTitulo(e, ref || a) }),
        num(t.contabilizadas) + " de " + num(t.esperadas), pctText(t.contabilizadas, t.esperadas),
        lider(a), a.lider ? num(a.lider.votos) : "0"]);
    });
    return [
      migas([[e.nombre, base], [x.nombre, base + "/entidad/" + id]]),
      el("h1", { text: e.nombre + " · " + x.nombre }),
      el("section", { "aria-label": "Avance de actas" }, cifras(x.totales, ent.ultimo_corte)),
      tabla("Candidatura que encabeza por distrito federal",
        [{ text: "Distrito federal" }, { text: "Actas contabilizadas" }, { text: "Porcentaje", num: true }, { text: "Encabeza" }, { text: "Votos", num: true }],
        rows, "lideres")];
  }
  function vistaEntidad(e, ent) {
    if (ent.entidades) return vistaNacion(e, ent);
    var base = "#/" + e.id;
    var lideres = ent.ambitos.map(function (a) {
      var ref = ambitoRef(e, a.id), t = a.totales;
      return fila({ "data-ambito": a.id }, [
        el("a", { href: base + "/" + e.ambito + "/" + a.id, text: a.id + " · " + (ref ? ref.nombre : "") }),
        num(t.contabilizadas) + " de " + num(t.esperadas), pctText(t.contabilizadas, t.esperadas),
        a.lider ? el("span", { class: "partido" }, candEmblemas(e, a.lider.columnas), el("span", { class: "nombre", text: a.lider.nombre })) : "Sin votos",
        a.lider ? num(a.lider.votos) : "0"]);
    });
    var fuera = ent.fuera_catalogo.length ? tabla("Actas fuera de catálogo",
      [{ text: "Acta" }, { text: AMBITO[e.ambito] }],
      ent.fuera_catalogo.map(function (f) {
        return fila(null, [el("a", { href: base + "/acta/" + f.clave, text: f.clave }), f.ambito ? String(f.ambito) : "Sin dato"]);
      })) : null;
    return [
      migas([[e.nombre, base]]),
      el("h1", { text: e.nombre + " · " + state.proceso.entidad }),
      el("section", { "aria-label": "Avance de actas" }, cifras(ent.totales, ent.ultimo_corte)),
      el("figure", { class: "historial", "data-historial": e.id }),
      tablaCandidaturas(e, ent.candidaturas, ent.totales.total_votos, false),
      votos(e, ent.totales),
      tabla("Candidatura que encabeza por " + AMBITO[e.ambito].toLowerCase(),
        [{ text: AMBITO[e.ambito] }, { text: "Actas contabilizadas" }, { text: "Porcentaje", num: true }, { text: "Encabeza" }, { text: "Votos", num: true }],
        lideres, "lideres"),
      fuera];
  }
  function vistaAmbito(e, ent, amb, cat, res) {
    var base = "#/" + e.id + "/" + e.ambito + "/" + amb.id;
    var secs = seccionesDe(cat, res).map(function (t) {
      return fila({ "data-seccion": t.seccion }, [
        el("a", { href: base + "/seccion/" + t.seccion, text: "Sección " + secTexto(t.seccion) }),
        num(t.esperadas), num(t.capturadas), num(t.contabilizadas),
        pctText(ent.ultimo_corte ? t.total_votos : t.total_votos_sin_especiales, t.lista_nominal_contabilizadas),
        num(t.total_votos)]);
    });
    var idx = {};
    e.columnas.forEach(function (c, i) { idx[c.id] = i; });
    /* Votos por candidatura: la suma de las columnas registradas para cada persona. */
    var cands = cat.candidaturas.map(function (c) {
      var v = 0;
      c[2].forEach(function (cid) { if (cid in idx) v += res.totales.votos[idx[cid]]; });
      return { nombre: c[0], suplente: c[1], columnas: c[2], votos: v };
    }).sort(function (a, b) { return b.votos - a.votos || (a.nombre < b.nombre ? -1 : a.nombre > b.nombre ? 1 : 0); });
    return [
      migas(raiz(e, amb).concat([[ambitoTitulo(e, amb), base]])),
      el("h1", { text: ambitoTitulo(e, amb) }),
      el("section", { "aria-label": "Avance de actas" }, cifras(res.totales, ent.ultimo_corte)),
      tablaCandidaturas(e, cands, res.totales.total_votos, true),
      votos(e, res.totales),
      tabla("Secciones", [{ text: "Sección" }, { text: "Esperadas", num: true }, { text: "Capturadas", num: true },
        { text: "Contabilizadas", num: true }, { text: "Participación", num: true }, { text: "Total de votos", num: true }], secs, "secciones")];
  }
  /* Cifras de cada sección: lo fijo (catálogo) y lo de este corte (archivo del ámbito); sus
   * votos por columna están en el segmento del último corte que la tocó (t.corte). */
  function seccionesDe(cat, res) {
    var fijos = {}, out = [];
    cat.secciones.forEach(function (s) {
      var o = {}; cat.campos_seccion.forEach(function (k, j) { o[k] = s[j]; });
      fijos[o.seccion] = o;
    });
    res.secciones.forEach(function (s) {
      var t = {}; res.campos_seccion.forEach(function (k, j) { t[k] = s[j]; });
      var f = fijos[t.seccion] || { esperadas: 0, lista_nominal: 0 };
      t.esperadas = f.esperadas;
      t.lista_nominal = f.lista_nominal;
      out.push(t);
    });
    return out;
  }
  function seccionTotales(cat, res, seccion) {
    return seccionesDe(cat, res).filter(function (t) { return t.seccion === seccion; })[0] || null;
  }
  /* Segmento de un acta: el corte en que se registró y la partición de su ámbito. */
  function segmentoDe(ent, corte, ambitoId) {
    var n = Object.keys(ent.segmentos).filter(function (k) { return k.split("-")[0] === String(corte); }).length;
    return ent.segmentos[corte + "-" + (ambitoId % Math.max(n, 1))];
  }
  function casillasDe(cat, res, seccion) {
    var out = [], f = cat.campos_casilla;
    cat.casillas.forEach(function (c, i) {
      var o = {}; f.forEach(function (k, j) { o[k] = c[j]; });
      o.estado = res.casillas[i];
      if (seccion === null || o.seccion === seccion) out.push(o);
    });
    return out;
  }
  /* Un acta de un segmento: sus valores en el orden de campos_acta, bajo su clave. */
  function actaDe(seg, clave) {
    var v = seg.actas[clave];
    if (!v) return null;
    var o = { clave: clave };
    seg.campos_acta.forEach(function (k, j) { o[k] = v[j]; });
    return o;
  }
  function votosSeccion(e, ent, amb, t) {
    if (!t.corte) {
      t.votos = e.columnas.map(function () { return 0; });
      return Promise.resolve(t);
    }
    return getJSON(segmentoDe(ent, t.corte, amb.id)).then(function (seg) {
      var fig = seg.secciones[String(t.seccion)];
      t.votos = fig[seg.campos_seccion.indexOf("votos")];
      return t;
    });
  }
  function vistaSeccion(e, ent, amb, cat, res, seccion, t) {
    if (!t) return noEncontrado("La sección " + seccion);
    var base = "#/" + e.id + "/" + e.ambito + "/" + amb.id;
    var rows = casillasDe(cat, res, seccion).map(function (c) {
      var st = c.estado;
      return fila({ "data-casilla": c.clave }, [
        el("a", { href: base + "/seccion/" + seccion + "/casilla/" + c.clave, text: casillaNombre(c.tipo, c.numero, c.ext_contigua) }),
        num(c.lista_nominal), st ? "Capturada" : "Sin acta capturada", st ? CONTAB[st[1]] : "—"]);
    });
    return [
      migas(raiz(e, amb).concat([[ambitoTitulo(e, amb), base], ["Sección " + secTexto(seccion), base + "/seccion/" + seccion]])),
      el("h1", { text: "Sección " + secTexto(seccion) + " · " + ambitoTitulo(e, amb) }),
      el("section", { "aria-label": "Avance de actas" }, cifras(t, ent.ultimo_corte)),
      votos(e, t),
      tabla("Casillas de la sección", [{ text: "Casilla" }, { text: "Lista nominal", num: true }, { text: "Acta" }, { text: "Contabilización" }], rows, "casillas")];
  }
  // The database copies INE's codes and Python-list observaciones; the reader's page says them in words.
  var SIN_ACTA = { "1": "paquete no entregado", "2": "casilla no instalada", "3": "paquete entregado sin sobre" };
  var TRASLADO = { D: "Dispositivo de apoyo", F: "Centro de recepción y traslado fijo", I: "Centro de recepción y traslado itinerante" };
  var DIGITALIZACION = { ESCANER: "Escáner", MOVIL: "Aplicación para dispositivos móviles" };
  var ORIGEN = { CASILLA: "Casilla", CATD: "Centro de Acopio y Transmisión de Datos (CATD)" };
  function observacionesTexto(valor) {
    var texto = String(valor || "").trim();
    var lista = /^\[(.*)\]$/.exec(texto);
    var partes = [];
    if (lista) {
      var re = /'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"/g, m;
      while ((m = re.exec(lista[1])) !== null) partes.push(m[1] !== undefined ? m[1] : m[2]);
    } else if (texto) {
      partes = [texto];
    }
    partes = partes.map(function (p) {
      var sin = /^Sin acta\s*\((\d)\)$/i.exec(p);
      return sin && SIN_ACTA[sin[1]] ? "Sin acta (" + SIN_ACTA[sin[1]] + ")" : p;
    });
    return partes.length ? partes.join(", ") : "Ninguna";
  }
  function codigos(valor, nombres) {
    var texto = String(valor === null || valor === undefined ? "" : valor).trim();
    if (!texto) return "";
    return texto.split(/[\s,;|]+/).filter(Boolean).map(function (c) {
      return nombres[c.toUpperCase()] || c;
    }).join(", ");
  }
  function dato(campo, etiqueta, valor) {
    return el("div", { class: "dato", "data-campo": campo }, el("dt", { text: etiqueta }), el("dd", { text: valor === "" || valor === null || valor === undefined ? "Sin dato" : valor }));
  }
  function vistaActa(e, acta, info, migasItems) {
    var cuerpo = [migas(migasItems)];
    cuerpo.push(el("h1", { text: "Acta · " + info.titulo }));
    if (!acta) {
      cuerpo.push(el("p", { class: "nota", text: "El acta de esta casilla aún no se ha capturado." }));
      if (info.lista_nominal !== undefined) cuerpo.push(el("dl", { class: "datos" }, dato("lista_nominal", "Lista nominal", num(info.lista_nominal))));
      return cuerpo;
    }
    var img = safeUrl(state.proceso.image_base_url);
    var imagen = acta.codigo_integridad && img
      ? el("p", { class: "imagen" }, el("a", { href: img.replace(/\/+$/, "") + "/" + acta.codigo_integridad + ".png", rel: "noopener noreferrer", target: "_blank", text: "Ver la imagen del acta (se abre en otra pestaña)" }))
      : el("p", { class: "nota", text: "Imagen del acta no disponible." });
    cuerpo.push(el("dl", { class: "datos" },
      dato("clave", "Clave de casilla", acta.clave),
      dato("estado", "Estado del acta", acta.estado === "sin_acta" ? "Sin acta" : acta.estado === "fuera_catalogo" ? "Fuera de catálogo" : "Capturada"),
      dato("contabilizada", "Contabilizada", CONTAB[acta.contabilizada]),
      dato("observaciones", "Observaciones", observacionesTexto(acta.observaciones)),
      dato("lista_nominal", "Lista nominal", num(acta.lista_nominal)),
      dato("representantes", "Representantes de partidos y candidaturas independientes", num(acta.representantes)),
      dato("total_boletas_sobrantes", "Boletas sobrantes", num(acta.total_boletas_sobrantes)),
      dato("total_personas_votaron", "Personas que votaron", num(acta.total_personas_votaron)),
      dato("total_rep_partido_ci_votaron", "Representantes que votaron", num(acta.total_rep_partido_ci_votaron)),
      dato("total_votos_sacados", "Votos sacados de las urnas", num(acta.total_votos_sacados)),
      dato("total_votos_asentado", "Total de votos asentado", num(acta.total_votos_asentado)),
      dato("total_votos_calculado", "Total de votos calculado", num(acta.total_votos_calculado)),
      dato("mecanismos_traslado", "Mecanismos de traslado", codigos(acta.mecanismos_traslado, TRASLADO)),
      dato("acopio", "Fecha y hora de acopio", hora(acta.acopio)),
      dato("captura", "Fecha y hora de captura", hora(acta.captura)),
      dato("verificacion", "Fecha y hora de verificación", hora(acta.verificacion)),
      dato("registro", "Registro en el sistema", hora(acta.registro)),
      dato("origen", "Origen", codigos(acta.origen, ORIGEN)),
      dato("digitalizacion", "Digitalización", codigos(acta.digitalizacion, DIGITALIZACION)),
      dato("tipo_documento", "Tipo de documento", acta.tipo_documento),
      dato("cotejada", "Cotejada", acta.cotejada === 1 ? "Sí" : acta.cotejada === 0 ? "No" : "Sin dato"),
      dato("codigo_integridad", "Código de integridad (SHA-256 de la imagen)", acta.codigo_integridad)));
    cuerpo.push(imagen);
    var rows = e.columnas.map(function (col, i) {
      var v = acta.votos[i];
      return fila({ "data-columna": col.id }, [
        el("span", { class: "partido" }, emblemas(col), el("span", { text: columnaNombre(col) })), num(v === undefined ? "Sin dato" : v)]);
    });
    cuerpo.push(tabla("Votos asentados en el acta", [{ text: "Opción" }, { text: "Votos", num: true }], rows, "votos-acta"));
    return cuerpo;
  }
  function vistaBases(bases) {
    var rows = bases.bases.map(function (b) {
      return fila({ "data-base": b.nombre }, [el("a", { href: b.ruta, download: b.nombre, text: b.nombre }),
        el("code", { class: "sha", text: b.sha256 }), num(b.bytes) + " bytes"]);
    });
    return [
      migas([["Base de datos", "#/bases"]]),
      el("h1", { text: "Base de datos" }),
      el("p", { text: "Bases de datos del corte " + bases.corte + " (" + bases.corte_hora + "). Verifique cada archivo con su SHA-256." }),
      tabla("Archivos de la base de datos", [{ text: "Archivo" }, { text: "SHA-256" }, { text: "Tamaño" }], rows, "bases"),
      bases.bases.map(function (b) {
        return [el("h2", { text: "LEEME · " + b.nombre }),
          b.leeme ? el("pre", { class: "leeme", tabindex: "0", "aria-label": "LEEME de " + b.nombre, text: b.leeme }) : el("p", { text: "Este archivo no trae LEEME." })];
      })];
  }
  function vistaDifusores(dif) {
    var items = dif.difusores.map(function (d) {
      var nombre = d.nombre || d.name || d.id || "Difusor";
      var url = safeUrl(d.url || d.sitio || d.site || "");
      /* El logotipo (SVG depurado por el instituto, como data:) es la liga al sitio del difusor. */
      var logo = /^data:image\/svg\+xml;base64,/.test(d.logo || "") ? el("img", { class: "logo", src: d.logo, alt: nombre }) : null;
      var liga = url ? el("a", { href: url, rel: "noopener noreferrer", target: "_blank" }, logo || nombre) : el("span", { text: nombre });
      return el("li", { "data-difusor": nombre }, liga, logo ? el("span", { class: "nombre", text: " " + nombre }) : null,
        url ? el("span", { class: "url", text: " " + url }) : null);
    });
    return [
      migas([["Difusores oficiales", "#/difusores"]]),
      el("h1", { text: "Difusores oficiales" }),
      items.length ? el("ul", { class: "difusores" }, items) : el("p", { text: "Aún no hay difusores registrados." })];
  }

  /* ---------- gráficas ---------- */
  function colorPartido(pid) {
    var p = partido(pid);
    return p && /^#[0-9a-f]{6}$/i.test(p.color) ? p.color : "#666666";
  }
  function coloresColumnas(e, columnas) {
    var by = colsById(e), out = [];
    columnas.forEach(function (cid) {
      var col = by[cid] || { id: cid, partidos: [] };
      if (col.tipo === "nulos" || col.tipo === "no_registradas") { out.push("#8a8a8a"); return; }
      (col.partidos && col.partidos.length ? col.partidos : [cid]).forEach(function (p) {
        var c = colorPartido(p);
        if (out.indexOf(c) < 0) out.push(c);
      });
    });
    return out.length ? out : ["#666666"];
  }
  /* Barras horizontales de las opciones de una tabla de votos, la que encabeza primero, con los
   * votos y el porcentaje truncado de la tabla. Se describe en una oración; la tabla sigue debajo. */
  function grafica(items, total, que) {
    items = items.slice().sort(function (a, b) { return b.votos - a.votos; });
    if (!items.length || !total) return null;
    var max = Math.max(1, items[0].votos);
    var partes = items.slice(0, 3).map(function (it) { return it.nombre + " con " + num(it.votos) + " votos (" + pctText(it.votos, total) + ")"; });
    var frase = "Gráfica de " + que + ": encabeza " + partes[0] +
      (partes.length > 1 ? "; le sigue" + (partes.length > 2 ? "n " : " ") + partes.slice(1).join(" y ") : "") +
      (items.length > 3 ? "; " + (items.length - 3) + " opciones más en la tabla" : "") + ".";
    return el("div", { class: "grafica", role: "img", "aria-label": frase },
      items.map(function (it) {
        var barra = el("span", { class: "barra" });
        barra.style.width = (100 * it.votos / max).toFixed(2) + "%";
        var c = it.colores;
        if (c.length === 1) barra.style.background = c[0];
        else barra.style.background = "linear-gradient(90deg, " + c.map(function (x, i) {
          return x + " " + (100 * i / c.length).toFixed(1) + "% " + (100 * (i + 1) / c.length).toFixed(1) + "%";
        }).join(", ") + ")";
        return el("div", { class: "barra-fila", "aria-hidden": "true" },
          el("span", { class: "barra-nombre", text: it.nombre }),
          el("span", { class: "barra-pista" }, barra),
          el("span", { class: "barra-cifra", text: num(it.votos) + " · " + pctText(it.votos, total) }));
      }));
  }
  /* Avance de la noche (entidad): actas contabilizadas y participación por corte, en SVG. */
  var SVG = "http://www.w3.org/2000/svg";
  function svg(tag, attrs) {
    var n = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { n.setAttribute(k, String(attrs[k])); });
    return n;
  }
  function horaCorta(iso) { var m = /T(\d{2}:\d{2})/.exec(iso || ""); return m ? m[1] : ""; }
  function pctNum(n, d) { return d ? (100 * n) / d : 0; }
  function dibujarHistorial(fig, hist, eid) {
    var rows = (hist.elecciones || {})[eid] || [], k = {};
    (hist.campos || []).forEach(function (c, i) { k[c] = i; });
    if (!rows.length) { fig.remove(); return; }
    var series = [
      { clase: "serie-actas", nombre: "Actas contabilizadas", v: rows.map(function (r) { return pctNum(r[k.contabilizadas], r[k.esperadas]); }),
        t: rows.map(function (r) { return pctText(r[k.contabilizadas], r[k.esperadas]); }) },
      { clase: "serie-participacion", nombre: "Participación ciudadana", v: rows.map(function (r) { return pctNum(r[k.votos_participacion], r[k.lista_nominal_contabilizadas]); }),
        t: rows.map(function (r) { return pctText(r[k.votos_participacion], r[k.lista_nominal_contabilizadas]); }) }];
    /* El ancho del dibujo es el del contenedor: el texto de los ejes queda a 12 px en 360 px y en 1280 px. */
    var W = Math.round(Math.max(300, Math.min(960, (fig.parentNode && fig.parentNode.clientWidth - 24) || 640))), H = 220, L = 44, R = 12, T = 12, B = 34, n = rows.length;
    var x = function (i) { return L + (n === 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (n - 1)); };
    var y = function (v) { return T + (H - T - B) * (1 - Math.min(100, Math.max(0, v)) / 100); };
    var g = svg("svg", { viewBox: "0 0 " + W + " " + H, class: "historial-svg", "aria-hidden": "true", focusable: "false" });
    [0, 25, 50, 75, 100].forEach(function (v) {
      g.appendChild(svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "rejilla" }));
      var t = svg("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", class: "eje" }); t.textContent = v + " %"; g.appendChild(t);
    });
    var paso = Math.max(1, Math.ceil(n / 8));
    rows.forEach(function (r, i) {
      if (i % paso && i !== n - 1) return;
      var t = svg("text", { x: x(i), y: H - 12, "text-anchor": "middle", class: "eje" }); t.textContent = horaCorta(r[k.hora]); g.appendChild(t);
    });
    series.forEach(function (s) {
      g.appendChild(svg("polyline", { points: s.v.map(function (v, i) { return x(i).toFixed(1) + "," + y(v).toFixed(1); }).join(" "), class: s.clase }));
      s.v.forEach(function (v, i) { g.appendChild(svg("circle", { cx: x(i).toFixed(1), cy: y(v).toFixed(1), r: 3, class: s.clase })); });
    });
    var a = rows[0], z = rows[n - 1];
    var frase = n === 1
      ? "Avance en el corte " + a[k.corte] + " (" + horaCorta(a[k.hora]) + "): actas contabilizadas " + series[0].t[0] + ", participación " + series[1].t[0] + "."
      : "Del corte " + a[k.corte] + " (" + horaCorta(a[k.hora]) + ") al corte " + z[k.corte] + " (" + horaCorta(z[k.hora]) +
        "), las actas contabilizadas pasaron de " + series[0].t[0] + " a " + series[0].t[n - 1] + " y la participación de " + series[1].t[0] + " a " + series[1].t[n - 1] + ".";
    var cuadro = el("div", { class: "historial-grafica", role: "img", "aria-label": frase });
    cuadro.appendChild(g);
    fig.replaceChildren(
      el("figcaption", { text: "Avance de la noche por corte" }), cuadro,
      el("ul", { class: "leyenda", "aria-hidden": "true" }, series.map(function (s) {
        return el("li", null, el("span", { class: "muestra " + s.clase }), s.nombre + " (" + s.t[n - 1] + ")");
      })));
    fig.setAttribute("data-cortes", String(n));
    fig.historial = hist;
  }
  /* Lo que se completa después de mostrar la vista (no retrasa la primera vista). */
  function completarVista(main, id) {
    var fig = main.querySelector("[data-historial]");
    var ruta_ = state.main.signed.data.historial;
    if (!fig) return;
    if (!ruta_) { fig.remove(); return; }
    getJSON(ruta_).then(function (h) {
      if (id === state.renderId) dibujarHistorial(fig, h, fig.getAttribute("data-historial"));
    }).catch(function () { if (id === state.renderId) fig.remove(); });
  }

  /* ---------- Mi sección ---------- */
  function avisoBusqueda(texto) { document.getElementById("buscar-aviso").textContent = texto; }
  function ambitoDeSeccion(idx, eid, sec) {
    var e = (idx.elecciones || {})[eid];
    if (!e) return null;
    var t = e.tramos, lo = 0, hi = t.length - 1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (sec < t[mid][0]) hi = mid - 1;
      else if (sec > t[mid][1]) lo = mid + 1;
      else return t[mid][2];
    }
    return null;
  }
  function buscar() {
    var q = document.getElementById("buscar-campo").value.trim().toUpperCase().replace(/^'+|'+$/g, "");
    var parts = ruta(), e = eleccion(parts[0]) || state.proceso.elecciones[0];
    var ent = String(state.proceso.entidad_id).padStart(2, "0");
    var sec = null, clave = null, m;
    var nacional = state.proceso.nacional; /* secciones por entidad: la clave de casilla las distingue */
    if (/^\d{1,5}$/.test(q) || (nacional && /^\d{6}$/.test(q))) sec = parseInt(q, 10);
    else if ((m = /^(\d{2})(\d{4})([A-Z])(\d{2})(\d{2})([0-9A-Z]*)$/.exec(q))) {
      if (!nacional && m[1] !== ent) { avisoBusqueda("La clave " + q + " es de otra entidad."); return; }
      sec = parseInt(m[2], 10) + (nacional ? parseInt(m[1], 10) * 10000 : 0);
      clave = q.slice(0, 11);
    } else {
      avisoBusqueda(q ? "Escriba un número de sección, una clave de casilla (" + ent + "0001B0100) o una clave de acta." : "Escriba su número de sección.");
      return;
    }
    avisoBusqueda("Buscando…");
    getJSON(state.main.signed.data.secciones).then(function (idx) {
      var aid = ambitoDeSeccion(idx, e.id, sec);
      if (aid === null) {
        return getJSON(entidadPath(e.id)).then(function (entF) {
          var f = clave && entF.fuera_catalogo.filter(function (x) { return x.clave === clave; })[0];
          if (f) { avisoBusqueda(""); window.location.hash = "#/" + e.id + "/acta/" + clave; return; }
          avisoBusqueda("La sección " + sec + " no existe en " + e.nombre + ".");
        });
      }
      var base = "#/" + e.id + "/" + e.ambito + "/" + aid + "/seccion/" + sec;
      if (!clave) { avisoBusqueda(""); window.location.hash = base; return null; }
      return getJSON(ambitoRef(e, aid).catalogo).then(function (cat) {
        var i = cat.campos_casilla.indexOf("clave");
        var existe = cat.casillas.some(function (c) { return c[i] === clave; });
        if (!existe) { avisoBusqueda("La casilla " + clave + " no existe en la sección " + sec + "."); return; }
        avisoBusqueda("");
        window.location.hash = base + "/casilla/" + clave;
      });
    }).catch(function () { avisoBusqueda("No se pudo consultar el índice de secciones. Intente de nuevo."); });
  }

  /* ---------- enrutamiento ---------- */
  function ruta() {
    var h = window.location.hash.replace(/^#\/?/, "");
    return h ? h.split("/").map(decodeURIComponent) : [];
  }
  function vista(parts) {
    var d = state.main.signed.data;
    if (parts[0] === "bases") return getJSON(d.bases).then(vistaBases);
    if (parts[0] === "difusores") return getJSON(d.difusores).then(vistaDifusores);
    var e = eleccion(parts[0] || state.proceso.elecciones[0].id);
    if (!e) return Promise.resolve(noEncontrado("La elección " + parts[0]));
    return getJSON(entidadPath(e.id)).then(function (ent) {
      if (parts[1] === "acta") {
        var f = ent.fuera_catalogo.filter(function (x) { return x.clave === parts[2]; })[0];
        if (!f) return noEncontrado("El acta " + parts[2]);
        return getJSON(ent.segmentos[f.segmento.join("-")]).then(function (seg) {
          return vistaActa(e, actaDe(seg, f.clave), { titulo: f.clave + " (fuera de catálogo)" },
            [[e.nombre, "#/" + e.id], ["Acta " + f.clave, "#/" + e.id + "/acta/" + f.clave]]);
        });
      }
      state.eleccion = e;
      if (ent.entidades) {
        state.entidades = {};
        ent.entidades.forEach(function (x) { state.entidades[x.id] = x.nombre; });
      }
      if (parts.length < 3) return vistaEntidad(e, ent);
      if (parts[1] === "entidad" && ent.entidades) return vistaEntidadFederativa(e, ent, parseInt(parts[2], 10));
      var id = parseInt(parts[2], 10), amb = ambitoRef(e, id), ea = entidadAmbito(ent, id);
      if (parts[1] !== e.ambito || !amb || !ea) return noEncontrado(AMBITO[e.ambito] + " " + parts[2]);
      return Promise.all([getJSON(amb.catalogo), getJSON(ea.resultados)]).then(function (cr) {
        var cat = cr[0], res = cr[1];
        if (parts[3] !== "seccion") return vistaAmbito(e, ent, amb, cat, res);
        var sec = parseInt(parts[4], 10);
        if (parts[5] !== "casilla") {
          var t = seccionTotales(cat, res, sec);
          if (!t) return vistaSeccion(e, ent, amb, cat, res, sec, null);
          return votosSeccion(e, ent, amb, t).then(function (tv) { return vistaSeccion(e, ent, amb, cat, res, sec, tv); });
        }
        var c = casillasDe(cat, res, sec).filter(function (x) { return x.clave === parts[6]; })[0];
        if (!c) return noEncontrado("La casilla " + parts[6]);
        var base = "#/" + e.id + "/" + e.ambito + "/" + amb.id;
        var info = { titulo: "Sección " + secTexto(sec) + " · Casilla " + casillaNombre(c.tipo, c.numero, c.ext_contigua), lista_nominal: c.lista_nominal };
        var items = raiz(e, amb).concat([[ambitoTitulo(e, amb), base], ["Sección " + secTexto(sec), base + "/seccion/" + sec]]).concat([
          [casillaNombre(c.tipo, c.numero, c.ext_contigua), base + "/seccion/" + sec + "/casilla/" + c.clave]]);
        if (!c.estado) return vistaActa(e, null, info, items);
        return getJSON(segmentoDe(ent, c.estado[0], amb.id)).then(function (seg) {
          return vistaActa(e, actaDe(seg, c.clave), info, items);
        });
      });
    });
  }
  function encabezado() {
    var s = state.main.signed;
    document.getElementById("instituto").textContent = state.proceso.instituto;
    document.getElementById("proceso").textContent = "· " + state.proceso.nombre;
    document.getElementById("corte-numero").textContent = String(s.cut);
    document.getElementById("corte-hora").textContent = s.cut_display;
    var ej = typeof s.ejercicio === "string" ? s.ejercicio : "jornada", tipo = ej.split("-")[0];
    var aviso = document.getElementById("ejercicio");
    aviso.textContent = EJERCICIOS[tipo] || "";
    aviso.hidden = !EJERCICIOS[tipo];
    document.body.setAttribute("data-ejercicio", ej);
    var parts = ruta(), actual = parts[0] || state.proceso.elecciones[0].id;
    var menu = document.getElementById("menu");
    var items = state.proceso.elecciones.map(function (e) { return [e.nombre, "#/" + e.id, e.id]; });
    items.push(["Base de datos", "#/bases", "bases"], ["Difusores oficiales", "#/difusores", "difusores"]);
    menu.replaceChildren.apply(menu, items.map(function (it) {
      return el("li", null, el("a", { href: it[1], "aria-current": it[2] === actual ? "page" : null, text: it[0] }));
    }));
  }
  function render(porCorte) {
    var id = ++state.renderId;
    var main = document.getElementById("contenido");
    var scroll = window.scrollY;
    encabezado();
    return Promise.resolve(vista(ruta())).then(function (nodes) {
      if (id !== state.renderId) return;
      state.fallo = false;
      main.replaceChildren();
      append(main, nodes);
      var titulo = main.querySelector("h1");
      var ej = document.getElementById("ejercicio");
      document.title = (ej.hidden ? "" : ej.textContent.split(" ")[0] + " · ") + (titulo ? titulo.textContent + " · " : "") + "PREP " + state.proceso.entidad;
      if (porCorte) window.scrollTo(0, scroll);
      else if (state.lastHash !== null && state.lastHash !== window.location.hash) main.focus({ preventScroll: true });
      state.lastHash = window.location.hash;
      main.setAttribute("data-corte", String(state.main.signed.cut));
      main.setAttribute("data-vista", ruta().join("/") || "inicio");
      despuesDePintar(function () {
        if (window.__prepcastFirma.render === null) window.__prepcastFirma.render = performance.now();
        completarVista(main, id);
      });
    }).catch(function (err) {
      if (id !== state.renderId) return;
      if (err && err.firma) {
        main.replaceChildren(el("p", { class: "error", text: "Estos datos no coinciden con la firma del instituto y no se muestran." }));
        main.setAttribute("data-vista", ruta().join("/") || "inicio");
        return;
      }
      state.fallo = true;
      main.replaceChildren(el("p", { class: "error", role: "alert", text: "No se pudieron cargar los datos de este corte. Se reintentará en breve." }));
      if (window.console && console.warn) console.warn(String(err));
    });
  }
  function cargarMain(main) {
    if (main.signed.data.schema !== ESQUEMA) return Promise.reject(new Error("esquema " + main.signed.data.schema));
    state.firma = firmaNueva(main.signed.cut);
    return getJSON(main.signed.data.proceso).then(function (proceso) {
      state.main = main;
      state.proceso = proceso;
      /* Un proceso nacional se muestra por distrito federal, bajo cada entidad. */
      AMBITO.distrito = proceso.nacional ? "Distrito federal" : "Distrito";
    });
  }
  function sondear() {
    setTimeout(function () {
      fetchMain().then(function (m) {
        if (state.main && m.signed.cut === state.main.signed.cut && !state.fallo) return null;
        /* Un corte publicado con otra versión del sitio: se recarga index.html (no se guarda en caché). */
        if (state.main && m.signed.data.schema !== ESQUEMA) { window.location.reload(); return null; }
        var primero = !state.main, nuevo = !primero && m.signed.cut !== state.main.signed.cut;
        /* Lo que cambia cada corte se olvida; catálogos y segmentos de actas siguen valiendo. */
        state.cache.forEach(function (_v, path) {
          if (!/-catalogo\.|\/actas\/|^data\/(proceso|secciones)\./.test(path)) { state.cache.delete(path); state.bytes.delete(path); }
        });
        return cargarMain(m).then(function () {
          if (nuevo) document.getElementById("aviso").textContent = "Nuevo corte " + m.signed.cut + " · " + m.signed.cut_display;
          return render(!primero);
        }).then(function () { return verificarCorte(m); });
      }).catch(function (err) { if (window.console && console.warn) console.warn(String(err)); })
        .then(sondear);
    }, pollSeconds() * 1000);
  }
  function iniciar() {
    document.getElementById("salto").addEventListener("click", function (ev) {
      ev.preventDefault();
      document.getElementById("contenido").focus();
    });
    window.addEventListener("hashchange", function () { render(false); });
    var redibujo = null;
    window.addEventListener("resize", function () {
      clearTimeout(redibujo);
      redibujo = setTimeout(function () {
        var fig = document.querySelector("main figure.historial[data-cortes]");
        if (fig && fig.historial) dibujarHistorial(fig, fig.historial, fig.getAttribute("data-historial"));
      }, 100);
    });
    document.getElementById("buscar").addEventListener("submit", function (ev) { ev.preventDefault(); buscar(); });
    window.__prepcastFirma = { render: null, verificada: null };
    var m0;
    fetchMain().then(function (m) { m0 = m; return cargarMain(m); }).then(function () { return render(false); }).then(function () {
      /* La firma se comprueba después de pintar la primera vista, nunca antes. */
      despuesDePintar(function () { verificarCorte(m0); });
    }).catch(function () {
      document.getElementById("contenido").replaceChildren(el("p", { class: "error", role: "alert", text: "No se pudo cargar el corte vigente. Se reintentará en breve." }));
    }).then(sondear);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", iniciar);
  else iniciar();
})();
