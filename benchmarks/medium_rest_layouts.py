"""Miniatures of MLE-bench medium competitions whose files are neither tables nor plain photo folders: JPEGs that
differ only in a few DCT coefficients (alaska2), products packed in BSON (cdiscount), Wikipedia pages as
whitespace-token JSON lines (tensorflow2 QA), and slide TIFFs with polygons beside run-length masks (hubmap).

Each generator writes what the competition's `prepare.py` gives an agent (file names, nested folders, binary
formats, columns, id rules, the sample submission's shape and placeholder values) filled with generated data
whose signal a model can learn, and returns the answers as prepare.py writes them to private/. Kept small
enough for `agent compete --time-budget 60` on two cores: 64x64 JPEGs (512x512 in the real data), 48x48
product photos (180x180), pages of a few hundred tokens (thousands), slides of about 500x550 pixels (tens of
thousands a side).
"""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

import numpy as np
import pandas as pd

from layout_kit import hex_ids, save_image
from medium_image_layouts import _ellipse
from pipelines import rle

ALASKA_METHODS = ("JMiPOD", "JUNIWARD", "UERD")


def _dct_matrix() -> np.ndarray:
    """JPEG's orthonormal 8-point DCT-II, row k the frequency k: a block's coefficients are D @ block @ D.T."""
    k, x = np.arange(8)[:, None], np.arange(8)[None, :]
    matrix = np.sqrt(2 / 8) * np.cos((2 * x + 1) * k * np.pi / 16)
    matrix[0] /= np.sqrt(2)
    return matrix


