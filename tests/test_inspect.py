"""seqnn inspect: the self-contained page (its data read back, no machine paths, its size), the summary with its
controls, --feature, --gradient-of and --compare, the refusals, the memory estimate, and the page in a real browser
(headless Chromium, where it is installed)."""

import base64
import html
import json
import re
import shutil
import subprocess
import tracemalloc
from importlib import resources

import numpy as np
import pytest

from seqnn.app import inspect as look
from seqnn.app import page as page_module

from conftest import TINY, seqnn_fails, seqnn_main

CORPUS = (resources.files("seqnn") / "corpus" / "alice.txt").read_text(encoding="utf-8")


def page_data(page: str) -> dict:
    """The JSON the page's script draws from."""
    found = re.search(r'<script type="application/json" id="data">(.*?)</script>', page, re.S)
    return json.loads(found.group(1))


def decode(s: str, digits: int) -> np.ndarray:
    level = {ch: i for i, ch in enumerate(page_module.ALPHABET)}
    q = np.array([level[ch] for ch in s]).reshape(-1, digits)
    return (q * 64 ** np.arange(digits)[::-1]).sum(axis=1) / (64 ** digits - 1)


def test_the_page_is_self_contained_escaped_and_names_no_machine_path(tmp_path, capsys):
    path = tmp_path / "odd.txt"
    path.write_text("<script>alert('&amp;')</script> & \"quoted\" (a [b]) </x>\n" * 12)
    assert seqnn_main(capsys, "train", path, *TINY, "--steps", "3", "--out", tmp_path / "run")[0] == 0
    code, out, err = seqnn_main(capsys, "inspect", (tmp_path / "run").resolve(), path.resolve(), "--out",
                                tmp_path / "page", "--lags", "10")
    assert code == 0, err
    page = (tmp_path / "page" / "index.html").read_text()
    assert page.count("<script") == 2, "the data and the script; none from the text"
    data = page_data(page)
    assert data["text"] == path.read_text()[:3000], "the text reads back exactly"
    assert str(tmp_path) not in page and "/tmp" not in page, "no machine paths"
    assert re.findall(r'src="([^"]{0,22})', page) == ["data:image/png;base64,"] * 2, "the plots are embedded"
    assert not re.search(r"(href|src)=\"(http|file|/)", page) and "@import" not in page
    for name in ("saturation.png", "reach.png"):
        png = (tmp_path / "page" / name).read_bytes()
        assert base64.b64encode(png).decode() in page
    assert data["models"][0]["label"] == "LSTM (run/best.npz)"
    n = len(data["text"])
    assert len(data["models"][0]["conn"]) == (n - 1) * 11 and len(data["top"]["p"]) == n * 5 * 2
    assert "wrote" in out and "    untrained  " in out


def test_the_page_holds_the_numbers_it_shows(tmp_path, capsys):
    """Predictions, losses and unit values decode to what the model computes, within their quantisation."""
    from seqnn import probe
    from seqnn.app.folder import load_charlm
    text = tmp_path / "t.txt"
    text.write_text(CORPUS[3000:5000])
    argv = ["train", text, *TINY, "--steps", "20", "--out", tmp_path / "run"]
    assert seqnn_main(capsys, *argv)[0] == 0
    assert seqnn_main(capsys, "inspect", tmp_path / "run", text, "--out", tmp_path / "page", "--chars", "800")[0] == 0
    data = page_data((tmp_path / "page" / "index.html").read_text())
    model, vocab, *_ = load_charlm(str(tmp_path / "run"))
    ids = vocab.encode(data["text"])
    acts = probe.activations(model, ids)
    best = np.sort(acts.probs, axis=1)[:, ::-1][:, :5]
    np.testing.assert_allclose(decode(data["top"]["p"], 2).reshape(-1, 5), best, atol=1 / 4095)
    bits = -np.log2(acts.probs[np.arange(len(ids) - 1), ids[1:]])
    np.testing.assert_allclose(decode(data["models"][0]["bits"], 2) * page_module.MAX_BITS, bits,
                               atol=page_module.MAX_BITS / 4095)
    unit = data["units"][0]
    layer, part, k = re.match(r"layer (\d+), (\w)\[(\d+)\]", unit["label"]).groups()
    values = acts.layers[int(layer) - 1][part][:, int(k)]
    np.testing.assert_allclose((2 * decode(unit["values"], 1) - 1) * unit["scale"], values, atol=unit["scale"] / 63)
    conn = probe.connectivity(model, ids, acts, 50)
    t = 400
    shown = decode(data["models"][0]["conn"][t * 51:(t + 1) * 51], 1)
    want = np.clip(np.log10(conn[t] / conn[t].max()) / page_module.DECADES + 1, 0, 1)
    np.testing.assert_allclose(shown, want, atol=1 / 63)


