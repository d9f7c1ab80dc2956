"""Miniatures of MLE-bench medium competitions whose answers are not one label per test row: a forecast with
its confidence (osic), tag sets (facebook), a repaired sentence (billion-word), a cell order (AI4Code), a value
per atom pair scored per coupling type (champs), a direction from a batch of pulses (icecube).

Each generator writes what the competition's `prepare.py` gives an agent (file names and case, folders, zip
archives, columns, id formats, the sample submission and its placeholder values) filled with generated rows
whose signal is known, and returns the answers in the columns the competition's `grade.py` reads. Kept small
enough for `agent compete --time-budget 60` on two cores. Where the real files carry formats no library here
writes (DICOM), the miniature leaves them out and says so.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from layout_kit import hex_ids, split, zip_away

SMOKING = {"Ex-smoker": 1.5, "Never smoked": 0.0, "Currently smokes": 4.0}  # extra FVC lost per week, ml


def fibrosis(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """osic-pulmonary-fibrosis-progression: train.csv (Patient, Weeks, FVC, Percent, Age, Sex, SmokingStatus),
    a patient's visits over -5..133 weeks; 10% of the patients are held out and test.csv keeps only each one's
    first visit (sorted by Patient); sample_submission.csv has a row `<Patient>_<week>` for every held-out
    patient and every week from the test's first to its last, FVC 2000 and Confidence 100. Only each patient's
    last three measured weeks are scored (grade.py), by the modified Laplace log likelihood; the answers hold
    their FVC and -1 on every other row (the rows `agent grade` leaves out). FVC falls with the weeks, faster
    for smokers and low Percent. The CT scans (`train/<Patient>/*.dcm`, `test/...`) are left out."""
    n = 176
    serials = np.sort(rng.choice(np.arange(1, 427), n, replace=False))
    patients = [f"ID00{s:03d}637202{rng.integers(10**11, 10**12)}" for s in serials]
    rows = []
    for patient in patients:
        male = rng.random() < 0.79
        smoking = str(rng.choice(list(SMOKING), p=[0.67, 0.28, 0.05]))
        age = int(rng.integers(49, 89))
        height = rng.normal(175 if male else 162, 7)
        expected = (27.63 - 0.112 * age if male else 21.78 - 0.101 * age) * height  # ml for a healthy person
        percent0 = rng.uniform(45, 110)
        slope = -2 - SMOKING[smoking] - 0.05 * (100 - percent0) + rng.normal(0, 1.5)
        weeks = [int(rng.integers(-5, 12))]
        for _ in range(int(rng.integers(5, 10))):
            weeks.append(weeks[-1] + int(rng.integers(4, 18)))
        for week in (w for w in weeks if w <= 133):
            fvc = int(round(expected * percent0 / 100 + slope * (week - weeks[0]) + rng.normal(0, 90)))
            rows.append({"Patient": patient, "Weeks": week, "FVC": fvc, "Percent": 100 * fvc / expected, "Age": age,
                         "Sex": "Male" if male else "Female", "SmokingStatus": smoking})
    frame = pd.DataFrame(rows)
    held_out = set(rng.choice(patients, int(np.ceil(0.1 * n)), replace=False))
    groups = {p: g for p, g in frame.groupby("Patient", sort=False)}
    train = pd.concat([groups[p] for p in rng.permutation(patients) if p not in held_out])
    test = pd.concat([groups[p] for p in rng.permutation(patients) if p in held_out])
    folder.mkdir(parents=True, exist_ok=True)
    train.to_csv(folder / "train.csv", index=False)
    test.sort_values(by="Weeks").groupby("Patient").first().reset_index().to_csv(folder / "test.csv", index=False)
    grid = pd.DataFrame([(p, w) for p in test["Patient"].unique()
                         for w in range(test["Weeks"].min(), test["Weeks"].max() + 1)], columns=["Patient", "Weeks"])
    scored = test.sort_values("Weeks").groupby("Patient").tail(3)
    grid = grid.merge(scored[["Patient", "Weeks", "FVC"]], on=["Patient", "Weeks"], how="left")
    grid["Patient_Week"] = grid["Patient"] + "_" + grid["Weeks"].astype(str)
    grid[["Patient_Week"]].assign(FVC=2000, Confidence=100).to_csv(folder / "sample_submission.csv", index=False)
    return grid.assign(FVC=grid["FVC"].fillna(-1).astype(int))[["Patient_Week", "FVC"]]


QUESTION_TAGS = {  # tag: (words a title or body uses for it, a line of its code, the tags it comes with)
    "python": (["python", "list", "dictionary", "script"], "for item in items:\n    print(item)", ["django", "regex"]),
    "django": (["django", "models", "views", "template"], "class Post(models.Model):\n    pass", []),
    "javascript": (["javascript", "function", "dom", "event"], "var el = document.getElementById('x');",
                   ["jquery", "html", "css"]),
    "jquery": (["jquery", "ajax", "selector", "click"], "$('#save').click(function() { $.ajax(url); });", []),
    "c#": (["c#", ".net", "linq", "wpf"], "public class Order { public int Id { get; set; } }",
           ["asp.net", "sql"]),
    "asp.net": (["asp.net", "webforms", "gridview", "postback"], "<asp:GridView runat=\"server\" />", []),
    "php": (["php", "echo", "session", "$_post"], "<?php echo $_POST['name']; ?>", ["mysql", "html"]),
    "mysql": (["mysql", "table", "database", "rows"], "SELECT * FROM users WHERE id = 3;", []),
    "java": (["java", "arraylist", "jvm", "swing"], "public static void main(String[] args) { }",
             ["android", "sql"]),
    "android": (["android", "activity", "layout", "emulator"], "setContentView(R.layout.main);", []),
    "c++": (["c++", "pointer", "template", "vector"], "std::vector<int> v(10);", ["linux"]),
    "html": (["html", "div", "form", "page"], "<div class=\"box\"><form></form></div>", ["css"]),
    "css": (["css", "margin", "font", "style"], "div.box { margin: 0 auto; }", []),
    "sql": (["sql", "query", "join", "select"], "SELECT a.id FROM a JOIN b ON a.id = b.a_id;", []),
    "linux": (["linux", "bash", "ubuntu", "shell"], "grep -r foo . | wc -l", []),
    "regex": (["regex", "pattern", "match", "replace"], "re.sub(r'\\d+', '', text)", []),
    "ios": (["ios", "iphone", "xcode", "uiview"], "[self.view addSubview:label];", []),
}
LANGUAGES = ["python", "javascript", "c#", "php", "java", "c++", "ios", "linux", "sql"]
ASKING = ["How to", "How do I", "Why does", "Best way to", "Cannot", "Problem with", "Is it possible to"]
DOING = ["get", "parse", "convert", "sort", "load", "update", "remove", "call", "find", "read"]
THINGS = ["the value", "a string", "an array", "the file", "the date", "a list", "the output", "an object"]


def _question(rng: np.random.Generator) -> tuple[str, str, str]:
    """A title, an HTML body and its tags: a language, maybe tags that go with it; their words in the text."""
    tags = [str(rng.choice(LANGUAGES, p=[0.2, 0.18, 0.14, 0.14, 0.14, 0.06, 0.05, 0.05, 0.04]))]
    for extra in QUESTION_TAGS[tags[0]][2]:
        if rng.random() < 0.3:
            tags.append(extra)
    words = [str(rng.choice(QUESTION_TAGS[t][0])) for t in tags if rng.random() < 0.75]
    title = f"{rng.choice(ASKING)} {rng.choice(DOING)} {rng.choice(THINGS)}" + (
        f" in {' '.join(words)}" if words else "") + str(rng.choice(["?", "", " ?"]))
    code = QUESTION_TAGS[str(rng.choice(tags))][1]
    said = " ".join(str(rng.choice(QUESTION_TAGS[t][0])) for t in tags for _ in range(int(rng.integers(0, 3))))
    body = (f"<p>I am trying to {rng.choice(DOING)} {rng.choice(THINGS)} {said}, but it does not work.</p>\n\n"
            f"<pre><code>{code}\n</code></pre>\n\n<p>What am I doing wrong? Thanks, \"{rng.choice(THINGS)}\".</p>\n")
    return title, body, " ".join(tags)


def keywords(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """facebook-recruiting-iii-keyword-extraction: train.csv (Id, Title, Body as HTML with newlines and quotes,
    Tags space-separated, e.g. `php mysql`), test.csv without Tags, in shuffled Id order; the sample keeps Title
    and Body and says `javascript c# python php java` for every question. Some questions are posted twice (the
    real Train.csv repeats many). grade.py computes micro F1 over the binarised tag sets, counting only tags
    that occur in the test answers (MultiLabelBinarizer(classes=the answers' tags)), not Kaggle's mean F1."""
    n, n_train = 2000, 1800
    questions = [_question(rng) for _ in range(n)]
    for i in rng.choice(n, n // 10, replace=False):  # a reposted question: same text, same tags, a new Id
        questions[i] = questions[int(rng.integers(0, n))]
    ids = rng.permutation(rng.choice(np.arange(1, 6034196), n, replace=False))
    frame = pd.DataFrame({"Id": ids.astype(str), "Title": [q[0] for q in questions], "Body": [q[1] for q in questions],
                          "Tags": [q[2] for q in questions]})
    test = frame.iloc[n_train:]
    return split(frame, n_train, folder, "Id", ["Tags"],
                 {"Title": test["Title"], "Body": test["Body"], "Tags": "javascript c# python php java"})


SUBJECTS = {  # noun: (its usual adjectives, its usual verbs)
    "government": (["new", "local"], ["announced", "rejected"]), "company": (["big", "small"], ["sold", "bought"]),
    "team": (["young", "home"], ["won", "lost"]), "minister": (["former", "foreign"], ["said", "announced"]),
    "police": (["local", "armed"], ["arrested", "found"]), "market": (["stock", "global"], ["rose", "fell"]),
    "report": (["annual", "new"], ["showed", "found"]), "court": (["high", "supreme"], ["ruled", "rejected"]),
}
OBJECTS = {"announced": ["plans", "cuts"], "rejected": ["the plan", "the offer"], "sold": ["shares", "the unit"],
           "bought": ["shares", "a rival"], "won": ["the match", "the title"], "lost": ["the match", "the final"],
           "said": ["on Monday", "on Tuesday"], "arrested": ["two men", "a suspect"], "found": ["evidence", "a body"],
           "rose": ["sharply", "slightly"], "fell": ["sharply", "again"], "showed": ["growth", "losses"],
           "ruled": ["on Friday", "in favour"]}
PEOPLE = ["Mr Smith", "Obama", "Brown", "Mrs Clinton", "Sarkozy"]


def _news(rng: np.random.Generator) -> str:
    """A tokenised news sentence (punctuation a word of its own, ending in a period); nouns keep their usual
    adjectives and verbs their usual objects, so a missing word can be told from its neighbours."""
    noun = str(rng.choice(list(SUBJECTS)))
    adjectives, verbs = SUBJECTS[noun]
    adjective = str(rng.choice(adjectives)) if rng.random() < 0.8 else str(rng.choice(["other", "last", "main"]))
    verb = str(rng.choice(verbs))
    clause = f"the {adjective} {noun} {verb} {rng.choice(OBJECTS[verb])}"
    shape = rng.integers(0, 4)
    if shape == 1:
        clause = f"{rng.choice(PEOPLE)} said {clause}"
    elif shape == 2:
        clause = f"In {rng.integers(1990, 2012)} , {clause}"
    elif shape == 3:  # a quotation: the quote marks are words too, and test_v2.txt doubles them
        clause = f"\" {clause[0].upper() + clause[1:]} , \" {rng.choice(PEOPLE)} said"
    tails = ["", " on Monday", f" by {rng.integers(2, 40)} per cent", " in London"]
    clause += str(rng.choice(tails, p=[0.55, 0.15, 0.2, 0.1]))
    return clause[0].upper() + clause[1:] + " ."


def imputation(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """billion-word-imputation: train_v2.txt (a tokenised sentence per line) and test_v2.txt (`"id","sentence"`,
    ids from 0, each test sentence missing one word that is neither its first nor its last, `"` doubled inside
    the quoted sentence), each shipped only as a zip archive; the public folder has no sample submission:
    prepare.py keeps a copy of test_v2.txt as private/sample_submission.csv (written here beside `folder`),
    which MLE-bench and `agent grade` read. Mean Levenshtein distance to the original sentence."""
    n, n_test = 4000, 400
    sentences = [_news(rng) for _ in range(n)]
    is_test = np.zeros(n, dtype=bool)
    is_test[rng.choice(n, n_test, replace=False)] = True
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train_v2.txt").write_text("".join(s + "\n" for s, t in zip(sentences, is_test) if not t))
    originals, shown = [], []
    for sentence in (s for s, t in zip(sentences, is_test) if t):
        words = sentence.split()
        drop = int(rng.integers(1, len(words) - 1))
        originals.append(sentence)
        shown.append(" ".join(words[:drop] + words[drop + 1:]))
    lines = "".join(f'{i},"{s.replace(chr(34), chr(34) * 2)}"\n' for i, s in enumerate(shown))
    (folder / "test_v2.txt").write_text('"id","sentence"\n' + lines)
    private = folder.parent / "private"
    private.mkdir(parents=True, exist_ok=True)
    (private / "sample_submission.csv").write_text('"id","sentence"\n' + lines)
    zip_away(folder / "train_v2.txt"), zip_away(folder / "test_v2.txt")
    return pd.DataFrame({"id": range(n_test), "sentence": originals})


NOTEBOOK_STEPS = [  # what a step's code does, the words a markdown cell before it uses
    ("import numpy as np\nimport pandas as pd", "Import the libraries"),
    ("import matplotlib.pyplot as plt\nimport seaborn as sns\n%matplotlib inline", "Plotting libraries"),
    ("{df} = pd.read_csv('../input/train.csv')\ntest = pd.read_csv('../input/test.csv')", "Load the data"),
    ("{df}.head()", "A first look at the rows"),
    ("{df}.info()\n{df}.describe()", "Column types and summary statistics"),
    ("{df}.isnull().sum()", "Missing values"),
    ("{df} = {df}.fillna({df}.median())", "Fill the missing values with the median"),
    ("sns.countplot(x='target', data={df})\nplt.show()", "Target distribution plot"),
    ("corr = {df}.corr()\nsns.heatmap(corr, annot=True)", "Correlation heatmap"),
    ("{df}['family'] = {df}['sibsp'] + {df}['parch']", "Feature engineering: family size"),
    ("X = {df}.drop('target', axis=1)\ny = {df}['target']\nX_train, X_val, y_train, y_val = train_test_split(X, y)",
     "Split into train and validation sets"),
    ("model = RandomForestClassifier(n_estimators=200)\nmodel.fit(X_train, y_train)", "Train a random forest model"),
    ("pred = model.predict(X_val)\nprint(accuracy_score(y_val, pred))", "Evaluate the accuracy on validation"),
    ("sub = pd.DataFrame({{'id': test['id'], 'target': model.predict(test)}})\n"
     "sub.to_csv('submission.csv', index=False)", "Make the submission file"),
]


def _notebook(rng: np.random.Generator, steps: list[int]) -> list[tuple[str, str]]:
    """(cell_type, source) in the notebook's true order: a title, then per step an optional markdown cell that
    names it and one or two code cells, sometimes a closing note."""
    df = str(rng.choice(["df", "train", "data"]))
    cells = [("markdown", f"# {rng.choice(['Titanic', 'House prices', 'Churn'])}: "
                          f"{rng.choice(['EDA and baseline', 'a simple model', 'beginner notebook'])}")]
    for step in steps:
        code, title = NOTEBOOK_STEPS[step]
        if rng.random() < 0.45:
            cells.append(("markdown", f"{'#' * int(rng.integers(2, 4))} {title}"
                                      + str(rng.choice(["", "\n\nLet's do it.", f"\n\nWe use `{df}` here."]))))
        cells.append(("code", code.format(df=df)))
        if rng.random() < 0.2:
            cells.append(("code", f"{df}.shape" if rng.random() < 0.5 else "print('done')"))
    if rng.random() < 0.3:
        cells.append(("markdown", "Thanks for reading! Please **upvote** if this helped."))
    return cells


def notebooks(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """AI4Code: `train/<id>.json` and `test/<id>.json` notebooks ({"cell_type": {cell id: "code" or "markdown"},
    "source": {cell id: text}}; ids of 14 and 8 hex digits) with the code cells in their true order and the
    markdown cells shuffled after them, as Kaggle ships train and MLE-bench copies test; train_orders.csv (id,
    cell_order), train_ancestors.csv (id, ancestor_id, parent_id; shuffled, test notebooks dropped); the test is
    whole fork families taken in that shuffled order until the test size is filled, so no test notebook has a
    relative in train. The sample gives each test notebook's cells in file order. Kendall tau, pooled."""
    families = []
    while sum(len(f) for f in families) < 320:
        size = 1 if rng.random() < 0.75 else int(rng.integers(2, 5))
        steps = sorted(rng.choice(len(NOTEBOOK_STEPS), int(rng.integers(5, 12)), replace=False))
        families.append([[s for s in steps if rng.random() < 0.9] or steps for _ in range(size)])  # forks
    n = sum(len(f) for f in families)
    ids, ancestors = hex_ids(rng, n, 14), hex_ids(rng, len(families), 8)
    orders, lineage, at = {}, [], 0
    for family, ancestor in zip(families, ancestors):
        for k, steps in enumerate(family):
            notebook_id, cells = ids[at], _notebook(rng, steps)
            at += 1
            cell_ids = hex_ids(rng, len(cells), 8)
            orders[notebook_id] = " ".join(cell_ids)
            code = [i for i, (kind, _) in zip(cell_ids, cells) if kind == "code"]
            markdown = [i for i, (kind, _) in zip(cell_ids, cells) if kind == "markdown"]
            shown = code + list(rng.permutation(markdown))
            by_id = dict(zip(cell_ids, cells))
            lineage.append({"id": notebook_id, "ancestor_id": ancestor,
                            "parent_id": lineage[-1]["id"] if k and rng.random() < 0.8 else None,
                            "file": {"cell_type": {i: by_id[i][0] for i in shown},
                                     "source": {i: by_id[i][1] for i in shown}}})
    lineage = [lineage[i] for i in rng.permutation(n)]  # prepare.py shuffles train_ancestors.csv
    test_size, test_ids = 40, set()
    for ancestor in dict.fromkeys(row["ancestor_id"] for row in lineage):
        family = [row["id"] for row in lineage if row["ancestor_id"] == ancestor]
        if len(test_ids) + len(family) <= test_size:
            test_ids.update(family)
    for row in lineage:
        path = folder / ("test" if row["id"] in test_ids else "train") / f"{row['id']}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(row.pop("file"), separators=(",", ":")))
    table = pd.DataFrame({"id": sorted(orders), "cell_order": [orders[i] for i in sorted(orders)]})
    table[~table["id"].isin(test_ids)].to_csv(folder / "train_orders.csv", index=False)
    pd.DataFrame([r for r in lineage if r["id"] not in test_ids]).to_csv(folder / "train_ancestors.csv", index=False)
    answers = table[table["id"].isin(test_ids)]
    sample = [" ".join(json.loads((folder / "test" / f"{i}.json").read_text())["cell_type"]) for i in answers["id"]]
    answers[["id"]].assign(cell_order=sample).to_csv(folder / "sample_submission.csv", index=False)
    return answers


VALENCE = {"C": 4, "N": 3, "O": 2}
BOND = {"C": 1.09, "N": 1.01, "O": 0.96}  # length of a bond to hydrogen, Å
COUPLING = {"1JHC": (94.0, -150.0), "1JHN": (48.0, -90.0), "2JHH": (-11.0, 6.0), "2JHC": (-1.0, -4.0),
            "2JHN": (3.0, -3.0), "3JHH": (5.0, 3.0), "3JHC": (4.0, 2.5), "3JHN": (1.0, 1.0)}  # (mean, per Å)
TYPICAL = {"1": 1.07, "2": 2.1, "3": 2.9}  # a path's usual distance, Å


def _molecule(rng: np.random.Generator) -> tuple[list[str], np.ndarray, list[set[int]]]:
    """Elements, coordinates (Å) and bonds of a small organic molecule, heavy atoms first as in QM9."""
    elements, position, neighbours = ["C"], [np.zeros(3)], [set()]
    for _ in range(int(rng.integers(1, 4))):
        free = [i for i, e in enumerate(elements) if len(neighbours[i]) < VALENCE[e] - 1]
        carrier = int(rng.choice(free))
        for _ in range(50):  # a place not too close to the atoms already there
            step = rng.normal(size=3)
            spot = position[carrier] + 1.5 * step / np.linalg.norm(step)
            if min(np.linalg.norm(spot - p) for p in position) > 1.3:
                break
        elements.append(str(rng.choice(["C", "N", "O"], p=[0.65, 0.25, 0.1])))
        position.append(spot)
        neighbours.append({carrier})
        neighbours[carrier].add(len(elements) - 1)
    heavy = len(elements)
    for i in range(heavy):
        for _ in range(VALENCE[elements[i]] - len(neighbours[i]) - int(rng.random() < 0.15)):
            step = rng.normal(size=3)
            length = BOND[elements[i]] + 0.01 * (VALENCE[elements[i]] - len(neighbours[i]) - 2) + rng.normal(0, 0.008)
            position.append(position[i] + length * step / np.linalg.norm(step))
            elements.append("H")
            neighbours.append({i})
            neighbours[i].add(len(elements) - 1)
    return elements, np.array(position), neighbours


def _hops(neighbours: list[set[int]], start: int) -> dict[int, int]:
    """Bonds between `start` and every atom within three bonds of it."""
    hops, frontier = {start: 0}, [start]
    for depth in (1, 2, 3):
        frontier = [j for i in frontier for j in neighbours[i] if j not in hops]
        hops.update({j: depth for j in frontier})
    return hops


def couplings(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """champs-scalar-coupling: train.csv (id, molecule_name `dsgdb9nsd_000123`, atom_index_0 (always an H),
    atom_index_1, type such as 2JHC, scalar_coupling_constant), test.csv without the constant, molecules split
    whole (10% to test) and written in shuffled molecule order; structures.csv (molecule_name, atom_index, atom,
    x, y, z), `structures/<molecule>.xyz`, dipole_moments.csv, magnetic_shielding_tensors.csv,
    mulliken_charges.csv, potential_energy.csv and scalar_coupling_contributions.csv (fc + sd + pso + dso = the
    constant) — all of them, structures included, for the train molecules only, as prepare.py filters them.
    The constant follows the type, the distance between the atoms and how many H its carbon holds; the test
    rows give only the type and the atom indices. The sample says 0. The mean over types of log MAE."""
    names = [f"dsgdb9nsd_{v:06d}" for v in np.sort(rng.choice(np.arange(1, 133886), 100, replace=False))]
    rows, atoms, extra = [], [], {"dipole": [], "shielding": [], "charge": [], "energy": []}
    for name in names:
        elements, xyz, neighbours = _molecule(rng)
        hydrogens = [len(neighbours[i]) - sum(elements[j] != "H" for j in neighbours[i]) for i in range(len(elements))]
        charge = np.array([{"H": 0.12, "C": -0.25, "N": -0.45, "O": -0.4}[e] for e in elements])
        charge += rng.normal(0, 0.03, len(xyz))
        for i, (element, (x, y, z)) in enumerate(zip(elements, xyz)):
            atoms.append({"molecule_name": name, "atom_index": i, "atom": element, "x": x, "y": y, "z": z})
            diagonal = {"H": 30.0, "C": 140.0, "N": 200.0, "O": 300.0}[element] + rng.normal(0, 5, 3)
            tensor = np.diag(diagonal) + rng.normal(0, 2, (3, 3))
            extra["shielding"].append({"molecule_name": name, "atom_index": i, **dict(zip(
                ["XX", "YX", "ZX", "XY", "YY", "ZY", "XZ", "YZ", "ZZ"], tensor.T.ravel()))})
            extra["charge"].append({"molecule_name": name, "atom_index": i, "mulliken_charge": charge[i]})
        dipole = (charge[:, None] * xyz).sum(axis=0)
        extra["dipole"].append({"molecule_name": name, "X": dipole[0], "Y": dipole[1], "Z": dipole[2]})
        energy = sum({"H": -0.6, "C": -38.0, "N": -54.6, "O": -75.1}[e] for e in elements) + rng.normal(0, 0.05)
        extra["energy"].append({"molecule_name": name, "potential_energy": energy})
        for a0 in (i for i, e in enumerate(elements) if e == "H"):
            for a1, depth in sorted(_hops(neighbours, a0).items()):
                if depth == 0 or elements[a1] == "O" or (elements[a1] == "H" and a1 < a0):
                    continue
                kind = f"{depth}JH{elements[a1]}"
                carrier = next(iter(neighbours[a0]))
                distance = float(np.linalg.norm(xyz[a0] - xyz[a1]))
                mean, per_angstrom = COUPLING[kind]
                noise = rng.normal(0, 0.15 * abs(mean) ** 0.5 + 0.2)
                value = (mean + per_angstrom * (distance - TYPICAL[kind[0]]) + noise
                         + 3.0 * (hydrogens[carrier] - 2) * (kind == "1JHC"))
                rows.append({"molecule_name": name, "atom_index_0": a0, "atom_index_1": a1, "type": kind,
                             "scalar_coupling_constant": round(value, 4)})
    frame = pd.DataFrame(rows)
    frame.insert(0, "id", np.arange(len(frame)))
    test_names = set(rng.choice(names, int(np.ceil(0.1 * len(names))), replace=False))
    groups = {m: g for m, g in frame.groupby("molecule_name", sort=False)}
    order = ([m for m in rng.permutation(names) if m not in test_names]
             + [m for m in rng.permutation(names) if m in test_names])
    frame = pd.concat([groups[m] for m in order], ignore_index=True)
    n_train = int((~frame["molecule_name"].isin(test_names)).sum())
    target = "scalar_coupling_constant"
    split(frame, n_train, folder, "id", [target], {target: 0})
    train = frame.iloc[:n_train]
    kept = set(train["molecule_name"])
    structures = pd.DataFrame(atoms)
    structures = structures[structures["molecule_name"].isin(kept)]
    structures.to_csv(folder / "structures.csv", index=False)
    (folder / "structures").mkdir(exist_ok=True)
    for name, molecule in structures.groupby("molecule_name"):
        lines = [f"{len(molecule)}", ""] + [f"{a} {x:.10f} {y:.10f} {z:.10f}" for a, x, y, z in
                                           molecule[["atom", "x", "y", "z"]].itertuples(index=False)]
        (folder / "structures" / f"{name}.xyz").write_text("\n".join(lines) + "\n")
    for key, file in (("dipole", "dipole_moments"), ("shielding", "magnetic_shielding_tensors"),
                      ("charge", "mulliken_charges"), ("energy", "potential_energy")):
        table = pd.DataFrame(extra[key])
        table[table["molecule_name"].isin(kept)].to_csv(folder / f"{file}.csv", index=False)
    sd, pso, dso = (rng.normal(0, s, n_train).round(4) for s in (0.1, 0.4, 0.3))
    contributions = train[["molecule_name", "atom_index_0", "atom_index_1", "type"]].assign(
        fc=(train[target] - sd - pso - dso).round(4), sd=sd, pso=pso, dso=dso)
    contributions.sort_values(["molecule_name", "atom_index_0", "atom_index_1"]).to_csv(
        folder / "scalar_coupling_contributions.csv", index=False)
    (folder.parent / "competition.yaml").write_text("group_column: type\n")  # what grade.py averages over
    return frame.iloc[n_train:]


LIGHT = 0.2998  # m/ns


def _geometry() -> pd.DataFrame:
    """5160 sensors on 86 strings 125 m apart on a triangular grid, 60 per string from 500 m to -500 m."""
    lattice = np.array([(125 * (i + j / 2), 125 * j * np.sqrt(3) / 2) for i in range(-8, 9) for j in range(-8, 9)])
    strings = lattice[np.argsort(np.hypot(*lattice.T), kind="stable")[:86]]
    x, z = np.repeat(strings, 60, axis=0), np.tile(np.linspace(500, -500, 60), 86)
    return pd.DataFrame({"sensor_id": np.arange(5160), "x": x[:, 0].round(2), "y": x[:, 1].round(2), "z": z.round(2)})


def _event(rng: np.random.Generator, sensors: np.ndarray) -> tuple[float, float, pd.DataFrame]:
    """A muon track through the ice: sensors near it see light in the order the muon passes them (it travels
    away from the direction the neutrino came from), plus noise hits, mostly auxiliary."""
    while True:
        azimuth, zenith = rng.uniform(0, 2 * np.pi), np.arccos(rng.uniform(-1, 1))
        came_from = np.array([np.cos(azimuth) * np.sin(zenith), np.sin(azimuth) * np.sin(zenith), np.cos(zenith)])
        relative = sensors - rng.uniform(-400, 400, 3)
        along = relative @ -came_from
        apart = np.linalg.norm(relative + along[:, None] * came_from, axis=1)
        hit = (rng.random(len(sensors)) < 0.9 * np.exp(-apart / 35)) & (np.abs(along) < 600)
        if hit.sum() >= 8:
            break
    time = 10000 + along[hit] / LIGHT + apart[hit] / 0.22 * 0.3 + rng.exponential(8, hit.sum())
    noise = rng.choice(len(sensors), int(rng.integers(3, 12)), replace=False)
    pulses = pd.DataFrame({
        "sensor_id": np.r_[np.flatnonzero(hit), noise].astype(np.int16),
        "time": np.r_[time, rng.uniform(time.min() - 2000, time.max() + 2000, len(noise))].astype(np.int64),
        "charge": np.r_[rng.lognormal(0, 0.5, hit.sum()) * (1 + 3 * np.exp(-apart[hit] / 20)),
                        rng.lognormal(-0.3, 0.4, len(noise))].astype(np.float16).astype(np.float32),
        "auxiliary": np.r_[rng.random(hit.sum()) < 0.1, rng.random(len(noise)) < 0.7]})
    return azimuth, zenith, pulses.sort_values("time", kind="stable")


def neutrinos(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """icecube-neutrinos-in-deep-ice: pulses in `train/batch_<n>.parquet` and `test/batch_<n>.parquet` (index
    event_id; sensor_id, time in ns, charge, auxiliary), batches split whole (10% to test), train_meta.parquet
    and test_meta.parquet (batch_id, event_id, first_pulse_index, last_pulse_index, and in train azimuth and
    zenith in radians), sensor_geometry.csv (sensor_id, x, y, z of 5160 sensors); the sample asks for event_id,
    azimuth 1, zenith 1. Mean angular error. 12 batches of 120 events of about 35 pulses each; prepare.py
    writes the meta tables with fastparquet, these are written with pyarrow."""
    geometry = _geometry()
    folder.mkdir(parents=True, exist_ok=True)
    geometry.to_csv(folder / "sensor_geometry.csv", index=False)
    sensors = geometry[["x", "y", "z"]].to_numpy()
    batches = np.arange(1, 13)
    test_batches = set(rng.choice(batches, int(np.ceil(0.1 * len(batches))), replace=False))
    meta, event_id = [], 0
    for batch in batches:
        pulses, first = [], 0
        for _ in range(120):
            event_id += int(rng.integers(1, 40))
            azimuth, zenith, event = _event(rng, sensors)
            pulses.append(event.assign(event_id=event_id))
            meta.append({"batch_id": batch, "event_id": event_id, "first_pulse_index": first,
                         "last_pulse_index": first + len(event) - 1, "azimuth": azimuth, "zenith": zenith})
            first += len(event)
        part = "test" if batch in test_batches else "train"
        (folder / part).mkdir(exist_ok=True)
        pd.concat(pulses, ignore_index=True).set_index("event_id").to_parquet(folder / part / f"batch_{batch}.parquet")
    meta = pd.DataFrame(meta)
    is_test = meta["batch_id"].isin(test_batches)
    meta[~is_test].reset_index(drop=True).to_parquet(folder / "train_meta.parquet", index=False)
    test = meta[is_test].reset_index(drop=True)
    test.drop(columns=["azimuth", "zenith"]).to_parquet(folder / "test_meta.parquet", index=False)
    test[["event_id"]].assign(azimuth=1, zenith=1).to_csv(folder / "sample_submission.csv", index=False)
    return test[["event_id", "azimuth", "zenith"]]


LAYOUTS = {
    "osic-pulmonary-fibrosis-progression": ("a forecast and its confidence; last 3 weeks scored",
                                            "laplace_log_likelihood", fibrosis),
    "facebook-recruiting-iii-keyword-extraction": ("tag sets; the sample keeps Title and Body", "f1_micro_label_sets",
                                                   keywords),
    "billion-word-imputation": ("zipped text; restore a dropped word", "levenshtein_mean", imputation),
    "AI4Code": ("JSON notebooks; order the cells", "kendall_tau", notebooks),
    "champs-scalar-coupling": ("atom pairs; log MAE per type; no test structures", "mean_log_mae_by_group", couplings),
    "icecube-neutrinos-in-deep-ice": ("parquet pulse batches; a direction per event", "mean_angular_error", neutrinos),
}
