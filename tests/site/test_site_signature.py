"""The institute's signature checked in the reader's browser (WebCrypto Ed25519 in Debian's
Chromium): a clean package verifies; a changed byte in a data file, a main.json signed by an
unknown key and a manifest swapped for another cut's each raise the warning and the view shows
nothing of what failed; a browser without Ed25519 says so; the check never delays the first
view; and the JavaScript and Python checks agree on a corpus of signed files."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from playwright.sync_api import Page

from prepcast.election import ElectionDir
from prepcast.package import verify_package
from prepcast.package.canonical import canonical_json
from prepcast.package.keys import Signer
from prepcast.package.sign import (
    b64,
    key_id,
    public_from_raw,
    public_pem,
    raw_public,
    unb64,
    verify_signature,
)
from tests.site.site_package import publish, resign_main, signer
from tests.site.site_server import StaticServer
from tests.site.site_views import open_view, watch_console

pytestmark = pytest.mark.browser
WARNING = "Atención: estos datos no coinciden con la firma del instituto"


def wait_firma(page: Page, state: str) -> None:
    page.wait_for_selector(f'body[data-firma="{state}"]', timeout=10_000)


def test_a_clean_package_verifies(page: Page, server: StaticServer, published: tuple[Path, object]) -> None:
    root = published[0]
    verify_package(root, root_pub(root))  # what a difusor checks, the page checks too
    errors = watch_console(page)
    open_view(page, server.url, "/DIP_LOC")
    wait_firma(page, "ok")
    main = json.loads((root / "json" / "main.json").read_bytes())["signed"]
    h = main["manifest_sha256"][:16]
    huella = " ".join(h[i:i + 4] for i in range(0, 16, 4))
    assert page.locator("#firma").inner_text() == (
        f"Firma del instituto verificada · corte {main['cut']} · huella {huella}")
    assert page.locator("#alerta-firma").is_hidden()
    # Later views' files are checked as they load.
    open_view(page, server.url, "/DIP_LOC/distrito/1")
    page.wait_for_timeout(300)
    assert page.evaluate("document.body.dataset.firma") == "ok"
    assert errors == []


def root_pub(root: Path) -> bytes:
    key = public_from_raw(signer().root_public)
    assert key is not None
    return public_pem(key)


def _copy(published: tuple[Path, object], tmp_path: Path) -> Path:
    dst = tmp_path / "pkg"
    shutil.copytree(published[0], dst)
    return dst


def _assert_warning(page: Page, url: str, route: str) -> None:
    open_view(page, url, route)
    wait_firma(page, "no-coincide")
    assert page.locator("#alerta-firma").is_visible()
    assert WARNING in page.locator("#alerta-firma").inner_text()
    assert page.locator("#firma").inner_text() == WARNING
    page.wait_for_selector("main .error")
    assert page.locator("main .cifras").count() == 0  # nothing of the file that failed


def test_a_changed_byte_in_a_data_file_raises_the_warning(
    page: Page, published: tuple[Path, object], tmp_path: Path
) -> None:
    root = _copy(published, tmp_path)
    main = json.loads((root / "json" / "main.json").read_bytes())["signed"]
    entidad = root / main["data"]["elecciones"][0]["entidad"]
    data = entidad.read_bytes()
    i = data.index(b'"capturadas":') + len(b'"capturadas":')
    digit = data[i:i + 1]
    entidad.write_bytes(data[:i] + (b"9" if digit != b"9" else b"8") + data[i + 1:])
    with StaticServer(root) as srv:
        _assert_warning(page, srv.url, "/DIP_LOC")
        # Another election's files still verify and still show.
        open_view(page, srv.url, "/AYUN")
        assert page.locator("main .cifras").count() == 1


def test_main_json_signed_by_an_unknown_key_raises_the_warning(
    page: Page, published: tuple[Path, object], tmp_path: Path
) -> None:
    root = _copy(published, tmp_path)
    other = Ed25519PrivateKey.generate()
    stranger = Signer(signer().keyid, other, b"", 1)  # claims the cut key's id
    resign_main(root, stranger)
    with StaticServer(root) as srv:
        _assert_warning(page, srv.url, "/DIP_LOC")
    stranger = Signer(key_id(other.public_key()), other, b"", 1)
    resign_main(root, stranger)
    with StaticServer(root) as srv:
        _assert_warning(page, srv.url, "/DIP_LOC/distrito/1")


def test_a_manifest_swapped_for_another_cuts_raises_the_warning(
    page: Page, election: ElectionDir, published: tuple[Path, object], tmp_path: Path
) -> None:
    root = _copy(published, tmp_path)
    other = publish(election, 12, tmp_path / "c12")
    main = json.loads((root / "json" / "main.json").read_bytes())["signed"]
    swapped = (other.root / other.main["signed"]["manifest"]).read_bytes()
    (root / main["manifest"]).write_bytes(swapped)
    with StaticServer(root) as srv:
        _assert_warning(page, srv.url, "/DIP_LOC")


def test_a_browser_without_ed25519_says_the_check_could_not_be_made(
    page: Page, server: StaticServer
) -> None:
    page.add_init_script("""(() => {
      const importKey = crypto.subtle.importKey.bind(crypto.subtle);
      crypto.subtle.importKey = (fmt, key, alg, ...rest) =>
        (alg && (alg === "Ed25519" || alg.name === "Ed25519"))
          ? Promise.reject(new DOMException("Algorithm: Unrecognized name", "NotSupportedError"))
          : importKey(fmt, key, alg, ...rest);
    })();""")
    open_view(page, server.url, "/DIP_LOC")
    wait_firma(page, "imposible")
    assert page.locator("#firma").inner_text() == (
        "No se pudo comprobar la firma del instituto: "
        "este navegador no permite comprobar firmas Ed25519.")
    assert page.locator("main .cifras").count() == 1  # the figures stay, the words say why
    assert page.locator("#alerta-firma").is_hidden()


def test_the_check_runs_after_the_first_view(page: Page, server: StaticServer) -> None:
    started: list[str] = []
    page.on("request", lambda r: started.append(r.url))
    open_view(page, server.url, "/DIP_LOC")
    wait_firma(page, "ok")
    first_manifest = next(i for i, u in enumerate(started) if "/manifests/" in u)
    assert all("/manifests/" not in u and "/keys/" not in u for u in started[:first_manifest])
    t = page.evaluate("""() => {
      const m = performance.getEntriesByType('resource').find(e => e.name.includes('/manifests/'));
      return {render: window.__prepcastFirma.render, manifest: m.startTime,
              verificada: window.__prepcastFirma.verificada};
    }""")
    assert t["render"] <= t["manifest"] <= t["verificada"]


# ---------- JavaScript and Python agree on a corpus of signed files ----------

TRICKY = ["", "a", "ñandú", "Ciudad de México", "\"comillas\"", "barra\\invertida", "tab\tnueva\nlínea",
          "\u0001\u001f", "\u007f", "\u2028\u2029", "emoji 🗳️", "日本", "</script>", "a/b", "\u00e9\u0301"]


def _random_obj(rng: random.Random, depth: int = 0) -> object:
    r = rng.random()
    if depth > 2 or r < 0.3:
        return rng.choice(TRICKY)
    if r < 0.5:
        return rng.choice([0, 1, -7, 2**53 - 1, 1234567890])
    if r < 0.7:
        return [_random_obj(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice([*TRICKY, "schema", "cut", "b", "B", "_"]) + str(i): _random_obj(rng, depth + 1)
            for i in range(rng.randint(0, 4))}


def _corpus(published: tuple[Path, object]) -> list[tuple[str, str, str]]:
    """(document text, key id, raw public key base64): signed files, good and bad."""
    rng = random.Random(14)
    key = Ed25519PrivateKey.generate()
    kid, pub = key_id(key.public_key()), b64(raw_public(key.public_key()))
    other = Ed25519PrivateKey.generate()
    out: list[tuple[str, str, str]] = []
    for _ in range(40):
        signed = {"schema": "prueba/1", "x": _random_obj(rng)}
        sig = key.sign(canonical_json(signed))
        good = {"signed": signed, "signatures": [{"keyid": kid, "sig": b64(sig)}]}
        out.append((canonical_json(good).decode(), kid, pub))
        out.append((json.dumps(good, indent=2, ensure_ascii=True), kid, pub))  # other spelling, same data
        bad_sig = bytearray(sig)
        bad_sig[rng.randrange(64)] ^= 1 << rng.randrange(8)
        out.append((canonical_json({**good, "signatures": [{"keyid": kid, "sig": b64(bytes(bad_sig))}]}).decode(), kid, pub))
        out.append((canonical_json({**good, "signed": {**signed, "x": [signed["x"]]}}).decode(), kid, pub))
        by_other = {"signed": signed, "signatures": [{"keyid": kid, "sig": b64(other.sign(canonical_json(signed)))}]}
        out.append((canonical_json(by_other).decode(), kid, pub))
    # The real files of a package: its keyring (root key) and main.json (cut key).
    root = published[0]
    s = signer()
    main = (root / "json" / "main.json").read_text("utf-8")
    ring = next((root / "keys").glob("keyring.*.json")).read_text("utf-8")
    ring_doc = json.loads(ring)
    cut_pub = next(k["public"] for k in ring_doc["signed"]["keys"] if k["keyid"] == s.keyid)
    out.append((main, s.keyid, cut_pub))
    out.append((ring, key_id_of(s.root_public), b64(s.root_public)))
    out.append((main.replace('"cut":10', '"cut":11'), s.keyid, cut_pub))
    out.append((ring, s.keyid, cut_pub))  # the keyring is the root's, not a cut key's
    return out


def key_id_of(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()[:16]


def python_verdict(text: str, kid: str, pub_b64: str) -> bool:
    doc = json.loads(text)
    raw = unb64(pub_b64)
    key = public_from_raw(raw) if raw else None
    assert key is not None
    message = canonical_json(doc["signed"])
    return any(s.get("keyid") == kid and (sig := unb64(s.get("sig"))) is not None
               and verify_signature(key, sig, message) for s in doc["signatures"])


def test_javascript_and_python_agree_on_a_corpus_of_signed_files(
    page: Page, server: StaticServer, published: tuple[Path, object]
) -> None:
    corpus = _corpus(published)
    open_view(page, server.url, "/DIP_LOC")
    js = page.evaluate(
        "async (corpus) => Promise.all(corpus.map(c => window.prepcastFirma.vale(c[0], c[1], c[2])))",
        [list(c) for c in corpus])
    py = [python_verdict(*c) for c in corpus]
    assert js == py
    assert sum(py) >= 80 and py.count(False) >= 80  # both kinds well represented
    # The canonical form itself is byte for byte the same.
    objs = [json.loads(c[0])["signed"] for c in corpus]
    canon = page.evaluate("(objs) => objs.map(o => window.prepcastFirma.canonico(o))", objs)
    assert [c.encode() for c in canon] == [canonical_json(o) for o in objs]


def test_a_page_without_webcrypto_says_why(page: Page, server: StaticServer) -> None:
    # As on plain HTTP, where browsers offer no crypto.subtle (it needs a secure context).
    page.add_init_script("Object.defineProperty(Crypto.prototype, 'subtle', {get: () => undefined});")
    errors = watch_console(page)
    open_view(page, server.url, "/DIP_LOC/distrito/1")
    wait_firma(page, "imposible")
    assert page.locator("#firma").inner_text() == (
        "No se pudo comprobar la firma del instituto: "
        "este navegador no ofrece criptografía en esta página (se requiere HTTPS).")
    assert page.locator("main .cifras").count() == 1
    assert errors == []