def test_the_summary_puts_every_claim_beside_the_untrained_control(text, tmp_path, capsys):
    for cell in ("lstm", "rnn"):
        argv = ["train", text, *TINY, "--steps", "3", "--cell", cell, "--out", tmp_path / cell]
        assert seqnn_main(capsys, *argv)[0] == 0
    code, out, err = seqnn_main(capsys, "inspect", tmp_path / "lstm", "--compare", tmp_path / "rnn", "--lags", "10")
    assert code == 0, err
    assert "(held out)" in out and "chosen on the text's first half, r on the second" in out
    claims = [line for line in out.splitlines() if re.match(r"  \S.*: layer \d, [hc]\[\d+\], r = ", line)]
    assert len(claims) == 6 and all("untrained" in line and "shuffled" in line for line in claims)
    rows = [line.split("  ")[1] for line in out.splitlines() if re.search(r"\d\.\de-\d\d \[", line)]
    assert [r or "untrained" for r in rows] == ["LSTM (lstm/best.npz)", "untrained", "RNN (rnn/best.npz)", "untrained"]
    assert "k = 10" in out and "and of n-gram models fitted on the training text" in out
    assert re.search(r"  all +\d+ +\d+\.\d\d( +\d+\.\d\d){5}  \d+%", out)
    data = page_data((tmp_path / "lstm" / "inspect" / "index.html").read_text())
    assert [m["label"] for m in data["models"]] == ["LSTM (lstm/best.npz)", "RNN (rnn/best.npz)"]
    assert len(data["ngram"]) == 5
    assert seqnn_main(capsys, "inspect", tmp_path / "rnn", "--lags", "10")[0] == 0
    rnn_page = (tmp_path / "rnn" / "inspect" / "index.html").read_text()
    assert "<li>gate saturation: a vanilla RNN has no gates</li>" in rnn_page


def test_features_from_the_command_line_and_the_gradient_of_the_logit(trained, text, tmp_path, capsys):
    code, out, err = seqnn_main(capsys, "inspect", trained, "--feature", "vowel=[aeiou]", "--feature",
                                "capital=[A-Z]", "--gradient-of", "logit", "--lags", "8")
    assert code == 0, err
    assert re.search(r"  vowel: layer 1, [hc]\[\d+\], r = ", out) and re.search(r"  capital: layer 1", out)
    assert "||dlogit_t/dx_(t-k)||" in out
    data = page_data((trained / "inspect" / "index.html").read_text())
    vowel = next(f for f in data["features"] if f["name"] == "vowel")
    assert (decode(vowel["values"], 1) > 0.5).tolist() == [ch in "aeiou" for ch in data["text"]]
    for argv, message in [(["--feature", "vowel"], r"--feature: expected NAME=REGEX .*, got 'vowel'"),
                          (["--feature", "=[a]"], "--feature: expected NAME=REGEX"),
                          (["--feature", "open=("], r"--feature open: '\(' is not a regular expression"),
                          (["--feature", "indentation= +"], "the name 'indentation' is already taken"),
                          (["--gradient-of", "prob"], None)]:
        if message is None:
            assert "invalid choice: 'prob'" in seqnn_fails(capsys, "inspect", trained, *argv, code=2)
        else:
            assert re.search(message, seqnn_fails(capsys, "inspect", trained, *argv)), argv


def test_inspect_refuses_bad_input_in_one_line(trained, text, tmp_path, capsys):
    other = tmp_path / "other.txt"
    other.write_text("Zoë and \u2603\n" * 3)
    short = tmp_path / "short.txt"
    short.write_text("ca")                      # 3 characters: read_text ends a text with a newline
    cases = [
        (["inspect", tmp_path / "nowhere"], "no such checkpoint or run folder"),
        (["inspect", trained, other], r"TEXT: 3 character\(s\) the model's vocabulary does not have: 'Z', 'ë', '☃'"),
        (["inspect", trained, "--chars", "20001"], r"--chars: expected a number of characters in \[3, 20,000\]"),
        (["inspect", trained, "--units", "21"], r"--units: expected a number of units per feature in \[1, 20\]"),
        (["inspect", trained, "--lags", "201"], r"--lags: expected a number of characters back in \[1, 200\]"),
        (["inspect", trained, short], r"TEXT: expected at least 4 characters \(a unit is chosen on one half"),
    ]
    empty = tmp_path / "empty-run"
    empty.mkdir()
    cases.append((["inspect", empty], "holds no best.npz or last.npz"))
    for argv, message in cases:
        assert re.search(message, seqnn_fails(capsys, *argv)), argv
    short.write_text("the cat sat")
    code, out, err = seqnn_main(capsys, "inspect", trained, short)
    assert code == 0 and "only 12 characters: the connectivity goes 10 back, not --lags 50" in out, err
    assert "argument --chars: expected a positive integer, got 0" in seqnn_fails(capsys, "inspect", trained,
                                                                                   "--chars", "0", code=2)