def _jpeg(pixels: np.ndarray, quality: int, mode: str = "RGB") -> bytes:
    """An (H, W, 3) array of 0-255 values as JPEG bytes without chroma subsampling; mode "YCbCr" writes the
    planes as they are, with no colour conversion on the way."""
    from PIL import Image

    data = np.clip(np.round(pixels), 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.frombytes(mode, data.shape[1::-1], data.tobytes()).save(out, "JPEG", quality=quality, subsampling=0)
    return out.getvalue()


def _decode_ycbcr(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """The YCbCr planes libjpeg decodes (no colour conversion) and the luma quantisation table, 8x8."""
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    table = np.array(image.quantization[0], dtype=float).reshape(8, 8)  # Pillow gives it in natural order
    image.draft("YCbCr", image.size)
    return np.asarray(image, dtype=float), table


def _scene(rng: np.random.Generator, side: int) -> np.ndarray:
    """A photo-like RGB scene: a lit gradient, a soft texture of random grain and strength (smooth and busy
    scenes alike), a few hard-edged shapes and sensor noise."""
    yy, xx = np.mgrid[:side, :side] / side
    angle = rng.uniform(0, 2 * np.pi)
    pixels = rng.uniform(50, 200, 3) + rng.normal(0, 40, 3) * (np.cos(angle) * xx + np.sin(angle) * yy)[..., None]
    cells = int(rng.choice([4, 8, 16, 32]))
    grain = np.kron(rng.normal(0, 1, (cells, cells, 3)), np.ones((side // cells, side // cells, 1)))
    for axis in (0, 1):
        grain = (np.roll(grain, 1, axis) + grain + np.roll(grain, -1, axis)) / 3
    pixels = pixels + rng.uniform(0, 35) * grain
    for _ in range(int(rng.integers(0, 4))):
        shape = _ellipse(side, side, *rng.uniform(0, side, 2), *rng.uniform(4, side / 2, 2), rng.uniform(0, np.pi))
        pixels[shape] = rng.uniform(20, 235, 3) + 10 * rng.normal(0, 1, (int(shape.sum()), 1))
    return pixels + rng.normal(0, rng.uniform(0.5, 3), pixels.shape)


def _embed(rng: np.random.Generator, ycc: np.ndarray, table: np.ndarray, method: str, rate: float) -> np.ndarray:
    """`ycc` with +-1 changes to about `rate` x its nonzero AC luma coefficients, placed as `method` places
    them: J-UNIWARD and JMiPOD in busy blocks, mostly on nonzero coefficients (JMiPOD more so), UERD over all
    AC coefficients by block energy and quantisation step. Written back as pixels, so re-encoding at the same
    quality finds those changes (at quality 95, whose steps of 1 and 2 feel pixel rounding, a few more)."""
    d, (height, width) = _dct_matrix(), ycc.shape[:2]
    blocks = (ycc[..., 0] - 128).reshape(height // 8, 8, width // 8, 8).transpose(0, 2, 1, 3)
    coefficients = np.round(d @ blocks @ d.T / table)
    ac = np.ones((8, 8), dtype=bool)
    ac[0, 0] = False
    nonzero = (coefficients != 0) & ac
    energy = np.abs(coefficients * ac).sum(axis=(2, 3), keepdims=True)  # a block's texture
    if method == "UERD":
        weight = (energy + 1) * ac / table
    else:
        weight = energy * (nonzero + (0.15 if method == "JUNIWARD" else 0.03)) * ac
    count = max(1, round(rate * int(nonzero.sum())))
    chosen = rng.choice(weight.size, count, replace=False, p=weight.ravel() / weight.sum())
    delta = np.zeros(weight.size)
    delta[chosen] = rng.choice([-1.0, 1.0], count)
    blocks = blocks + d.T @ (delta.reshape(coefficients.shape) * table) @ d
    out = ycc.copy()
    out[..., 0] = blocks.transpose(0, 2, 1, 3).reshape(height, width) + 128
    return out


def steganalysis(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """alaska2-image-steganalysis: `Cover/<5 digits>.jpg` (1-based) and the same names in `JMiPOD/`,
    `JUNIWARD/` and `UERD/`, each that cover with a message hidden by that method; `Test/<4 digits>.jpg`, each a
    held-out cover or, with even odds, one of its three stego versions (a method picked at random); no train
    table. Colour JPEGs at quality 75, 90 or 95; the payload grows with the texture. The sample (Id with its
    `.jpg`, Label) says 0; ALASKA2's weighted AUC (answers: private/test.csv, Id, Label 0/1). Here 200 covers
    and 100 test images of 64x64 (not 75,000 and 5,000 of 512x512), embedding +-1 changes to 20-40% of the
    nonzero AC luma coefficients (real payloads change fewer, on 64x more pixels); covers go through the same
    decode and re-encode as their stego versions, so only the hidden changes tell them apart."""
    n_train, n_test, side = 200, 100, 64
    for name in ("Cover", "Test", *ALASKA_METHODS):
        (folder / name).mkdir(parents=True, exist_ok=True)
    answers = []
    for i in range(n_train + n_test):
        quality = int(rng.choice([75, 90, 95]))
        ycc, table = _decode_ycbcr(_jpeg(_scene(rng, side), quality))
        rate = rng.uniform(0.2, 0.4)
        if i < n_train:
            name = f"{i + 1:05d}.jpg"
            (folder / "Cover" / name).write_bytes(_jpeg(ycc, quality, "YCbCr"))
            for method in ALASKA_METHODS:
                (folder / method / name).write_bytes(_jpeg(_embed(rng, ycc, table, method, rate), quality, "YCbCr"))
            continue
        name, label = f"{i - n_train + 1:04d}.jpg", int(rng.random() < 0.5)
        if label:
            ycc = _embed(rng, ycc, table, str(rng.choice(ALASKA_METHODS)), rate)
        (folder / "Test" / name).write_bytes(_jpeg(ycc, quality, "YCbCr"))
        answers.append({"Id": name, "Label": label})
    answers = pd.DataFrame(answers)
    answers.assign(Label=0).to_csv(folder / "sample_submission.csv", index=False)
    return answers


CDISCOUNT_SAMPLE = 1000010653  # the sample's answer, phone cases: the most common category
CDISCOUNT_SOLD = [  # (level1, level2, level3): four families of three, the family fixing the product's shape
    ("TELEPHONIE - GPS", "ACCESSOIRE TELEPHONE", "COQUE TELEPHONE - BUMPER TELEPHONE"),
    ("TELEPHONIE - GPS", "ACCESSOIRE TELEPHONE", "FILM PROTECTION ECRAN"),
    ("TELEPHONIE - GPS", "TELEPHONE - GSM", "SMARTPHONE"),
    ("LIBRAIRIE", "AUTRES LIVRES", "LITTERATURE FRANCAISE"),
    ("LIBRAIRIE", "BANDE DESSINEE", "MANGA"),
    ("LIBRAIRIE", "LIVRES SCOLAIRES", "MANUEL SCOLAIRE"),
    ("MUSIQUE", "CD", "CD POP ROCK - CD ROCK INDE"),
    ("MUSIQUE", "CD", "CD JAZZ - BLUES"),
    ("MUSIQUE", "VINYLE", "VINYLE POP ROCK"),
    ("BIJOUX - LUNETTES - MONTRES", "BIJOUX", "BAGUE - ANNEAU"),
    ("BIJOUX - LUNETTES - MONTRES", "BIJOUX", "BRACELET"),
    ("BIJOUX - LUNETTES - MONTRES", "MONTRES", "MONTRE")]
CDISCOUNT_UNSOLD = [  # categories category_names.csv lists that no product here has, as most of the real 5,270
    ("ABONNEMENT / SERVICES", "CARTE PREPAYEE", "CARTE PREPAYEE MULTIMEDIA"),
    ("AUTO - MOTO", "PIECES", "BATTERIE AUTO"), ("BRICOLAGE - OUTILLAGE", "OUTILLAGE", "PERCEUSE"),
    ("DVD - BLU-RAY", "DVD", "DVD FILM"), ("ELECTROMENAGER", "PETIT ELECTROMENAGER", "BOUILLOIRE"),
    ("INFORMATIQUE", "CONNECTIQUE", "CABLE USB"), ("JARDIN - PISCINE", "PISCINE", "FILTRE PISCINE"),
    ("JEUX - JOUETS", "POUPEE", "POUPEE MANNEQUIN")]
CDISCOUNT_COLOURS = [[200, 40, 45], [45, 90, 200], [35, 35, 40]]  # a category's colour: its place in its family


def _bson(document: dict) -> bytes:
    """One BSON document: int32 length, its elements, 0x00. Values: int (int32, as pymongo writes small ints),
    bytes (binary, subtype 0), dict (embedded document), list (array: a document keyed "0", "1", ...)."""
    body = b""
    for key, value in document.items():
        name = key.encode() + b"\0"
        if isinstance(value, bytes):
            body += b"\x05" + name + struct.pack("<iB", len(value), 0) + value
        elif isinstance(value, dict):
            body += b"\x03" + name + _bson(value)
        elif isinstance(value, list):
            body += b"\x04" + name + _bson({str(i): item for i, item in enumerate(value)})
        else:
            body += b"\x10" + name + struct.pack("<i", value)
    return struct.pack("<i", len(body) + 5) + body + b"\0"


def _product_photo(rng: np.random.Generator, family: int, colour: np.ndarray, size: float, side: int) -> np.ndarray:
    """One view of a product on a white background, placed, scaled and turned a little differently each time: a
    phone-shaped slab, an upright book with a title band, a disc with its hole, or a ring."""
    pixels = rng.uniform(238, 255) + rng.normal(0, 3, (side, side, 3))
    cy, cx = side / 2 + rng.normal(0, 2, 2)
    s, turn = size * rng.uniform(0.85, 1.15), rng.normal(0, 0.15)
    yy, xx = np.mgrid[:side, :side] + 0.5
    u, v = (xx - cx) * np.cos(turn) + (yy - cy) * np.sin(turn), (yy - cy) * np.cos(turn) - (xx - cx) * np.sin(turn)
    if family == 0:
        pixels[(u / (0.5 * s)) ** 4 + (v / s) ** 4 < 1] = colour  # a rounded slab
        pixels[_ellipse(side, side, cy - 0.7 * s, cx - 0.25 * s, 0.12 * s, 0.12 * s)] = 20  # its camera
    elif family == 1:
        pixels[(np.abs(u) < 0.65 * s) & (np.abs(v) < 0.95 * s)] = colour
        pixels[(np.abs(u) < 0.55 * s) & (np.abs(v + 0.35 * s) < 0.15 * s)] = 235
    elif family == 2:
        pixels[_ellipse(side, side, cy, cx, s, s)] = colour
        pixels[_ellipse(side, side, cy, cx, 0.15 * s, 0.15 * s)] = 245
    else:
        pixels[(np.hypot(u, v) < 0.8 * s) & (np.hypot(u, v) > 0.58 * s)] = colour
    return pixels + rng.normal(0, 4, pixels.shape)


def products(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """cdiscount-image-classification-challenge: train.bson, one BSON document per product in _id order
    (_id: int, imgs: a list of 1-4 {picture: JPEG bytes} documents, category_id: a 10-digit int);
    test.bson the same without category_id; train_example.bson the first 100 documents of train.bson;
    category_names.csv (category_id, category_level1, category_level2, category_level3, French names, more
    categories than any product has). prepare.py holds out a random 10% of the old train; the sample (_id,
    category_id) says 1000010653 for every product, sorted by _id; accuracy (answers: _id, category_id). Here 800
    products of 12 categories (of 5,270), 48x48 photos (not 180x180), phone cases the most common as in the real
    data: the family (telephony, books, music, jewellery) shapes the product, the category colours it."""
    n, side = 800, 48
    ids = sorted(int(v) for v in rng.choice(4 * n, n, replace=False))
    others = rng.choice(np.setdiff1d(np.arange(1, 30000), [10653]), len(CDISCOUNT_SOLD + CDISCOUNT_UNSOLD) - 1,
                        replace=False)
    category_ids = [CDISCOUNT_SAMPLE, *(1000000000 + int(v) for v in others)]
    rarity = 1 / np.arange(2, len(CDISCOUNT_SOLD) + 1) ** 0.7  # the rest by a power law, as real shares fall
    shares = np.r_[0.2, 0.8 * rarity / rarity.sum()]
    sold = rng.choice(len(CDISCOUNT_SOLD), n, p=shares)
    test = set(rng.choice(n, int(np.ceil(0.1 * n)), replace=False).tolist())
    train, held_out, answers = [], [], []
    for i, (product_id, k) in enumerate(zip(ids, sold)):
        colour = np.array(CDISCOUNT_COLOURS[k % 3]) * rng.uniform(0.85, 1.15) + rng.normal(0, 12, 3)
        size = rng.uniform(0.28, 0.4) * side
        pictures = [{"picture": _jpeg(_product_photo(rng, k // 3, colour, size, side), 90)}
                    for _ in range(int(rng.choice([1, 2, 3, 4], p=[0.5, 0.25, 0.15, 0.1])))]
        if i in test:
            held_out.append(_bson({"_id": product_id, "imgs": pictures}))
            answers.append({"_id": product_id, "category_id": category_ids[k]})
        else:
            train.append(_bson({"_id": product_id, "imgs": pictures, "category_id": category_ids[k]}))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.bson").write_bytes(b"".join(train))
    (folder / "test.bson").write_bytes(b"".join(held_out))
    (folder / "train_example.bson").write_bytes(b"".join(train[:100]))
    names = pd.DataFrame([(c, *levels) for c, levels in zip(category_ids, CDISCOUNT_SOLD + CDISCOUNT_UNSOLD)],
                         columns=["category_id", "category_level1", "category_level2", "category_level3"])
    names.sort_values(["category_level1", "category_level2", "category_level3"]).to_csv(
        folder / "category_names.csv", index=False)
    answers = pd.DataFrame(answers)
    answers.assign(category_id=CDISCOUNT_SAMPLE).to_csv(folder / "sample_submission.csv", index=False)
    return answers


QA_SYLLABLES = "ka lo mir ren dor va sel tu bri nan os el mar pe quin ra zo fen ti gal".split()
QA_FILLER = ("the region has a long history of trade and farming in valleys along river while many families moved "
             "there during following decades to work mills markets old town whose streets still show influence "
             "earlier settlers travelling merchants festival held each summer near bridge church hall").split()
QA_SECTIONS = ["History", "Geography", "Economy", "Culture", "Government", "Transport"]
QA_FACTS = {  # relation: (questions, sentences with {s} the subject and {a} the answer, what the answer is)
    "founder": (["who founded {s}", "who was the founder of {s}"],
                ["{s} was founded by {a} in the early years of the settlement .",
                 "The founder of {s} was {a} , a merchant from the northern hills ."], "person"),
    "year": (["when was {s} established", "what year was {s} established"],
             ["{s} was formally established in {a} after a long dispute over land .",
              "In {a} the council declared {s} an independent town ."], "year"),
    "place": (["where is {s} located", "where can you find {s}"],
              ["{s} is located in {a} , close to the old trade road .",
               "{s} lies in {a} near the mouth of the river ."], "region"),
    "leader": (["who is the current leader of {s}", "who leads {s} today"],
               ["The current leader of {s} is {a} , who took office after the last election .",
                "Today {s} is led by {a} ."], "person"),
    "population": (["how many people live in {s}", "what is the population of {s}"], [], "number"),
    "known": (["what is {s} known for", "why is {s} famous"],
              ["{s} is widely known for its {a} .", "Visitors come to {s} above all for its {a} ."], "words"),
    "coastal": (["is {s} a coastal town", "is {s} by the sea"],
                ["{s} is a coastal town with a small harbour .",
                 "{s} is not a coastal town , as it lies far from the sea ."], "yes_no"),
}


def _qa_name(rng: np.random.Generator) -> str:
    """A made-up proper name of two or three syllables."""
    return "".join(rng.choice(QA_SYLLABLES, int(rng.integers(2, 4)))).capitalize()


def _qa_answer(rng: np.random.Generator, kind: str) -> str:
    """A made-up answer of a kind: a person, a year, a region, a head count or a few descriptive words."""
    if kind == "person":
        return f"{_qa_name(rng)} {_qa_name(rng)}"
    if kind == "year":
        return str(int(rng.integers(1200, 1990)))
    if kind == "region":
        return f"{_qa_name(rng)} {rng.choice(['Valley', 'Province', 'County'])}"
    if kind == "number":
        return f"{int(rng.integers(800, 900000)):,}"
    return " ".join(rng.choice(QA_FILLER, int(rng.integers(2, 5))))


def _qa_sentence(template: str, subject: str, answer: str) -> tuple[list[str], tuple[int, int] | None]:
    """The template's tokens with the subject and the answer put in, and where the answer's tokens are."""
    tokens, span = [], None
    for word in template.split():
        if word == "{s}":
            tokens += subject.split()
        elif word == "{a}":
            span = (len(tokens), len(tokens) + len(answer.split()))
            tokens += answer.split()
        else:
            tokens.append(word)
    return tokens, span


def _qa_filler(rng: np.random.Generator, subject: str) -> list[str]:
    """A sentence of filler words that answers nothing, its full stop a token of its own."""
    words = list(rng.choice(QA_FILLER, int(rng.integers(7, 16))))
    if rng.random() < 0.4:  # the subject turns up in paragraphs that do not answer anything too
        words.insert(int(rng.integers(0, len(words))), subject)
    return " ".join([words[0].capitalize(), *words[1:], "."]).split()


def _qa_page(rng: np.random.Generator, subject: str) -> tuple[str, list[dict], dict]:
    """An article about `subject` as simplified NQ writes one: HTML-tagged whitespace tokens (an infobox table, then
    paragraphs under section headings, now and then a list), every <Table>, <Tr>, <P>, <Ul> and <Li> a long
    answer candidate (end exclusive). Each relation is stated with probability one half, some about another
    place. Returns the text, the candidates, and for each stated relation (candidate index, short span or
    None, YES/NO/NONE)."""
    stated = [r for r in QA_FACTS if rng.random() < 0.5]
    tokens, candidates, where = ["<H1>", *subject.split(), "</H1>"], [], {}

    def open_candidate(top: bool) -> int:
        candidates.append({"start_token": len(tokens), "top_level": top, "end_token": -1})
        return len(candidates) - 1

    def close(index: int) -> None:
        candidates[index]["end_token"] = len(tokens)

    table = open_candidate(True)
    tokens.append("<Table>")
    rows = [[subject], ["Area", str(rng.integers(5, 900)), "km2"], ["Elevation", str(rng.integers(2, 1800)), "m"]]
    if "population" in stated:
        rows.insert(int(rng.integers(1, 4)), ["Population", _qa_answer(rng, "number")])
    for head, *cells in rows:
        row = open_candidate(False)
        tokens += ["<Tr>", "<Th>", *head.split(), "</Th>"]
        if head == "Population":
            where["population"] = (table, (len(tokens) + 1, len(tokens) + 2), "NONE")
        tokens += ["<Td>", *cells, "</Td>"] if cells else []
        tokens.append("</Tr>")
        close(row)
    tokens.append("</Table>")
    close(table)
    paragraphs = [[(_qa_filler(rng, subject), None, None, "NONE") for _ in range(int(rng.integers(1, 4)))]
                  for _ in range(len(stated) + int(rng.integers(1, 4)))]
    for relation, slot in zip([r for r in stated if r != "population"], rng.permutation(len(paragraphs))):
        _, sentences, kind = QA_FACTS[relation]
        if kind == "yes_no":
            yes_no = str(rng.choice(["YES", "NO"]))
            sentence, span = _qa_sentence(sentences[yes_no == "NO"], subject, "")[0], None
        else:
            yes_no = "NONE"
            sentence, span = _qa_sentence(str(rng.choice(sentences)), subject, _qa_answer(rng, kind))
            span = None if kind == "words" else span  # a description answers only the long question
        paragraphs[slot].insert(int(rng.integers(0, len(paragraphs[slot]) + 1)), (sentence, relation, span, yes_no))
    for relation in [r for r in QA_FACTS if r not in stated and QA_FACTS[r][1] and rng.random() < 0.3]:
        _, sentences, kind = QA_FACTS[relation]  # said of another place: the subject has to match
        sentence, _ = _qa_sentence(str(rng.choice(sentences)), _qa_name(rng), _qa_answer(rng, kind))
        paragraphs[int(rng.integers(0, len(paragraphs)))].append((sentence, None, None, "NONE"))
    for k, sentences in enumerate(paragraphs):
        if k and rng.random() < 0.5:
            tokens += ["<H2>", str(rng.choice(QA_SECTIONS)), "</H2>"]
        paragraph = open_candidate(True)
        tokens.append("<P>")
        for sentence, relation, span, yes_no in sentences:
            if relation:
                where[relation] = (paragraph, span and (len(tokens) + span[0], len(tokens) + span[1]), yes_no)
            tokens += sentence
        tokens.append("</P>")
        close(paragraph)
        if rng.random() < 0.25:
            listing = open_candidate(True)
            tokens.append("<Ul>")
            for _ in range(int(rng.integers(2, 5))):
                item = open_candidate(False)
                tokens += ["<Li>", *rng.choice(QA_FILLER, int(rng.integers(2, 6))), "</Li>"]
                close(item)
            tokens.append("</Ul>")
            close(listing)
    return " ".join(tokens), candidates, where


def questions(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """tensorflow2-question-answering: simplified-nq-train.jsonl, one JSON object a line as pandas writes them
    (slashes escaped: `<\\/P>`), keys document_text (whitespace tokens with HTML tags), long_answer_candidates
    ({start_token, top_level, end_token}, end exclusive), question_text (lower case, no question mark),
    annotations (one: yes_no_answer YES/NO/NONE, long_answer {start_token, candidate_index, end_token}, -1 when
    there is none, short_answers [{start_token, end_token}], annotation_id), document_url, example_id (a signed
    64-bit integer written as a string); simplified-nq-test.jsonl keeps example_id, question_text, document_text
    and long_answer_candidates. The sample (example_id `<id>_short` then `<id>_long` per page, PredictionString)
    is empty; prepare.py's gold answer is `start:end`, YES, NO or empty, the first short answer for `_short`;
    micro F1 over answered-or-not, which is the share of rows answered right (answers: the gold submission).
    Here 400 train and 100 test pages of 90-500 tokens (the real split is 90/10, pages thousands of tokens);
    seven relations, each stated on a page with odds one half (sometimes of another place) and asked with two
    phrasings: a paragraph that states the asked relation of the page's subject is the long answer and the
    answer's tokens in it the short one (for the population: the infobox table and its number cell); a
    description has no short answer, the coast question is answered YES or NO."""
    n, n_test = 500, 100
    records = []
    for _ in range(n):
        subject = _qa_name(rng) if rng.random() < 0.7 else f"{_qa_name(rng)} {rng.choice(['Abbey', 'Harbour'])}"
        text, candidates, where = _qa_page(rng, subject)
        relation = str(rng.choice(list(QA_FACTS)))
        long_answer, short, yes_no = {"start_token": -1, "candidate_index": -1, "end_token": -1}, [], "NONE"
        if relation in where:
            index, span, yes_no = where[relation]
            long_answer = {"start_token": candidates[index]["start_token"], "candidate_index": index,
                           "end_token": candidates[index]["end_token"]}
            short = [{"start_token": span[0], "end_token": span[1]}] if span else []
        url = f"https://en.wikipedia.org//w/index.php?title={subject.replace(' ', '_')}&amp;oldid="
        records.append({"document_text": text, "long_answer_candidates": candidates,
                        "question_text": str(rng.choice(QA_FACTS[relation][0])).format(s=subject.lower()),
                        "annotations": [{"yes_no_answer": yes_no, "long_answer": long_answer, "short_answers": short,
                                         "annotation_id": int(rng.integers(10**17, 2**63 - 1))}],
                        "document_url": f"{url}{rng.integers(7 * 10**8, 9 * 10**8)}",
                        "example_id": str(rng.integers(-2**63, 2**63 - 1))})
    frame = pd.DataFrame(records).iloc[rng.permutation(n)]
    folder.mkdir(parents=True, exist_ok=True)
    frame.iloc[n_test:].to_json(folder / "simplified-nq-train.jsonl", orient="records", lines=True)
    test = frame.iloc[:n_test]
    test[["example_id", "question_text", "document_text", "long_answer_candidates"]].to_json(
        folder / "simplified-nq-test.jsonl", orient="records", lines=True)
    rows = []
    for example, (annotation,) in zip(test["example_id"], test["annotations"]):
        spans = [f"{s['start_token']}:{s['end_token']}" for s in annotation["short_answers"][:1]]
        short = annotation["yes_no_answer"] if annotation["yes_no_answer"] != "NONE" else "".join(spans)
        long_answer = annotation["long_answer"]
        rows += [{"example_id": f"{example}_short", "PredictionString": short},
                 {"example_id": f"{example}_long", "PredictionString": "" if long_answer["start_token"] == -1
                  else f"{long_answer['start_token']}:{long_answer['end_token']}"}]
    answers = pd.DataFrame(rows)
    answers.assign(PredictionString="").to_csv(folder / "sample_submission.csv", index=False)
    return answers


HUBMAP_GLOMERULUS = {"classification": {"name": "glomerulus", "colorRGB": -3140401}, "isLocked": True,
                     "measurements": []}
HUBMAP_ANATOMY = {"Cortex": -352965, "Medulla": -9408287}  # QuPath's colours for the two regions


def _feature(ring: list[list[int]], properties: dict) -> dict:
    """A QuPath GeoJSON feature: one closed polygon of [x, y] points."""
    return {"type": "Feature", "id": "PathAnnotationObject", "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": properties}


def _around(cy: float, cx: float, reach: float, height: int, width: int) -> tuple[tuple, np.ndarray, np.ndarray]:
    """The window of an image within `reach` of (cy, cx), and its pixels' distances and angles from there."""
    rows = slice(max(int(cy - reach), 0), min(int(cy + reach) + 2, height))
    cols = slice(max(int(cx - reach), 0), min(int(cx + reach) + 2, width))
    yy, xx = np.mgrid[rows, cols]
    return (rows, cols), np.hypot(yy - cy, xx - cx), np.arctan2(yy - cy, xx - cx)


def _lobed(theta: np.ndarray, radius: float, wobble: np.ndarray, phase: np.ndarray) -> np.ndarray:
    """The edge of a roundish blob at angles `theta`: a circle bent by two harmonics."""
    return radius * (1 + wobble[0] * np.cos(2 * theta + phase[0]) + wobble[1] * np.cos(3 * theta + phase[1]))


def _kidney_slide(rng: np.random.Generator, height: int, width: int) -> tuple[np.ndarray, np.ndarray, list, list, int]:
    """A PAS-stained kidney section on glass: an elliptic slice of tissue, its outer band cortex and its core
    medulla, full of tubules cut across (small pale-centred rings) and a few arteries (round, as big as a
    glomerulus, a thick wall round a white lumen); glomeruli only in the cortex: a lobed purple tuft dense with
    nuclei inside a pale Bowman's space and a thin capsule. Returns the pixels, the glomerulus mask, the
    glomeruli's polygons, the cortex and medulla features, and the cortex's share of the tissue in percent."""
    yy, xx = np.mgrid[:height, :width]
    cy, cx = height * rng.uniform(0.4, 0.6), width * rng.uniform(0.4, 0.6)
    ry, rx, tilt, inner = height * rng.uniform(0.45, 0.6), width * rng.uniform(0.45, 0.6), rng.uniform(-0.5, 0.5), \
        rng.uniform(0.45, 0.6)
    rho = np.hypot(((xx - cx) * np.cos(tilt) + (yy - cy) * np.sin(tilt)) / rx,
                   ((yy - cy) * np.cos(tilt) - (xx - cx) * np.sin(tilt)) / ry)
    tissue, medulla = rho < 1, rho < inner
    stain = np.array([225, 165, 205]) * rng.uniform(0.9, 1.04, 3)  # fresh frozen and FFPE slides stain differently
    pixels = np.where(tissue[..., None], stain, [242, 240, 243]).astype(float)
    dots = np.where(tissue, 0.004, 0.0)  # a pixel's odds of holding a nucleus
    places = np.argwhere(tissue)
    for y, x in places[rng.integers(0, len(places), int(tissue.sum() / 700))]:
        r = rng.uniform(5, 9)
        window, d, _ = _around(y, x, r, height, width)
        pixels[window][d < r] = stain * 0.82
        pixels[window][d < 0.55 * r] = [240, 226, 236]
        dots[window][(d < r) & (d >= 0.55 * r)] = 0.06
    taken = []
    for y, x in places[rng.integers(0, len(places), int(rng.integers(2, 5)))]:
        r = rng.uniform(9, 16)
        window, d, _ = _around(y, x, r, height, width)
        pixels[window][d < r] = [215, 105, 170]
        pixels[window][d < 0.45 * r] = [250, 248, 250]
        dots[window][d < r] = 0.0
        taken.append((y, x, r))
    glomeruli, rings, cortex = np.zeros((height, width), dtype=bool), [], np.argwhere(tissue & ~medulla)
    wanted = int(rng.integers(8, 17))
    for _ in range(400):
        y, x = cortex[rng.integers(0, len(cortex))]
        r = rng.uniform(11, 19)
        if not (r + 3 < y < height - r - 3 and r + 3 < x < width - r - 3) or \
                any(np.hypot(y - ty, x - tx) < r + tr + 4 for ty, tx, tr in taken):
            continue
        taken.append((y, x, r))
        wobble, phase = rng.uniform(0, 0.08, 2), rng.uniform(0, 2 * np.pi, 2)
        window, d, theta = _around(y, x, 1.2 * r, height, width)
        edge = _lobed(theta, r, wobble, phase)
        glomeruli[window] |= d < edge
        pixels[window][d < edge] = [205, 120, 175]
        pixels[window][d < 0.9 * edge] = [246, 238, 244]
        pixels[window][d < 0.76 * edge] = [170, 95, 165]
        dots[window][d < edge] = 0.0
        dots[window][d < 0.76 * edge] = 0.3
        angles = np.linspace(0, 2 * np.pi, 33)[:-1]
        ring = [[int(round(x + e * np.cos(t))), int(round(y + e * np.sin(t)))]
                for t, e in zip(angles, _lobed(angles, r, wobble, phase))]
        rings.append(ring + ring[:1])
        if len(rings) == wanted:
            break
    nuclei = rng.random((height, width)) < dots
    pixels[nuclei | np.roll(nuclei, 1, 0) | np.roll(nuclei, 1, 1)] = np.array([95, 40, 115]) * rng.uniform(0.8, 1.1)
    for axis in (0, 1):
        pixels = (2 * pixels + np.roll(pixels, 1, axis) + np.roll(pixels, -1, axis)) / 4
    t = np.linspace(0, 2 * np.pi, 49)
    anatomy = []
    for name, scale in (("Cortex", 1.0), ("Medulla", inner)):
        px = cx + scale * (rx * np.cos(t) * np.cos(tilt) - ry * np.sin(t) * np.sin(tilt))
        py = cy + scale * (rx * np.cos(t) * np.sin(tilt) + ry * np.sin(t) * np.cos(tilt))
        ring = [[int(np.clip(round(a), 0, width - 1)), int(np.clip(round(b), 0, height - 1))] for a, b in zip(px, py)]
        anatomy.append(_feature(ring, {"classification": {"name": name, "colorRGB": HUBMAP_ANATOMY[name]},
                                       "isLocked": False, "measurements": []}))
    share = int(round(100 * (tissue & ~medulla).sum() / tissue.sum()))
    return pixels + rng.normal(0, 4, pixels.shape), glomeruli, rings, anatomy, share


def glomeruli(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """hubmap-kidney-segmentation: slide images `train/<9 hex>.tiff` and `test/<id>.tiff` (RGB), beside each
    `<id>.json` (the glomeruli as QuPath GeoJSON polygons of [x, y] points; prepare.py copies the test slides'
    too, so the answers' polygons are public) and `<id>-anatomical-structure.json` (Cortex and Medulla
    polygons); train.csv (id, encoding: the glomerulus mask as RLE, pixels numbered down the columns, 1-based
    `start length` pairs); HuBMAP-20-dataset_information.csv (image_file, sizes, both json names, patient data,
    percent_cortex, percent_medulla) for every slide, test ones included; the sample (id, predicted) is empty
    and is copied into `test/` too. Mean Dice per image (answers: private/test.csv, id, encoding, width_pixels,
    height_pixels; the answers' column is `encoding`, the submission's `predicted`). Here 6 train and 2 test
    slides of 448-576 x 480-640 pixels (the real ones are 12 and 3 of tens of thousands a side), never square, so
    a transposed mask scores badly; glomeruli are lobed discs with a pale rim in the cortex, next to round
    arteries of the same size that are not glomeruli."""
    n_train, n_test = 6, 2
    ids = hex_ids(rng, n_train + n_test, 9)
    order = rng.permutation(len(ids))
    test_ids, train_ids = [ids[i] for i in order[:n_test]], [ids[i] for i in order[n_test:]]
    info, encodings = [], {}
    for image_id in ids:
        height, width = int(rng.integers(448, 577)), int(rng.integers(480, 641))
        pixels, mask, rings, anatomy, cortex = _kidney_slide(rng, height, width)
        part = folder / ("test" if image_id in test_ids else "train")
        save_image(part / f"{image_id}.tiff", pixels)
        (part / f"{image_id}.json").write_text(json.dumps([_feature(r, HUBMAP_GLOMERULUS) for r in rings], indent=2))
        (part / f"{image_id}-anatomical-structure.json").write_text(json.dumps(anatomy, indent=2))
        encodings[image_id] = rle.encode(mask, "F")  # down the columns, as grade.py decodes it
        weight, tall = round(rng.uniform(55, 110), 1), round(rng.uniform(155, 190), 1)
        info.append({"image_file": f"{image_id}.tiff", "width_pixels": width, "height_pixels": height,
                     "anatomical_structures_segmention_file": f"{image_id}-anatomical-structure.json",
                     "glomerulus_segmentation_file": f"{image_id}.json",
                     "patient_number": int(rng.integers(60000, 70000)),
                     "race": str(rng.choice(["White", "Black or African American"])),
                     "ethnicity": str(rng.choice(["Not Hispanic or Latino", "Hispanic or Latino"], p=[0.85, 0.15])),
                     "sex": str(rng.choice(["Male", "Female"])), "age": int(rng.integers(30, 80)),
                     "weight_kilograms": weight, "height_centimeters": tall,
                     "bmi_kg/m^2": round(weight / (tall / 100) ** 2, 1),
                     "laterality": str(rng.choice(["Left", "Right"])),
                     "percent_cortex": cortex, "percent_medulla": 100 - cortex})
    info = pd.DataFrame(info)
    info.to_csv(folder / "HuBMAP-20-dataset_information.csv", index=False)
    pd.DataFrame({"id": train_ids, "encoding": [encodings[i] for i in train_ids]}).to_csv(folder / "train.csv",
                                                                                          index=False)
    sizes = info.assign(id=info["image_file"].str.replace(".tiff", "")).set_index("id")
    answers = pd.DataFrame({"id": test_ids, "encoding": [encodings[i] for i in test_ids],
                            "width_pixels": sizes.loc[test_ids, "width_pixels"].to_numpy(),
                            "height_pixels": sizes.loc[test_ids, "height_pixels"].to_numpy()})
    for place in (folder, folder / "test"):
        answers[["id"]].assign(predicted="").to_csv(place / "sample_submission.csv", index=False)
    return answers


LAYOUTS = {
    "alaska2-image-steganalysis": ("JPEGs in method folders sharing names; hidden +-1 DCT changes", "weighted_auc",
                                   steganalysis),
    "cdiscount-image-classification-challenge": ("BSON products with 1-4 JPEGs each; 10-digit classes", "accuracy",
                                                 products),
    "tensorflow2-question-answering": ("token spans in JSON lines; _short/_long rows, YES/NO", "answer_match",
                                       questions),
    "hubmap-kidney-segmentation": ("slide TIFFs, GeoJSON polygons; column-major RLE", "dice", glomeruli),
}