def test_a_text_given_after_the_runs_own_text_has_gone_has_no_ngram_baseline(tmp_path, capsys):
    text = tmp_path / "t.txt"
    text.write_text(CORPUS[:4000])
    assert seqnn_main(capsys, "train", text, *TINY, "--steps", "2", "--out", tmp_path / "run")[0] == 0
    copy = tmp_path / "copy.txt"
    shutil.copy(text, copy)
    text.unlink()
    code, out, err = seqnn_main(capsys, "inspect", tmp_path / "run", copy, "--lags", "5", "--chars", "300")
    assert code == 0, err
    assert "per-character loss: no n-gram baseline" in out
    assert page_data((tmp_path / "run" / "inspect" / "index.html").read_text())["ngram"] is None


def test_twenty_thousand_characters_make_a_page_under_3_mb_and_memory_within_its_estimate(tmp_path, capsys):
    text = tmp_path / "book.txt"
    text.write_text(CORPUS)
    argv = ["train", text, "--hidden", "32", "--layers", "1", "--steps", "1", "--batch", "4", "--seq-len", "10",
            "--out", tmp_path / "run", "--quiet"]
    assert seqnn_main(capsys, *argv)[0] == 0
    part = tmp_path / "part.txt"
    part.write_text(CORPUS[20_000:60_000])
    tracemalloc.start()
    try:
        lines = look.inspect(str(tmp_path / "run"), [str(part)], chars=20_000, out=str(tmp_path / "page"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    size = (tmp_path / "page" / "index.html").stat().st_size
    assert size <= 3 * 2 ** 20, f"{size / 2 ** 20:.2f} MiB"
    data = page_data((tmp_path / "page" / "index.html").read_text())
    assert len(data["text"]) == 20_000 and len(data["units"]) >= 12
    estimate = float(re.search(r"memory: about ([\d.]+) MiB", "\n".join(lines)).group(1)) * 2 ** 20
    assert 1 / 1.5 <= peak / estimate <= 1.5, (peak / 2 ** 20, estimate / 2 ** 20)


def quoted_characters(text: str) -> list:
    """Where the page shades by the first feature (inside a quotation): its characters inside one."""
    from seqnn.features import in_quotation
    return [bool(v) for v in in_quotation(text)]


# --- the page in a real browser -------------------------------------------------------------------------------
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
BROWSER_CHECK = """<script>
(function () {
  const out = {errors: window.__errors.slice()};
  const background = pre => Array.from(pre.children).filter(s => s.style.background).length;
  try {
    const panels = document.querySelectorAll("pre.text"), pre = panels[0];
    out.text = pre.textContent;
    out.spans = pre.children.length;
    out.panels = Array.from(panels).map(p => !p.parentNode.hidden);
    out.modes = seqnn.modes;
    out.before = background(pre);
    pre.children[300].dispatchEvent(new MouseEvent("mouseover", {bubbles: true, clientX: 5, clientY: 5}));
    out.tip = document.getElementById("tip").textContent;
    out.tipShown = document.getElementById("tip").style.display;
    out.shaded = Array.from(panels).map(background);
    out.held = pre.children[300].className;
    pre.children[330].dispatchEvent(new MouseEvent("mouseover", {bubbles: true, clientX: 5, clientY: 5}));
    out.moved = Array.from(panels).map(background);
    out.movedFrom = pre.children[300].className + "|" + pre.children[300].style.background;
    out.movedTo = pre.children[330].className;
    const colour = document.getElementById("colour");
    colour.value = "unit:0";
    colour.dispatchEvent(new Event("change"));
    out.unitShaded = background(pre);
    out.unitPanels = Array.from(panels).map(p => !p.parentNode.hidden);
    const legend = document.getElementById("legend");
    out.legend = [legend.querySelector(".lo").textContent, legend.querySelector(".bar").style.background];
    colour.value = "feature:0";
    colour.dispatchEvent(new Event("change"));
    out.featureShaded = Array.from(pre.children).map(s => s.style.background !== "rgb(255, 255, 255)");
    out.featureLegend = document.querySelector("#legend .hi").textContent;
    colour.value = "unit:0";
    colour.dispatchEvent(new Event("change"));
    const track = document.getElementById("track");
    out.trackBefore = pre.children[10].style.boxShadow;
    track.value = "-1";
    track.dispatchEvent(new Event("change"));
    out.trackAfter = pre.children[10].style.boxShadow;
    seqnn.select(120, 126);
    out.selection = document.getElementById("selection").textContent;
    out.checked = Array.from(document.querySelectorAll("#units input")).filter(b => b.checked).length;
    document.getElementById("threshold").value = "0";
    document.querySelectorAll("#units input")[0].checked = true;
    document.getElementById("match").click();
    out.matched = pre.querySelectorAll("span.match").length;
    out.listed = document.querySelectorAll("#matches li").length;
    pre.children[200].click();
    out.pinned = seqnn.state.pinned;
    pre.children[201].dispatchEvent(new MouseEvent("mouseover", {bubbles: true, clientX: 5, clientY: 5}));
    out.stayed = seqnn.state.at;
    pre.children[200].click();
    out.released = !seqnn.state.pinned;
  } catch (e) { out.errors.push(String(e && e.stack || e)); }
  out.errors = out.errors.concat(window.__errors.slice(out.errors.length));
  const node = document.createElement("pre");
  node.id = "result";
  node.textContent = JSON.stringify(out);
  document.body.appendChild(node);
})();
</script>"""


@pytest.mark.skipif(CHROMIUM is None, reason="needs headless Chromium (Debian: apt-get install chromium)")
def test_the_page_works_in_a_real_browser(tmp_path, capsys):
    text = tmp_path / "book.txt"
    text.write_text(CORPUS[:4700] + "\N{GRINNING FACE}" + CORPUS[4700:5000])    # in the validation text
    for cell in ("gru", "rnn"):
        argv = ["train", text, *TINY, "--steps", "5", "--cell", cell, "--out", tmp_path / cell]
        assert seqnn_main(capsys, *argv)[0] == 0
    code, _, err = seqnn_main(capsys, "inspect", tmp_path / "gru", "--compare", tmp_path / "rnn", "--lags", "20",
                              "--chars", "600")
    assert code == 0, err
    page = (tmp_path / "gru" / "inspect" / "index.html").read_text()
    catch = ("<script>window.__errors = []; "
             "window.addEventListener('error', e => window.__errors.push(e.message));</script>")
    (tmp_path / "check.html").write_text(page.replace("<head>", "<head>" + catch, 1).replace("</body>",
                                                                                           BROWSER_CHECK + "</body>"))
    done = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom",
                           (tmp_path / "check.html").as_uri()], capture_output=True, text=True, timeout=120)
    found = re.search(r'<pre id="result">(.*?)</pre>', done.stdout, re.S)
    assert found, done.stderr[-2000:]
    got = json.loads(html.unescape(found.group(1)))
    assert got["errors"] == []
    n = len(page_data(page)["text"])
    assert got["text"] == page_data(page)["text"] and n > 300 and "\N{GRINNING FACE}" in got["text"]
    assert got["spans"] == n, "one span a character, as Python counts them (an emoji is one)"
    assert got["panels"] == [True, True], "connectivity: the models side by side"
    assert got["before"] == 0, "connectivity shades nothing until a character is hovered"
    assert got["tipShown"] == "block" and "next, likeliest first" in got["tip"] and "5-gram, bits" in got["tip"]
    assert got["shaded"] == [21, 21], "the character and the 20 before it, in each model's panel"
    assert got["held"] == "at"
    assert got["moved"] == [21, 21] and got["movedFrom"] == "|" and got["movedTo"] == "at", "the old window let go"
    assert got["unitShaded"] > n // 2 and got["unitPanels"] == [True, False], "a unit: the model's own panel"
    assert got["legend"][1].startswith("linear-gradient") and got["legend"][0].startswith("-")
    quoted = quoted_characters(page_data(page)["text"])
    assert got["featureShaded"] == quoted and got["featureLegend"] == "1.00", "coloured by the feature itself"
    assert got["trackBefore"].startswith("rgb") and got["trackAfter"] == "", "the feature track, then none"
    assert got["selection"].startswith("selected ") and "(7 characters)" in got["selection"]
    assert got["matched"] > 0 and got["listed"] > 0
    assert got["pinned"] and got["stayed"] == 200 and got["released"], "a click holds a character, a second lets go"
